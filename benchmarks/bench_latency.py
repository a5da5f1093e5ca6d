"""``zoo bench`` against a bare interpreter loop on the same file, in one process: the overhead ratio.

    python benchmarks/bench_latency.py [FILE.tflite] [--runs N]

Both sides run the same number of invokes on the same inputs with one thread, alternating rounds so
drift in the machine's speed affects both equally. A ratio near 1.00 means zoo's measurement adds no
cost of its own to what it reports.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

SHARED = Path(os.environ.get("ZOO_SHARED_DIR", Path(__file__).resolve().parents[1].parent / "shared"))
DEFAULT = SHARED / "artifacts/stm32ai-modelzoo/osnet_a025_256_128_tfs_int8.tflite"


def bare_loop(path: Path, runs: int) -> float:
    """Mean ms per invoke of a plain LiteRT interpreter, set up by hand."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_path=str(path), num_threads=1)
    interp.allocate_tensors()
    detail = interp.get_input_details()[0]
    interp.set_tensor(detail["index"], np.random.default_rng(0).integers(0, 255, detail["shape"], dtype=detail["dtype"]))
    interp.invoke()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - t0)
    return statistics.fmean(times) * 1000.0


def main() -> None:
    from zoo.model.latency import measure_latency

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    zoo_ms, bare_ms = [], []
    for _ in range(args.rounds):
        zoo_ms.append(measure_latency(args.file, warmup_s=0.0, min_runs=args.runs, min_seconds=0.0).mean_ms)
        bare_ms.append(bare_loop(args.file, args.runs))
    z, b = statistics.median(zoo_ms), statistics.median(bare_ms)
    print(f"{args.file.name}: {args.rounds} rounds x {args.runs} invokes, 1 thread")
    print(f"  zoo bench mean   {z:.3f} ms (median of rounds)")
    print(f"  bare interpreter {b:.3f} ms (median of rounds)")
    print(f"  ratio zoo/bare   {z / b:.3f}")


if __name__ == "__main__":
    main()
