"""What checking signatures costs a warm ``zoo pull``, whole processes, in the same run.

The baseline is a warm pull of ``osnet_demo`` from a registry that names no trusted key; the measured run is
the same pull once the registry trusts a key (``zoo publish --sign`` to a mirror folder recorded it): the
signature kept in the cache is verified again by model-signing on every use. The two are interleaved so
load on the machine hits both alike; medians of ``--runs`` are printed with their difference and ratio, and
the one-off cost of signing (the publish) beside them.

Needs the sign extra: pip install -e '.[sign]'. Run: python benchmarks/bench_signing.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def zoo(env: dict[str, str], *args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "zoo", *args], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("registry", "model_cards"):
            shutil.copytree(REPO / name, work / "signed" / name)
            shutil.copytree(REPO / name, work / "plain" / name)
        key = work / "release.key"
        key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        plain = {**os.environ, "ZOO_REGISTRY": str(work / "plain" / "registry"), "ZOO_CACHE_DIR": str(work / "c1")}
        signed = {**os.environ, "ZOO_REGISTRY": str(work / "signed" / "registry"), "ZOO_CACHE_DIR": str(work / "c2")}
        sign_time = zoo(signed, "publish", "osnet_demo", str(work / "mirror"), "--sign", str(key))
        zoo(plain, "pull", "osnet_demo")  # warm both caches (and the signature kept in the second)
        zoo(signed, "pull", "osnet_demo")
        times: dict[str, list[float]] = {"plain": [], "signed": []}
        for _ in range(args.runs):
            times["plain"].append(zoo(plain, "pull", "osnet_demo"))
            times["signed"].append(zoo(signed, "pull", "osnet_demo"))
    base, checked = (statistics.median(times[k]) * 1000 for k in ("plain", "signed"))
    print(f"warm pull, no trusted key      {base:8.1f} ms (median of {args.runs})")
    print(f"warm pull, signature verified  {checked:8.1f} ms  +{checked - base:.1f} ms  x{checked / base:.2f}")
    print(f"publish --sign to a mirror     {sign_time * 1000:8.1f} ms (one run: fetch, sign one file, write, record)")


if __name__ == "__main__":
    main()
