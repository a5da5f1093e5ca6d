"""What zoo's start-up costs over a bare interpreter, whole processes, in the same run.

Each command runs as a user runs it (the ``zoo`` script pip installed beside this interpreter), interleaved
with the baseline ``python -c pass`` of the same interpreter so that load on the machine hits both alike;
the median of ``--runs`` of each is printed with the difference and the ratio, in wall-clock time and in CPU
time (user + system, steadier on a loaded machine). Budgets (issue 24):
``zoo --help`` within 60 ms and ``zoo list`` within 100 ms of the bare interpreter.

``zoo list`` reads the registry; its schema verdict is cached after a first run (done before timing), as
after any earlier zoo command.

Run: python benchmarks/bench_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import compileall
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import zoo

BUDGET_MS = {"--help": 60.0, "list": 100.0}


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run: on a shared, loaded machine the CPU time is the
    steadier figure (it does not count the time others' processes held the cores)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


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
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in ["bare", *commands]}
    for _ in range(args.runs):
        times["bare"].append(timed(bare))
        for name, argv in commands.items():
            times[name].append(timed(zoo_command() + argv))
    med = {name: [statistics.median(t[i] for t in runs) * 1e3 for i in (0, 1)] for name, runs in times.items()}
    (base, base_cpu) = med["bare"]
    print(f"{'command':<20} {'wall ms':>8} {'over bare':>10} {'ratio':>6} {'CPU ms':>7} {'over bare':>10} {'budget':>9}")
    print(f"{'python -c pass':<20} {base:8.1f} {'':>10} {'':>6} {base_cpu:7.1f}")
    for name in commands:
        ms, cpu = med[name]
        budget = BUDGET_MS.get(name)
        verdict = "" if budget is None else ("ok" if ms - base <= budget else "OVER") + f" {budget:.0f}"
        print(f"{'zoo ' + name:<20} {ms:8.1f} {ms - base:10.1f} {ms / base:6.2f} {cpu:7.1f} {cpu - base_cpu:10.1f} "
              f"{verdict:>9}")


if __name__ == "__main__":
    main()
