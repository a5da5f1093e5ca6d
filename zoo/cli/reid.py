"""``zoo evaluate``: re-ID accuracy (mAP, rank-1/5/10, mINP) of a model on a dataset, under a named protocol."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.cli.common import add_fetch_options, add_kernels_option, count, print_json, resolve_target, show_progress
from zoo.reid.protocols import PROTOCOLS, get_protocol


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure re-ID accuracy (mAP, rank-1/5/10, mINP) of a model on a query/gallery dataset",
        description="FILE is a .tflite or .onnx file (its card is found by its sha256 in the registry, or given with "
        "--card); ID is a registry model id, pulled into the cache first.",
    )
    p.add_argument("model", metavar="FILE|ID")
    p.add_argument("--dataset", required=True, type=Path, metavar="DIR", help="dataset folder")
    p.add_argument("--layout", choices=("manifest", "deepsportradar", "market1501"), help="default: detected")
    p.add_argument("--distance", choices=("cosine", "euclidean"), help="default: the card's, else cosine")
    p.add_argument("--limit-queries", type=count(1, 10**9), metavar="N", help="only the first N queries (a quick check)")
    p.add_argument("--card", type=Path, metavar="CARD", help="card.yaml whose preprocessing to use")
    p.add_argument("--protocol", choices=tuple(PROTOCOLS), help="how the figures are computed (README: evaluation "
                   "protocols); default: the card's evaluation.protocol, else market1501")
    add_kernels_option(p)
    add_fetch_options(p)
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> None:
    from zoo.api import evaluate

    found = resolve_target(args, args.model, card=args.card, need_card=True)
    card = found.card
    result = evaluate(found, args.dataset, protocol=args.protocol, distance=args.distance, kernels=args.kernels,
                      layout=args.layout, limit_queries=args.limit_queries, progress=show_progress(args))
    if args.json:
        print_json({"model": found.label, "file": str(found.path), "card": str(card.path), "dataset": str(args.dataset),
                    **result.to_json()})
        return
    percent = result.as_percent()
    print(f"{found.label} on {args.dataset} ({result.layout} layout, {result.num_queries} queries, "
          f"{result.num_gallery} gallery images, {result.distance} distance)")
    under = f"{result.protocol} protocol, {result.kernels} kernels"
    for key, name in (("mAP", "mAP"), ("rank1", "rank-1"), ("rank5", "rank-5"), ("rank10", "rank-10"), ("mINP", "mINP")):
        if key in percent:
            print(f"  {name:<8}{percent[key]:6.2f} %  ({under})")
    if result.num_skipped_queries and get_protocol(result.protocol).file_name_labels:
        print(f"  {result.num_skipped_queries} queries have no match in the gallery: misses in rank-k, left out of mAP")
    elif result.num_skipped_queries:
        print(f"  skipped {result.num_skipped_queries} queries with no match from another camera")
    print(f"  {result.elapsed:.1f} s")
