"""``zoo evaluate``: re-ID accuracy (mAP, rank-1/5/10, mINP) of a model on a dataset, as its card's recipe defines."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.cli.common import add_fetch_options, fetch_options, load_registry_for, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure re-ID accuracy (mAP, rank-1/5/10, mINP) of a model on a query/gallery dataset",
        description="FILE is a .tflite file (its card is found by its sha256 in the registry, or given with "
        "--card); ID is a registry model id, pulled into the cache first.",
    )
    p.add_argument("model", metavar="FILE|ID")
    p.add_argument("--dataset", required=True, type=Path, metavar="DIR", help="dataset folder")
    p.add_argument("--layout", choices=("manifest", "deepsportradar", "market1501"), help="default: detected")
    p.add_argument("--distance", choices=("cosine", "euclidean"), help="default: the card's, else cosine")
    p.add_argument("--limit-queries", type=int, metavar="N", help="only the first N queries (a quick check)")
    p.add_argument("--card", type=Path, metavar="CARD", help="card.yaml whose preprocessing to use")
    add_fetch_options(p)
    p.set_defaults(func=cmd_evaluate)


def _model_and_card(args: argparse.Namespace) -> tuple[str, Path, Path]:
    """(label, model file, card path) for FILE or ID; a file outside the registry needs ``--card``."""
    from zoo.files import sha256_file
    from zoo.errors import UsageError
    from zoo.fetching import fetch

    registry = load_registry_for(args)
    path = Path(args.model)
    if path.is_file():
        digest = sha256_file(path)
        artifact = registry.by_sha256(digest)
        model = registry.get(artifact.model_id) if artifact else None
        label = model.id if model else path.name
    else:
        model = registry.get(args.model)
        label, path = model.id, fetch(model.artifact("tflite"), **fetch_options(args))
    card = args.card or (model.card if model else None)
    if card is None:
        why = "is not in the registry" if model is None else f"({model.id}) has no card in the registry"
        raise UsageError(f"{args.model} {why}: pass --card CARD.yaml to say how to preprocess its images")
    return label, path, card


def cmd_evaluate(args: argparse.Namespace) -> int:
    from zoo.cards import load_card
    from zoo.evaluation import evaluate

    label, model_file, card_path = _model_and_card(args)
    card = load_card(card_path)
    distance = args.distance or card.data.get("evaluation", {}).get("distance", "cosine")
    result = evaluate(
        model_file,
        args.dataset,
        preprocessing=card.preprocessing,
        layout=args.layout,
        distance=distance,
        limit_queries=args.limit_queries,
        progress=fetch_options(args)["progress"],
    )
    if args.json:
        print_json({"model": label, "file": str(model_file), "card": str(card.path), "dataset": str(args.dataset),
                    **result.to_json()})
        return 0
    percent = result.as_percent()
    print(f"{label} on {args.dataset} ({result.layout} layout, {result.num_queries} queries, "
          f"{result.num_gallery} gallery images, {result.distance} distance)")
    for key, name in (("mAP", "mAP"), ("rank1", "rank-1"), ("rank5", "rank-5"), ("rank10", "rank-10"), ("mINP", "mINP")):
        print(f"  {name:<8}{percent[key]:6.2f} %")
    if result.num_skipped_queries:
        print(f"  skipped {result.num_skipped_queries} queries with no match from another camera")
    print(f"  {result.elapsed:.1f} s")
    return 0
