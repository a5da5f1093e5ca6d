"""``zoo inspect`` and ``zoo bench``: what a .tflite or .onnx file holds and how fast it runs on this host."""

from __future__ import annotations

import argparse

from zoo.cli.common import (MAX_THREADS, add_fetch_options, add_kernels_option, count, load_registry_for, print_json,
                             resolve_target, seconds, table)
from zoo.core.text import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="show what a .tflite or .onnx file holds: tensors, ops, parameters, precision, "
                       "registry match")
    p.add_argument("target", metavar="FILE|ID")
    add_fetch_options(p)
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("bench", help="measure host latency like TFLite's benchmark_model (onnxruntime for .onnx)")
    p.add_argument("target", metavar="FILE|ID")
    p.add_argument("--threads", type=count(1, MAX_THREADS), default=1, metavar="N", help="interpreter threads (default 1)")
    p.add_argument("--warmup", type=seconds, default=0.5, metavar="S", help="warm-up seconds (default 0.5)")
    p.add_argument("--min-runs", type=count(1, 10_000_000), default=50, metavar="N",
                   help="at least N timed runs (default 50)")
    p.add_argument("--min-seconds", type=seconds, default=1.0, metavar="S", help="time at least S seconds (default 1)")
    add_kernels_option(p)
    add_fetch_options(p)
    p.set_defaults(func=cmd_bench)


def cmd_inspect(args: argparse.Namespace) -> None:
    from zoo.api import inspect
    from zoo.model.inspection import tensor_json
    from zoo.verification.rules.precision import describe

    info = inspect(resolve_target(args, args.target), registry=load_registry_for(args))
    if args.json:
        print_json(info.to_json())
        return
    art = info.artifact
    print(printable(str(info.path)))
    print(f"  {info.size:,} bytes, sha256 {info.sha256}")
    print(f"  registry: {f'{art.model_id} ({art.file})' if art else 'no artifact of the registry has this sha256'}")
    rows = []
    for kind, tensors in (("input", info.inputs), ("output", info.outputs)):
        for i, t in enumerate(tensors):
            j = tensor_json(t)
            meaning = info.output_meaning(i) if kind == "output" else ""
            rows.append((kind, printable(t.name), printable("x".join(map(str, t.display_shape))), t.dtype,
                         "per-channel" if t.per_channel else f"{j['scale']:.9g}" if t.quantized else "-",
                         "" if t.per_channel or not t.quantized else j["zero_point"], meaning))
    print(table(rows, ("", "name", "shape", "dtype", "scale", "zero point", "meaning")))
    by_dtype = " + ".join(f"{n:,} {d}" for d, n in info.parameters_by_dtype.items())
    print(f"parameters: {info.parameters:,} ({by_dtype})  precision: {describe(info)}"
          + (f"  opset: {info.opset}" if info.opset is not None else ""))
    print(f"ops: {info.op_count} (" + ", ".join(f"{n} {printable(op)}" for op, n in info.ops.items()) + ")")


def cmd_bench(args: argparse.Namespace) -> None:
    from zoo.model.inspection import inspect_model
    from zoo.model.latency import measure_latency

    path = resolve_target(args, args.target).path
    inspect_model(path)  # a corrupt file becomes a one-line error here, before the native loader sees it
    result = measure_latency(path, threads=args.threads, kernels=args.kernels, warmup_s=args.warmup,
                             min_runs=args.min_runs, min_seconds=args.min_seconds)
    if args.json:
        print_json(result.to_json())
        return
    print(f"{printable(str(result.path))}  ({result.runtime}, {result.kernels} kernels, {result.cpu}, {result.threads} thread(s))")
    print(f"init {result.init_ms:.2f} ms, first inference {result.first_ms:.2f} ms, warm-up runs {result.warmup_runs}")
    print(f"count {result.count}  mean {result.mean_ms:.3f}  std {result.std_ms:.3f}  min {result.min_ms:.3f}  "
          f"p5 {result.p5_ms:.3f}  p50 {result.p50_ms:.3f}  p95 {result.p95_ms:.3f}  max {result.max_ms:.3f} (ms)")
