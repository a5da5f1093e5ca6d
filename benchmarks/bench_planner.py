"""How the footprint planner grows with a model's length, as ratios against one pass over the same graph.

A chain of N ops (each reading the previous op's output, every 50th also an older tensor, as skip connections
do) is planned with ``activation_lower_bound`` and ``greedy_plan``; the baseline is ``lifetimes``, one linear
pass over the ops that both start with. A planner that stays linear keeps the same ratio at every N (issue 23:
the quadratic one took 35 s at 20,000 ops).

Run: python benchmarks/bench_planner.py [--ops 5000 10000 20000 40000] [--runs 3]
"""

from __future__ import annotations

import argparse

from bench_footprint import median_seconds  # the same timing as the other footprint benchmark
from zoo.model.footprint import PlanningGraph, activation_lower_bound, greedy_plan, lifetimes


def chain(n: int, skip: int = 50) -> PlanningGraph:
    ops = [("ADD", [i] + ([i - skip] if i >= skip and i % skip == 0 else []), [i + 1]) for i in range(n)]
    return PlanningGraph(ops, [16 * (1 + (i * 7919) % 13) for i in range(n + 1)], set(), [0], [n], [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, nargs="+", default=[5000, 10000, 20000, 40000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"{'ops':>7} {'lifetimes s':>12} {'planner s':>10} {'planner / lifetimes':>20}")
    for n in args.ops:
        graph = chain(n)
        base = median_seconds(lambda: lifetimes(graph), args.runs)
        plan = median_seconds(lambda: (activation_lower_bound(graph), greedy_plan(graph)), args.runs)
        print(f"{n:>7} {base:>12.4f} {plan:>10.4f} {plan / base:>20.1f}")


if __name__ == "__main__":
    main()
