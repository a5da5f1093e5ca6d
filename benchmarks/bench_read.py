"""`zoo inspect --json` and `zoo footprint --json` against an interpreter load of the same file, whole processes.

The baseline is what a user pays to look at a model with the runtime: a bare interpreter that imports
LiteRT, builds ``Interpreter(model_path=...)`` and allocates its tensors. Each command runs as a user runs it
(the installed ``zoo`` script, bytecode compiled), interleaved with the baseline, medians of ``--runs``.
Targets (issue 24): inspect at most 1.5x, footprint at most 2x.

Run: python benchmarks/bench_read.py [FILE ...] [--runs 21]. Default: the bundled demo and, when present,
the real osnet_a025 of ../shared (or $ZOO_SHARED_DIR).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import zoo
from zoo.core.resources import data_dir

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ZOO_SHARED_DIR", REPO.parent / "shared"))
LOAD = ("import sys; from ai_edge_litert.interpreter import Interpreter; "
        "Interpreter(model_path=sys.argv[1]).allocate_tensors()")


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    real = SHARED / "artifacts" / "stm32ai-modelzoo" / "osnet_a025_256_128_tfs_int8.tflite"
    files = args.files or [data_dir("registry") / "mirror" / "osnet_demo" / "osnet_demo_int8.tflite",
                           *([real] if real.exists() else [])]
    compileall.compile_dir(Path(zoo.__file__).parent, quiet=1)
    script = Path(sys.executable).with_name("zoo")
    zoo_cmd = [str(script)] if script.is_file() else [sys.executable, "-m", "zoo"]
    print(f"{'file':<34} {'load ms':>8} {'inspect ms':>11} {'ratio':>6} {'footprint ms':>13} {'ratio':>6}")
    for path in files:
        commands = {"load": [sys.executable, "-c", LOAD, str(path)],
                    "inspect": [*zoo_cmd, "inspect", str(path), "--json", "--offline"],
                    "footprint": [*zoo_cmd, "footprint", str(path), "--json", "--offline"]}
        for cmd in commands.values():
            timed(cmd)  # warm the file cache and the registry's schema verdict
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(timed(cmd))
        ms = {name: statistics.median(values) * 1e3 for name, values in times.items()}
        print(f"{path.name:<34} {ms['load']:8.1f} {ms['inspect']:11.1f} {ms['inspect'] / ms['load']:6.2f} "
              f"{ms['footprint']:13.1f} {ms['footprint'] / ms['load']:6.2f}")


if __name__ == "__main__":
    main()
