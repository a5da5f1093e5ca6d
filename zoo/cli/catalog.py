"""``zoo list`` and ``zoo info``: what the registry offers."""

from __future__ import annotations

import argparse
from typing import Any

from zoo.cli.common import add_json_option, add_registry_option, load_registry_for, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the models of the registry")
    p.add_argument("--task", help="only models of this task (e.g. re_identification)")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show one model: its card, artifacts, sizes, hashes and sources")
    p.add_argument("model_id", metavar="ID")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_info)


def _model_json(model) -> dict[str, Any]:
    return {
        "id": model.id,
        "family": model.family,
        "title": model.title,
        "task": model.task,
        "license": model.license,
        "card": str(model.card) if model.card else None,
        "artifacts": [
            {
                "file": a.file,
                "format": a.format,
                "precision": a.precision,
                "size": a.size,
                "sha256": a.sha256,
                "sources": list(a.sources),
            }
            for a in model.artifacts
        ],
    }


def cmd_list(args: argparse.Namespace) -> None:
    from tabulate import tabulate

    registry = load_registry_for(args)
    models = registry.by_task(args.task)
    if args.json:
        print_json({"registry": str(registry.path), "models": [_model_json(m) for m in models]})
        return
    rows = [
        (m.id, m.family, m.task, m.title, ", ".join(f"{a.format}/{a.precision}" for a in m.artifacts))
        for m in models
    ]
    print(tabulate(rows, headers=("id", "family", "task", "title", "artifacts"), disable_numparse=True))


def cmd_info(args: argparse.Namespace) -> None:
    from tabulate import tabulate

    model = load_registry_for(args).get(args.model_id)
    if args.json:
        print_json(_model_json(model))
        return
    print(f"{model.id}: {model.title}")
    print(f"  family {model.family}, task {model.task}, license {model.license or 'unknown'}")
    if model.card:
        print(f"  card   {model.card}")
    rows = [(a.file, a.format, a.precision, f"{a.size:,}", a.sha256) for a in model.artifacts]
    print(tabulate(rows, headers=("file", "format", "precision", "bytes", "sha256"), disable_numparse=True))
    for a in model.artifacts:
        print(f"sources of {a.file}:")
        for s in a.sources:
            print(f"  {s}")
