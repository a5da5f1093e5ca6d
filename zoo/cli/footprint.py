"""``zoo footprint``: what a model needs on a microcontroller (weights, MACs, activation memory), from the file."""

from __future__ import annotations

import argparse

from zoo.cli.common import add_fetch_options, print_json, resolve_target
from zoo.core.text import printable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "footprint",
        help="weights bytes, MACs and activation memory of a .tflite or .onnx file (TFLM's arena with --tflm)",
        description="FILE is a .tflite or .onnx file; ID is a registry model id, pulled into the cache first. "
        "Figures come from the file: weights = its constant buffers, MACs per op from the tensor shapes, "
        "an activation lower bound, and a greedy-by-size arena plan like TFLM's.",
    )
    p.add_argument("target", metavar="FILE|ID")
    p.add_argument("--tflm", action="store_true",
                   help="also plan the arena with TensorFlow Lite for Microcontrollers (pip install 'zoo[mcu]')")
    add_fetch_options(p)
    p.set_defaults(func=cmd_footprint)


def _kib(n: int | None) -> str:
    return "-" if n is None else f"{n:,} bytes ({n / 1024:.2f} KiB)"


def cmd_footprint(args: argparse.Namespace) -> None:
    from zoo.api import footprint
    from zoo.core.errors import RuntimeMissingError

    if args.tflm:
        from zoo.model import tflm

        if not tflm.available():  # before any download
            raise RuntimeMissingError(tflm.INSTALL_HINT)
    found = resolve_target(args, args.target)
    fp = footprint(found, tflm=args.tflm)
    model_id = found.model.id if found.model else None
    if args.json:
        print_json({"model_id": model_id, **fp.to_json()})
        return
    print(printable(f"{fp.path}") + (f"  ({model_id})" if model_id else ""))
    by_dtype = " + ".join(f"{n:,} {d}" for d, n in fp.weights_bytes_by_dtype.items())
    print(f"  weights      {_kib(fp.weights_bytes)}" + (f": {by_dtype}" if by_dtype else ""))
    by_op = ", ".join(f"{n / 1e6:.2f} M {printable(op)}" for op, n in fp.macs_by_op.items())
    print(f"  MACs         {fp.macs / 1e6:.2f} M" + (f" ({by_op})" if by_op else ""))
    print(f"  activations  lower bound {_kib(fp.activation_lower_bound_bytes)}")
    print(f"  arena        greedy plan {_kib(fp.arena_estimate_bytes)}")
    if args.tflm:
        print(f"  TFLM         head {_kib(fp.tflm_activation_bytes)}, total {_kib(fp.tflm_arena_bytes)}")
    for note in fp.notes:
        print(f"  note: {printable(note)}")  # custom op names come from the file
