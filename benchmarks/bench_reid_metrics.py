"""Benchmark ``zoo.reid.metrics`` against the peers' own code (Market-1501 size) and against one matmul (MSMT17 size).

The peers are fetched from PyPI at run time into a temporary folder and never committed:
torchreid 0.2.5's numpy ``evaluate_rank`` (sdist, ``torchreid/reid/metrics/rank.py``, loaded by path)
and fast-reid 1.4.0's Cython ``evaluate_cy`` (wheel, ``rank_cylib/rank_cy.pyx``, compiled here).
Needs network access to PyPI and ``pip install 'zoo[bench]'`` (Cython, setuptools).

    python benchmarks/bench_reid_metrics.py [--repeat 3] [--skip-msmt]

Prints, in one run, best times of ``--repeat``:
- Market-1501 size (3,368 x 15,913): ``evaluate_rank`` on a tie-free distance matrix whose true matches
  are spread over the whole ranking (every row sorted whole: the worst case), and ``evaluate_features``
  on clustered 256-d features (a model's kind of ranking), each against fast-reid's Cython evaluator on
  the same distances (for features: its time plus one full float32 matmul, which it needs first), with the
  largest differences in mAP, CMC and mINP (the peers' argsort is unstable: ties could differ, there are
  none here).
- MSMT17 size (11,659 x 82,161, clustered 256-d features): ``evaluate_features`` against one float32
  matmul of the whole problem (the distances alone, the floor of any exact method), and its peak memory
  measured in a child process (tracemalloc peak and ru_maxrss).
The machine's other load changes the figures: run it when the machine is quiet, and compare ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from zoo.reid.metrics import evaluate_features, evaluate_rank, l2_normalize

MARKET = dict(num_q=3368, num_g=15913, num_ids=751, num_cams=6)
MSMT = dict(num_q=11659, num_g=82161, num_ids=3060, num_cams=15)
SPREAD = 1.75  # noise around each identity's centre: Market-size figures like a fair model's
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
CHILD = """
import json, sys, time, tracemalloc
sys.path.insert(0, {here!r})
from bench_reid_metrics import clustered, MSMT, peak_rss
from zoo.reid.metrics import evaluate_features
problem = clustered(**MSMT)
base = peak_rss()
tracemalloc.start()
start, cpu = time.perf_counter(), time.process_time()
r = evaluate_features(*problem)
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps(dict(peak=peak, rss=peak_rss(), base=base, elapsed=elapsed, cpu=cpu, mAP=r.mAP)))
"""


def peak_rss() -> int:
    """Peak resident memory of this process in bytes: VmHWM (Linux: since exec, unlike ru_maxrss, which
    a child inherits from its parent), else ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
    num_q, num_g, num_ids, num_cams = MARKET.values()
    rng = np.random.default_rng(seed)
    g_pids = rng.integers(0, num_ids, num_g)
    q_pids = rng.integers(1, num_ids, num_q)
    g_cams, q_cams = rng.integers(0, num_cams, num_g), rng.integers(0, num_cams, num_q)
    dist = np.empty((num_q, num_g), np.float32)
    for start in range(0, num_q, 256):  # rank-transform each row: distinct values, no ties
        rows = slice(start, start + 256)
        score = rng.random((len(q_pids[rows]), num_g)) - 0.35 * (q_pids[rows, None] == g_pids[None, :])
        dist[rows] = np.argsort(np.argsort(score, axis=1), axis=1) / np.float32(num_g)
    return dist, q_pids, g_pids, q_cams, g_cams


