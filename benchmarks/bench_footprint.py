"""What `zoo footprint` costs, as ratios against one LiteRT interpreter load of the same file, in this process.

For each model file: the median time of ``compute_footprint`` (validated read, weights, MACs, lower bound,
greedy plan) over the median time of ``Interpreter(model_path=...)`` + ``allocate_tensors()`` (the least a
user pays to look at a model with the runtime). With ``--tflm``, TFLM's arena in its child process too.
Below 1.0 the footprint is cheaper than loading the model once. LiteRT maps the file and builds its graph
natively in 1-10 ms; the footprint reads the flatbuffer through bounds-checked accessors
(``zoo.model.flatbuffer``), validates it and plans it in Python. TFLM's figure adds a child Python process
(~0.5 s, most of it interpreter start and imports). Whole processes, as users run them: ``bench_read.py``.

Run: python benchmarks/bench_footprint.py [FILE ...] [--runs 7] [--tflm]. Default files: the bundled demo
and, when present, the two real re-ID files of ../shared/artifacts.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from zoo.model.footprint import compute_footprint
from zoo.core.resources import data_dir
from zoo.model.runtime import load_model

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "artifacts" / "stm32ai-modelzoo"


def median_seconds(work: Callable[[], object], runs: int) -> float:
    work()  # warm imports and file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--tflm", action="store_true", help="also time TFLM's arena (needs zoo[mcu])")
    args = parser.parse_args()
    files = args.files or [data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite",
                           *sorted(p for p in SHARED.glob("*.tflite"))]
    print(f"{'file':<45} {'load ms':>9} {'footprint ms':>13} {'ratio':>7}" + (f" {'tflm ms':>9} {'ratio':>7}" if args.tflm else ""))
    for path in files:
        load = median_seconds(lambda: load_model(path), args.runs)
        fp = median_seconds(lambda: compute_footprint(path), args.runs)
        line = f"{path.name:<45} {load * 1e3:9.1f} {fp * 1e3:13.1f} {fp / load:7.2f}"
        if args.tflm:
            tflm = median_seconds(lambda: compute_footprint(path, tflm=True), max(1, args.runs // 2))
            line += f" {tflm * 1e3:9.1f} {tflm / load:7.2f}"
        print(line)


if __name__ == "__main__":
    main()
