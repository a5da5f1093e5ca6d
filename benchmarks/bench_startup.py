"""What zoo's start-up costs over a bare interpreter, whole processes, in the same run.

Each command runs as a user runs it (the ``zoo`` script pip installed beside this interpreter), interleaved
with the baseline ``python -c pass`` of the same interpreter so that load on the machine hits both alike;
the median of ``--runs`` of each is printed with the difference and the ratio. Budgets (issue 24):
``zoo --help`` within 60 ms and ``zoo list`` within 100 ms of the bare interpreter.

``zoo list`` reads the registry; its schema verdict is cached after a first run (done before timing), as
after any earlier zoo command.

Run: python benchmarks/bench_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import compileall
import statistics
import subprocess
import sys
import time
from pathlib import Path

import zoo

BUDGET_MS = {"--help": 60.0, "list": 100.0}


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def zoo_command() -> list[str]:
    script = Path(sys.executable).parent / "zoo"
    return [str(script)] if script.exists() else [sys.executable, "-m", "zoo"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    compileall.compile_dir(Path(zoo.__file__).parent, quiet=1)  # as pip installs it: bytecode compiled
    commands = {"--help": ["--help"], "list": ["list"], "list --json": ["list", "--json"],
                "info osnet_a025": ["info", "osnet_a025"]}
    bare = [sys.executable, "-c", "pass"]
    for argv in commands.values():
        timed(zoo_command() + argv)  # warm the file cache and the registry's schema verdict
    times: dict[str, list[float]] = {name: [] for name in ["bare", *commands]}
    for _ in range(args.runs):
        times["bare"].append(timed(bare))
        for name, argv in commands.items():
            times[name].append(timed(zoo_command() + argv))
    base = statistics.median(times["bare"]) * 1e3
    print(f"{'command':<20} {'median ms':>10} {'over bare ms':>13} {'ratio':>7} {'budget':>8}")
    print(f"{'python -c pass':<20} {base:10.1f}")
    for name in commands:
        ms = statistics.median(times[name]) * 1e3
        budget = BUDGET_MS.get(name)
        verdict = "" if budget is None else ("ok" if ms - base <= budget else "OVER") + f" {budget:.0f}"
        print(f"{'zoo ' + name:<20} {ms:10.1f} {ms - base:13.1f} {ms / base:7.2f} {verdict:>8}")


if __name__ == "__main__":
    main()