def clustered(num_q: int, num_g: int, num_ids: int, num_cams: int, dim: int = 256, seed: int = 0):
    """Float32 features around one random centre per identity, random cameras: a model's kind of problem."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_ids, dim), dtype=np.float32)
    q_pids, g_pids = rng.integers(0, num_ids, num_q), rng.integers(0, num_ids, num_g)
    q = centres[q_pids] + SPREAD * rng.standard_normal((num_q, dim), dtype=np.float32)
    g = centres[g_pids] + SPREAD * rng.standard_normal((num_g, dim), dtype=np.float32)
    return q, g, q_pids, g_pids, rng.integers(0, num_cams, num_q), rng.integers(0, num_cams, num_g)


def best_times(repeat: int, *fns):
    """Best time and last result of each function, run in turns so that both see the same machine load."""
    times, results = [[] for _ in fns], [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            results[i] = fn()
            times[i].append(time.perf_counter() - start)
    return [min(t) for t in times], results


def differences(ours, cmc, ap, inp) -> str:
    return (f"mAP {abs(ours.mAP - float(np.mean(ap))):.1e}, CMC {np.max(np.abs(ours.cmc - cmc)):.1e}, "
            f"mINP {abs(ours.mINP - float(np.mean(inp))):.1e}")


def market(rank_cy, torchreid_rank, repeat: int) -> None:
    problem = market_like()
    assert all(len(np.unique(row)) == problem[0].shape[1] for row in problem[0][:50]), "distances must be tie-free"
    (ours_t, fast_t), (ours, fast) = best_times(
        repeat, lambda: evaluate_rank(*problem), lambda: rank_cy.evaluate_cy(*problem, 50)
    )
    print(f"Market-1501 size {MARKET['num_q']} x {MARKET['num_g']}, {MARKET['num_ids']} ids, {MARKET['num_cams']} cameras")
    print(f"  distances, matches spread over the ranking: mAP {ours.mAP:.4f}, rank-1 {ours.cmc[0]:.4f}, "
          f"mINP {ours.mINP:.4f}")
    print(f"    zoo evaluate_rank            {ours_t:7.3f} s   {ours_t / fast_t:5.2f}x fast-reid's time")
    print(f"    fast-reid 1.4.0 Cython       {fast_t:7.3f} s   max |difference|: {differences(ours, *fast)}")
    dist, q_pids, g_pids, q_cams, g_cams = problem
    n = TORCHREID_QUERIES  # torchreid's per-query Python loop takes minutes on the full problem
    part = (dist[:n], q_pids[:n], g_pids, q_cams[:n], g_cams)
    (part_t, torch_t), (part_ours, (t_cmc, t_map)) = best_times(
        1, lambda: evaluate_rank(*part), lambda: torchreid_rank.evaluate_rank(*part, max_rank=50, use_cython=False)
    )
    print(f"    first {n} queries: zoo {part_t:.3f} s, torchreid 0.2.5 numpy {torch_t:.3f} s "
          f"({part_t / torch_t:.4f}x); max |difference| mAP {abs(part_ours.mAP - t_map):.1e}, "
          f"CMC {np.max(np.abs(part_ours.cmc - t_cmc)):.1e}")

    feats = clustered(**MARKET)
    q, g = l2_normalize(feats[0]), l2_normalize(feats[1])

    def peer():  # as the peers do: the whole matrix from one matmul, then the evaluator
        start = time.perf_counter()
        full = np.clip(1.0 - q @ g.T, 0.0, 2.0)
        return time.perf_counter() - start, rank_cy.evaluate_cy(full, *feats[2:], 50)

    (ours_t, peer_t), (ours, (full_t, fast)) = best_times(repeat, lambda: evaluate_features(*feats), peer)
    print(f"  clustered 256-d features (cosine): mAP {ours.mAP:.4f}, rank-1 {ours.cmc[0]:.4f}, mINP {ours.mINP:.4f}")
    print(f"    zoo evaluate_features        {ours_t:7.3f} s   {ours_t / peer_t:5.2f}x fast-reid's time")
    print(f"    full matrix + fast-reid      {peer_t:7.3f} s   ({full_t:.3f} s of distances, all BLAS threads); "
          f"max |difference|: {differences(ours, *fast)}")
    (st_t,), (st_result,) = best_times(repeat, lambda: evaluate_features(*feats, protocol="st-modelzoo"))
    figures = st_result.percent()
    print(f"    zoo evaluate_features, st-modelzoo protocol {st_t:.3f} s: mAP {figures['mAP']}, "
          f"rank-1 {figures['cmc'][0]}, rank-10 {figures['cmc'][9]} (%, the services' rounding)")


def msmt_memory() -> dict:
    """Peak memory of ``evaluate_features`` at MSMT17 size, measured in a fresh child process."""
    here = str(Path(__file__).resolve().parent)
    child = subprocess.run([sys.executable, "-c", CHILD.format(here=here)], check=True, capture_output=True, text=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def msmt(repeat: int, mem: dict) -> None:
    feats = clustered(**MSMT)
    q, g = feats[0], feats[1]
    (matmul_t, ours_t), (_, ours) = best_times(repeat, lambda: (q @ g.T).shape, lambda: evaluate_features(*feats))
    gib = 1 << 30
    print(f"MSMT17 size {MSMT['num_q']} x {MSMT['num_g']}, clustered 256-d features, {MSMT['num_ids']} ids, "
          f"{MSMT['num_cams']} cameras: mAP {ours.mAP:.4f}, rank-1 {ours.cmc[0]:.4f}, mINP {ours.mINP:.4f}")
    print(f"    zoo evaluate_features        {ours_t:7.3f} s   {ours_t / matmul_t:5.2f}x one matmul")
    print(f"    one float32 matmul q @ g.T   {matmul_t:7.3f} s   (its result alone: "
          f"{len(q) * len(g) * 4 / gib:.2f} GiB)")
    print(f"    peak memory of evaluate_features in a child process: tracemalloc {mem['peak'] / gib:.3f} GiB; "
          f"resident {mem['rss'] / gib:.3f} GiB, of which {mem['base'] / gib:.3f} GiB before evaluating "
          f"(Python, numpy, the features); {mem['elapsed']:.2f} s there, "
          f"{mem['cpu'] / mem['elapsed']:.2f} cores busy on average")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-msmt", action="store_true", help="only the Market-1501-size comparisons")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} (other processes slow every figure)")
    mem = None if args.skip_msmt else msmt_memory()  # first, while this process is small
    with tempfile.TemporaryDirectory() as tmp:
        torchreid_rank, rank_cy = load_peers(Path(tmp))
        market(rank_cy, torchreid_rank, args.repeat)
    if not args.skip_msmt:
        msmt(args.repeat, mem)


if __name__ == "__main__":
    main()
