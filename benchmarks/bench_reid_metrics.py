"""Benchmark ``zoo.reid.evaluate_rank`` against the peers' own code on a Market-1501-sized problem.

The peers are fetched from PyPI at run time into a temporary folder and never committed:
torchreid 0.2.5's numpy ``evaluate_rank`` (sdist, ``torchreid/reid/metrics/rank.py``, loaded by path)
and fast-reid 1.4.0's Cython ``evaluate_cy`` (wheel, ``rank_cylib/rank_cy.pyx``, compiled here).
Needs network access to PyPI and ``pip install 'zoo[bench]'`` (Cython, setuptools).

    python benchmarks/bench_reid_metrics.py [--repeat 3]

Prints each implementation's best time, the ratios against ours, and the largest differences in mAP,
CMC and mINP. Distances are tie-free (ties are ordered arbitrarily by the peers' unstable argsort).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from zoo.reid import evaluate_rank

NUM_QUERY, NUM_GALLERY, NUM_IDS, NUM_CAMS = 3368, 15913, 751, 6
TORCHREID_QUERIES = 337  # a tenth of the queries
RANK_PY = "torchreid-0.2.5/torchreid/reid/metrics/rank.py"
RANK_PYX = "fastreid/evaluation/rank_cylib/rank_cy.pyx"
SETUP = """
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup
setup(ext_modules=cythonize([Extension("rank_cy", ["rank_cy.pyx"], include_dirs=[numpy.get_include()])],
                            quiet=True, compiler_directives={"language_level": 3}))
"""


def pip_download(spec: str, dest: Path, *extra: str) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", *extra, spec, "-d", str(dest)], check=True)
    name = spec.split("==")[0]
    return next(p for p in dest.iterdir() if p.name.lower().startswith(name))


def load_peers(work: Path):
    """torchreid's numpy evaluator and fast-reid's compiled Cython evaluator, built in ``work``."""
    sdist = pip_download("torchreid==0.2.5", work, "--no-binary", ":all:")
    with tarfile.open(sdist) as tar:
        (work / "rank.py").write_bytes(tar.extractfile(RANK_PY).read())
    spec = importlib.util.spec_from_file_location("torchreid_rank", work / "rank.py")
    torchreid_rank = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(torchreid_rank)  # its Cython import fails and it falls back to numpy

    wheel = pip_download("fastreid==1.4.0", work)
    with zipfile.ZipFile(wheel) as zf:
        (work / "rank_cy.pyx").write_bytes(zf.read(RANK_PYX))
    (work / "setup.py").write_text(SETUP)
    subprocess.run([sys.executable, "setup.py", "-q", "build_ext", "--inplace"], cwd=work, check=True,
                   stdout=subprocess.DEVNULL)
    sys.path.insert(0, str(work))
    import rank_cy

    return torchreid_rank, rank_cy


def market_like(seed: int = 0):
    """Tie-free float32 distances with Market-1501's shape, ids (0 = distractor) and 6 cameras.

    True matches are pulled closer so that the metrics are far from 0 and 1 (every branch is exercised).
    """
    rng = np.random.default_rng(seed)
    g_pids = rng.integers(0, NUM_IDS, NUM_GALLERY)
    q_pids = rng.integers(1, NUM_IDS, NUM_QUERY)
    g_cams, q_cams = rng.integers(0, NUM_CAMS, NUM_GALLERY), rng.integers(0, NUM_CAMS, NUM_QUERY)
    dist = np.empty((NUM_QUERY, NUM_GALLERY), np.float32)
    for start in range(0, NUM_QUERY, 256):  # rank-transform each row: distinct values, no ties
        rows = slice(start, start + 256)
        score = rng.random((len(q_pids[rows]), NUM_GALLERY)) - 0.35 * (q_pids[rows, None] == g_pids[None, :])
        dist[rows] = np.argsort(np.argsort(score, axis=1), axis=1) / np.float32(NUM_GALLERY)
    return dist, q_pids, g_pids, q_cams, g_cams


def best_time(fn, repeat: int):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        torchreid_rank, rank_cy = load_peers(Path(tmp))
        problem = market_like()
        assert all(len(np.unique(row)) == NUM_GALLERY for row in problem[0][:50]), "distances must be tie-free"
        ours_t, ours = best_time(lambda: evaluate_rank(*problem), args.repeat)
        fast_t, (f_cmc, f_ap, f_inp) = best_time(lambda: rank_cy.evaluate_cy(*problem, 50), args.repeat)
        # torchreid's per-query Python loop takes minutes on the full problem: time it on a slice
        dist, q_pids, g_pids, q_cams, g_cams = problem
        n = TORCHREID_QUERIES
        part = (dist[:n], q_pids[:n], g_pids, q_cams[:n], g_cams)
        part_t, part_ours = best_time(lambda: evaluate_rank(*part), args.repeat)
        torch_t, (t_cmc, t_map) = best_time(
            lambda: torchreid_rank.evaluate_rank(*part, max_rank=50, use_cython=False), 1
        )
    print(f"problem: {NUM_QUERY} x {NUM_GALLERY} float32 distances, {NUM_IDS} ids, {NUM_CAMS} cameras")
    print(f"result: mAP {ours.mAP:.6f}, rank-1 {ours.cmc[0]:.6f}, mINP {ours.mINP:.6f}, "
          f"{ours.num_valid_queries} valid queries")
    print(f"zoo.reid.evaluate_rank        {ours_t:7.3f} s")
    print(f"fast-reid 1.4.0 Cython        {fast_t:7.3f} s   ours is {fast_t / ours_t:5.2f}x faster")
    print(f"on the first {TORCHREID_QUERIES} queries: zoo {part_t:.3f} s, torchreid 0.2.5 numpy {torch_t:.3f} s, "
          f"ours is {torch_t / part_t:5.2f}x faster")
    print("max |difference| vs fast-reid: "
          f"mAP {abs(ours.mAP - float(np.mean(f_ap))):.2e}, CMC {np.max(np.abs(ours.cmc - f_cmc)):.2e}, "
          f"mINP {abs(ours.mINP - float(np.mean(f_inp))):.2e}")
    print(f"max |difference| vs torchreid (same slice): mAP {abs(part_ours.mAP - t_map):.2e}, "
          f"CMC {np.max(np.abs(part_ours.cmc - t_cmc)):.2e}")


if __name__ == "__main__":
    main()
