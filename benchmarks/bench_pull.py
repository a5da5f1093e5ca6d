"""How fast `zoo pull` is, as ratios against baselines run in the same process on the same machine.

1. Warm pull (artifact already cached) over bare interpreter start-up (`python -c pass`): the cost of
   zoo's imports, registry load and cache check. Lower is better; 1.0 would be free.
2. Cold pull throughput over curl's, both downloading the same 200 MB generated artifact from one
   loopback HTTP server, whole process each (start-up included), best of ``--runs``. zoo hashes, counts
   and writes while streaming; 1.0 means all of that, and Python's start-up, cost nothing. Cold means
   the artifact is not cached; the registry's schema verdict is, as after any earlier zoo command (a
   fresh cache also validates the registry once: printed on its own line).
3. The same with each side's start-up taken out (zoo: a warm pull; curl: fetching a one-byte file), so
   the download loop itself is compared with curl's.
4. The floor for any Python pull on this machine: a bare interpreter that imports only http.client and
   ``zoo.artifacts.partial`` and pours the same body through zoo's own receive/hash/write loop (no CLI, registry,
   cache bookkeeping or requests). ``zoo over floor`` is what everything else a real pull needs costs.

zoo runs as a user runs it: the ``zoo`` command pip installed beside this interpreter (``python -m zoo``
only where there is none, which also pays for runpy), from compiled bytecode, as an installed package
does (pip compiles it). The script compiles zoo's ``__pycache__`` first, because an environment with
PYTHONDONTWRITEBYTECODE set would otherwise measure recompiling zoo's modules on every run (~25 ms).

Run: python benchmarks/bench_pull.py [--size-mb 200] [--runs 3]. Nothing but zoo's own ``__pycache__``
is written outside a temp dir.
"""

from __future__ import annotations

import argparse
import functools
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

import zoo


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


FLOOR = """
import http.client, sys, types
from pathlib import Path
from zoo.artifacts.partial import PartialFile
host, port, path, size, sha256, out = sys.argv[1:]
conn = http.client.HTTPConnection(host, int(port))
conn.request("GET", path, headers={"Accept-Encoding": "identity"})
part = PartialFile(Path(out), types.SimpleNamespace(file="floor", size=int(size), sha256=sha256))
part.pour(conn.getresponse().readinto)
part.check()
"""


def zoo_command() -> list[str]:
    """The installed ``zoo`` entry point of this interpreter's environment, else ``python -m zoo``."""
    script = Path(sys.executable).with_name("zoo")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "zoo"]


def write_artifact(folder: Path, size: int) -> tuple[Path, str]:
    """``size`` bytes of incompressible data (a random block repeated with a counter), and its sha256."""
    path = folder / "gen" / "gen_int8.tflite"
    path.parent.mkdir(parents=True)
    (folder / "one-byte").write_bytes(b"x")
    block = os.urandom(1 << 20)
    digest = hashlib.sha256()
    with open(path, "wb") as fh:
        for i in range(size >> 20):
            chunk = i.to_bytes(8, "little") + block[8:]
            fh.write(chunk)
            digest.update(chunk)
    return path, digest.hexdigest()


def write_registry(folder: Path, url: str, size: int, sha256: str) -> Path:
    doc = {"schema_version": 1, "name": "bench", "models": {"gen": {
        "family": "bench", "title": "generated", "task": "re_identification",
        "artifacts": [{"file": "gen_int8.tflite", "format": "tflite", "precision": "int8", "size": size,
                       "sha256": sha256, "sources": [url]}],
    }}}
    path = folder / "registry.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(folder: Path) -> http.server.ThreadingHTTPServer:
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("bench_pull: curl is needed for the throughput baseline")
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(zoo.__file__).parent)], check=True)
    with tempfile.TemporaryDirectory(prefix="zoo-bench-") as tmp:
        tmp = Path(tmp)
        size = args.size_mb << 20
        artifact, sha256 = write_artifact(tmp / "www", size)
        server = serve(tmp / "www")
        url = f"http://127.0.0.1:{server.server_address[1]}/gen/gen_int8.tflite"
        registry = write_registry(tmp, url, size, sha256)
        env = {**os.environ, "ZOO_CACHE_DIR": str(tmp / "cache"), "NO_PROXY": "127.0.0.1"}
        pull = [*zoo_command(), "pull", "gen", "--registry", str(registry), "--quiet"]

        curl_cmd = ["curl", "-sf", "--noproxy", "127.0.0.1", "-o", str(tmp / "curl.out")]
        floor_cmd = [sys.executable, "-c", FLOOR, "127.0.0.1", str(server.server_address[1]), "/gen/gen_int8.tflite",
                     str(size), sha256, str(tmp / "floor.out")]
        cold, curl, fresh, floor = [], [], [], []
        for _ in range(args.runs):  # interleaved, so all see the same machine
            shutil.rmtree(tmp / "cache", ignore_errors=True)
            fresh.append(timed(pull, env))
            for folder in ("blobs", "models", "partial"):
                shutil.rmtree(tmp / "cache" / folder, ignore_errors=True)
            cold.append(timed(pull, env))
            (tmp / "curl.out").unlink(missing_ok=True)
            curl.append(timed([*curl_cmd, url], env))
            (tmp / "floor.out").unlink(missing_ok=True)
            floor.append(timed(floor_cmd, env))
        warm = [timed(pull, env) for _ in range(args.runs * 4)]
        bare = [timed([sys.executable, "-c", "pass"], env) for _ in range(args.runs * 4)]
        curl_start = [timed([*curl_cmd, url.replace("gen/gen_int8.tflite", "one-byte")], env)
                      for _ in range(args.runs * 4)]
        server.shutdown()

    mb = size / (1 << 20)
    warm_s, bare_s = statistics.median(warm), statistics.median(bare)
    zoo_rate, curl_rate = mb / min(cold), mb / min(curl)
    print(f"zoo command         {' '.join(pull[:-5])}")
    print(f"warm pull           {warm_s * 1000:7.1f} ms   (median of {len(warm)})")
    print(f"python -c pass      {bare_s * 1000:7.1f} ms   (median of {len(bare)})")
    print(f"warm / bare         {warm_s / bare_s:7.2f} x")
    print(f"cold pull {mb:.0f} MB    {zoo_rate:7.0f} MB/s (best of {len(cold)}, includes start-up and sha256)")
    print(f"fresh cache {mb:.0f} MB  {mb / min(fresh):7.0f} MB/s (best of {len(fresh)}, also validates the registry)")
    print(f"curl {mb:.0f} MB         {curl_rate:7.0f} MB/s (best of {len(curl)})")
    print(f"zoo / curl          {zoo_rate / curl_rate:7.2f} x throughput")
    zoo_loop = mb / (min(cold) - min(warm))
    curl_loop = mb / (min(curl) - min(curl_start))
    print(f"download only       {zoo_loop:7.0f} MB/s vs curl's {curl_loop:.0f} MB/s (start-ups of "
          f"{min(warm) * 1000:.0f} and {min(curl_start) * 1000:.0f} ms taken out)")
    print(f"zoo / curl (loop)   {zoo_loop / curl_loop:7.2f} x throughput")
    print(f"floor {mb:.0f} MB        {mb / min(floor):7.0f} MB/s (best of {len(floor)}: bare python, http.client and "
          "zoo's loop)")
    print(f"floor / curl        {mb / min(floor) / curl_rate:7.2f} x throughput")
    print(f"zoo over floor      {(min(cold) - min(floor)) * 1000:7.0f} ms (CLI, registry, cache and requests)")


if __name__ == "__main__":
    main()
