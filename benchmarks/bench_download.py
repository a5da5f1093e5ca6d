"""`zoo mirror` and `zoo pull` against sequential curl, through a throttled loopback server this script starts.

Upstream hosts answer each request after a round trip and cap each connection; the server here does both:
it waits ``--latency-ms`` (default 50) before answering every request and sends at most ``--rate-mb``
(default 12) MB/s on each connection, honouring ``Range: bytes=A-B`` as real servers do. Two cases, each
timed as whole processes (start-up included) with fresh caches, interleaved with the baseline:

1. ``zoo mirror`` of 8 artifacts of 12 MB versus curl fetching the 8 URLs one after another;
2. ``zoo pull`` of one 96 MB artifact versus one curl.

zoo verifies sha256 and size of every artifact itself (it refuses to write anything else); the script
re-hashes every file both sides wrote as well. Ratios are zoo's time over curl's: below 1 zoo is faster.
zoo uses its defaults (``ZOO_HTTP_CONNECTIONS`` unset: 8 connections) unless ``--connections`` is given.

Run: python benchmarks/bench_download.py [--runs 3] [--connections N]
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

MB = 1 << 20


def handler(files: dict[str, bytes], latency: float, rate: float) -> type[http.server.BaseHTTPRequestHandler]:
    class Throttled(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            time.sleep(latency)  # one round trip per request
            data = files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            start, end = 0, len(data)
            rng = self.headers.get("Range")
            if rng:
                first, _, last = rng.removeprefix("bytes=").partition("-")
                start, end = int(first), min(int(last) + 1, len(data)) if last else len(data)
            self.send_response(206 if rng else 200)
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            began, sent, step = time.perf_counter(), 0, 64 << 10
            view = memoryview(data)[start:end]
            try:
                while sent < len(view):
                    self.wfile.write(view[sent:sent + step])
                    sent += min(step, len(view) - sent)
                    ahead = sent / rate - (time.perf_counter() - began)
                    if ahead > 0:  # this connection's cap
                        time.sleep(ahead)
            except OSError:
                pass

    return Throttled


def generated(size: int, seed: int) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * (MB // 32)
    return b"".join(i.to_bytes(8, "little") + block[8:] for i in range(size // MB))


def write_registry(path: Path, url: str, files: dict[str, bytes]) -> None:
    models = {}
    for name, data in files.items():
        model_id = name.strip("/").split("/")[0]
        models[model_id] = {"family": "bench", "title": model_id, "task": "re_identification", "artifacts": [
            {"file": name.rsplit("/", 1)[1], "format": "tflite", "precision": "int8", "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "sources": [url + name]}]}
    path.write_text(yaml.safe_dump({"schema_version": 1, "name": "bench", "models": models}), encoding="utf-8")


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def zoo_command() -> list[str]:
    script = Path(sys.executable).with_name("zoo")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "zoo"]


def check(paths: list[Path], files: dict[str, bytes]) -> None:
    """Every byte each side wrote, against what was served."""
    wanted = {hashlib.sha256(d).hexdigest() for d in files.values()}
    got = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    if got != wanted:
        sys.exit(f"bench_download: wrong bytes written ({len(wanted - got)} artifacts differ)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rate-mb", type=float, default=12.0, help="MB/s per connection (MB = 10^6 bytes)")
    parser.add_argument("--connections", type=int, help="zoo --connections (default: zoo's own default)")
    args = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("bench_download: curl is needed for the baseline")
    small = {f"/m{i}/m{i}_int8.tflite": generated(12 * MB, i) for i in range(8)}
    big = {"/big/big_int8.tflite": generated(96 * MB, 99)}
    served = {**small, **big}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(served, args.latency_ms / 1e3,
                                                                          args.rate_mb * 1e6))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    extra = ["--connections", str(args.connections)] if args.connections else []
    times: dict[str, list[float]] = {"mirror": [], "curl 8": [], "pull": [], "curl 1": []}
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as tmp:
        tmp = Path(tmp)
        registry = tmp / "registry.yaml"
        write_registry(registry, url, served)
        env = {**os.environ, "NO_PROXY": "127.0.0.1", "ZOO_CACHE_DIR": str(tmp / "cache")}
        env.pop("ZOO_HTTP_CONNECTIONS", None) if not args.connections else None
        curl = ["curl", "-sf", "--noproxy", "127.0.0.1"]
        script = "; ".join(" ".join([*curl, "-o", str(tmp / "curl" / f"{i}.out"), url + name])
                           for i, name in enumerate(small))
        timed(zoo_command() + ["list", "--registry", str(registry)], env)  # the registry's schema verdict, cached
        for _ in range(args.runs):
            for what in times:
                for folder in ("blobs", "models", "partial", "mirror", "curl"):
                    shutil.rmtree(tmp / "cache" / folder if folder in ("blobs", "models", "partial") else tmp / folder,
                                  ignore_errors=True)
                (tmp / "curl").mkdir()
                if what == "mirror":
                    cmd = [*zoo_command(), "mirror", str(tmp / "mirror"), *(n.split("/")[1] for n in small),
                           "--registry", str(registry), "--quiet", *extra]
                    times[what].append(timed(cmd, env))
                    check(sorted((tmp / "mirror").rglob("*.tflite")), small)
                elif what == "pull":
                    cmd = [*zoo_command(), "pull", "big", "--registry", str(registry), "--quiet", *extra]
                    times[what].append(timed(cmd, env))
                    check([p for p in (tmp / "cache" / "blobs").rglob("*") if p.is_file() and len(p.name) == 64], big)
                elif what == "curl 8":
                    times[what].append(timed(["sh", "-c", script], env))  # one after another, as a script would
                    check(sorted((tmp / "curl").iterdir()), small)
                else:
                    times[what].append(timed([*curl, "-o", str(tmp / "curl" / "big.out"), url + next(iter(big))], env))
                    check(sorted((tmp / "curl").iterdir()), big)
    server.shutdown()
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"throttled loopback server: {args.latency_ms:g} ms per request, {args.rate_mb:g} MB/s per connection; "
          f"medians of {args.runs} runs, whole processes, every byte verified")
    print(f"zoo mirror 8 x 12 MB   {median['mirror']:6.2f} s   sequential curl {median['curl 8']:6.2f} s   "
          f"ratio {median['mirror'] / median['curl 8']:.2f}")
    print(f"zoo pull 96 MB         {median['pull']:6.2f} s   one curl        {median['curl 1']:6.2f} s   "
          f"ratio {median['pull'] / median['curl 1']:.2f}")


if __name__ == "__main__":
    main()
