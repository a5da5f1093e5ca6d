"""``zoo inspect``, ``zoo bench`` and ``zoo verify``: what a file holds, how fast it runs, whether cards are true."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.cli.common import add_fetch_options, fetch_options, load_registry_for, model_file, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="show what a .tflite file holds: tensors, ops, parameters, registry match")
    p.add_argument("target", metavar="FILE|ID")
    add_fetch_options(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("bench", help="measure host latency like TFLite's benchmark_model")
    p.add_argument("target", metavar="FILE|ID")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="interpreter threads (default 1)")
    p.add_argument("--warmup", type=float, default=0.5, metavar="S", help="warm-up seconds (default 0.5)")
    p.add_argument("--min-runs", type=int, default=50, metavar="N", help="at least N timed runs (default 50)")
    p.add_argument("--min-seconds", type=float, default=1.0, metavar="S", help="time at least S seconds (default 1)")
    add_fetch_options(p)
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("verify", help="check cards against the registry and the released files")
    p.add_argument("targets", nargs="*", metavar="ID|CARD", help="model ids or card files (default: every model)")
    p.add_argument("--all", action="store_true", help="every model of the registry (the default without targets)")
    p.add_argument("--dataset", type=Path, metavar="DIR", help="measure re-ID accuracy on this dataset folder")
    p.add_argument("--dataset-id", metavar="ID", help="the card dataset DIR holds (default: matched by folder name)")
    p.add_argument("--tolerance-pp", type=float, default=1.0, metavar="X",
                   help="accuracy may differ from the card by X percentage points (default 1)")
    p.add_argument("--latency", action="store_true", help="measure host latency and compare with host records")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="threads for --latency (default 1)")
    p.add_argument("--write", action="store_true", help="record measured host figures in the card.yaml files")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="verify N models in parallel")
    p.add_argument("--shard", metavar="I/N", help="only the I-th of N deterministic shares of the models (CI)")
    p.add_argument("--junit", type=Path, metavar="FILE", help="also write a JUnit XML report")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing checks too")
    add_fetch_options(p)
    p.set_defaults(func=cmd_verify)


def cmd_inspect(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from zoo.inspection import inspect_model, tensor_json

    registry = load_registry_for(args)
    info = inspect_model(model_file(args, registry), registry)
    if args.json:
        print_json(info.to_json())
        return 0
    art = info.artifact
    print(f"{info.path}")
    print(f"  {info.size:,} bytes, sha256 {info.sha256}")
    print(f"  registry: {f'{art.model_id} ({art.file})' if art else 'no artifact of the registry has this sha256'}")
    rows = []
    for kind, tensors in (("input", info.inputs), ("output", info.outputs)):
        for i, t in enumerate(tensors):
            j = tensor_json(t)
            meaning = info.output_meaning(i) if kind == "output" else ""
            rows.append((kind, t.name, "x".join(map(str, t.shape)), t.dtype,
                         "per-channel" if t.per_channel else f"{j['scale']:.9g}" if t.quantized else "-",
                         "" if t.per_channel or not t.quantized else j["zero_point"], meaning))
    print(tabulate(rows, headers=("", "name", "shape", "dtype", "scale", "zero point", "meaning"),
                   disable_numparse=True))
    by_dtype = " + ".join(f"{n:,} {d}" for d, n in info.parameters_by_dtype.items())
    print(f"parameters: {info.parameters:,} ({by_dtype})  precision: {info.precision}")
    print(f"ops: {info.op_count} (" + ", ".join(f"{n} {op}" for op, n in info.ops.items()) + ")")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from zoo.inspection import inspect_model
    from zoo.latency import measure_latency

    registry = load_registry_for(args)
    path = model_file(args, registry)
    inspect_model(path)  # a corrupt file becomes a one-line error here, before the native loader sees it
    result = measure_latency(path, threads=args.threads, warmup_s=args.warmup, min_runs=args.min_runs,
                             min_seconds=args.min_seconds)
    if args.json:
        print_json(result.to_json())
        return 0
    print(f"{result.path}  ({result.runtime}, {result.cpu}, {result.threads} thread(s))")
    print(f"init {result.init_ms:.2f} ms, first inference {result.first_ms:.2f} ms, warm-up runs {result.warmup_runs}")
    print(f"count {result.count}  mean {result.mean_ms:.3f}  std {result.std_ms:.3f}  min {result.min_ms:.3f}  "
          f"p5 {result.p5_ms:.3f}  p50 {result.p50_ms:.3f}  p95 {result.p95_ms:.3f}  max {result.max_ms:.3f} (ms)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from zoo.card_writing import write_records
    from zoo.errors import UsageError
    from zoo.verification import Options, select_targets, shard, verify
    from zoo.verify_report import to_json, to_junit, to_text

    if args.all and args.targets:
        raise UsageError("give model ids / cards or --all, not both")
    if args.dataset is not None and not args.dataset.is_dir():
        raise UsageError(f"--dataset {args.dataset}: no such folder")
    registry = load_registry_for(args)
    targets = shard(select_targets(registry, args.targets), args.shard)
    sources = fetch_options(args)
    options = Options(dataset=args.dataset, dataset_id=args.dataset_id, tolerance_pp=args.tolerance_pp,
                      latency=args.latency, threads=args.threads, mirrors=sources["mirrors"], offline=sources["offline"])
    entries = verify(targets, registry, options, jobs=args.jobs)
    if args.write:
        by_card: dict[str, list] = {}
        for e in entries:
            if e.card and e.measured:
                by_card.setdefault(e.card, []).extend(e.measured)
        for card, records in by_card.items():
            write_records(card, records)
            print(f"recorded {len(records)} measured record(s) in {card}", file=sys.stderr)
    if args.junit:
        args.junit.write_bytes(to_junit(entries))
    if args.json:
        print_json(to_json(entries))
    else:
        print(to_text(entries, verbose=args.verbose))
    return 1 if any(e.failed for e in entries) else 0
