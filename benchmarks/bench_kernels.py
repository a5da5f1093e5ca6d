"""Reference kernels over every core: threads vs processes vs one worker, on real crops, in one process.

    python benchmarks/bench_kernels.py [--images N] [--model FILE] [--dataset DIR]

Baseline: ``zoo.reid.features.extract_features`` with one worker and the reference kernels (what an MCU
computes, about 80 ms an image on one core). Measured: the same with one thread per core (what zoo does)
and with a process pool of the same size (each process its own interpreter), and the optimized kernels
for scale. Prints ms per image and the ratio to the baseline; threads should come close to 1 / cores
because LiteRT's invoke releases the GIL, and processes should not beat them.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from zoo.reid.datasets import load_dataset
from zoo.reid.features import extract_features
from zoo.reid.preprocessing import Preprocessing

SHARED = Path(os.environ.get("ZOO_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
PREPROCESSING = {
    "resize": {"height": 256, "width": 128, "interpolation": "nearest", "aspect_ratio": "fit"},
    "color_mode": "rgb",
    "rescale": {"scale": 1 / 127.5, "offset": -1},
}


def _one_process(job: tuple[str, list[Path]]) -> np.ndarray:
    model, paths = job
    return extract_features(model, paths, Preprocessing.from_card(PREPROCESSING), kernels="reference", workers=1)


def process_pool(model: Path, paths: list[Path], workers: int) -> np.ndarray:
    """Contiguous shares of the images, one process each (the alternative to zoo's threads)."""
    shares = np.array_split(np.arange(len(paths)), workers)
    with ProcessPoolExecutor(workers) as pool:
        parts = pool.map(_one_process, [(str(model), [paths[i] for i in share]) for share in shares])
        return np.concatenate(list(parts))


def timed(label: str, baseline: float | None, count: int, run) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    result = run()
    ms = (time.perf_counter() - start) * 1000 / count
    ratio = f"  x{ms / baseline:.2f} of one worker" if baseline else ""
    print(f"{label:<40}{ms:8.1f} ms/image{ratio}", flush=True)
    return ms, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=40)
    parser.add_argument("--model", type=Path, default=SHARED / "artifacts/stm32ai-modelzoo/osnet_a025_256_128_tfs_int8.tflite")
    parser.add_argument("--dataset", type=Path, default=SHARED / "datasets/cuhk03-reid-sample")
    args = parser.parse_args()
    data = load_dataset(args.dataset)
    paths = [i.path for i in data.query + data.gallery][: args.images]
    prep = Preprocessing.from_card(PREPROCESSING)
    cores = os.cpu_count() or 1
    n = len(paths)
    print(f"{n} images, {cores} cores, {args.model.name}")
    base, one = timed("reference, 1 worker", None, n, lambda: extract_features(args.model, paths, prep,
                                                                              kernels="reference", workers=1))
    _, threads = timed(f"reference, {cores} threads (zoo)", base, n,
                       lambda: extract_features(args.model, paths, prep, kernels="reference", workers=cores))
    _, procs = timed(f"reference, {cores} processes", base, n, lambda: process_pool(args.model, paths, cores))
    timed(f"optimized, {cores} threads (zoo)", base, n, lambda: extract_features(args.model, paths, prep))
    assert np.array_equal(one, threads) and np.array_equal(one, procs), "the pools computed different features"


if __name__ == "__main__":
    main()
