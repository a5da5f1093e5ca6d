"""``zoo init``, ``zoo add`` and ``zoo golden``: a maintainer's own zoo."""

from __future__ import annotations

import argparse
from pathlib import Path

from zoo.cli.common import add_fetch_options, add_json_option, add_registry_option, fetch_options, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="make a zoo: registry, model_cards/, goldens/, targets, CI and pre-commit examples")
    p.add_argument("directory", nargs="?", default=".", metavar="DIR", help="the zoo's folder (default: here)")
    p.add_argument("--name", help="the registry's name (default: the folder's)")
    add_json_option(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("add", help="register model files: hashes, facts read from the file, goldens, card variant")
    p.add_argument("files", nargs="+", metavar="FILE", help=".tflite files of one model version")
    p.add_argument("--id", required=True, dest="model_id", metavar="ID", help="the model id (new, or with --version)")
    p.add_argument("--version", metavar="V", help="add the files as version V of an existing model (or name the "
                   "first version; default 1)")
    p.add_argument("--source", action="append", default=[], metavar="TEMPLATE",
                   help="where the bytes live, {id}/{file}/{version} filled in, e.g. https://host/zoo/{id}/{file} "
                   "or hf://org/repo/{file}@main (repeatable; tried in order)")
    p.add_argument("--card", metavar="PATH", help="the card.yaml to create or update (default: the model's card, "
                   "else model_cards/ID/card.yaml)")
    p.add_argument("--family", help="family for a new model and card (default: the card's, else ID)")
    p.add_argument("--title", help="title for a new model and card (default: the card's, else ID)")
    p.add_argument("--task", help="what the model does, e.g. image_classification (default: the card's use_case)")
    p.add_argument("--license", help="licence id for a new card (default: the card's, else NOASSERTION)")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("golden", help="make or refresh a model's golden outputs from its verified bytes")
    p.add_argument("model_id", metavar="ID[@V]")
    add_fetch_options(p)
    p.set_defaults(func=cmd_golden)


def _own_registry(args: argparse.Namespace) -> Path:
    """The registry of the zoo in use; the bundled one is never written to."""
    from zoo.core.errors import UsageError

    if args.settings.registry is None:
        raise UsageError(f"no zoo found in {Path.cwd()} or above (a folder with registry.yaml and model_cards/): "
                         "make one with zoo init DIR and run this inside it, or give --registry / ZOO_REGISTRY")
    return args.settings.registry


def cmd_init(args: argparse.Namespace) -> int:
    from zoo.maintain.init import init_zoo

    written = init_zoo(args.directory, name=args.name)
    if args.json:
        print_json({"zoo": str(Path(args.directory)), "written": [str(p) for p in written]})
    else:
        for path in written:
            print(f"wrote {path}")
        print(f"next: cd {args.directory} && zoo add MODEL.tflite --id ID --task TASK --source TEMPLATE")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from zoo.maintain.adding import add_files

    added = add_files(_own_registry(args), args.files, model_id=args.model_id, version=args.version,
                      sources=args.source, card=args.card, family=args.family, title=args.title, task=args.task,
                      license=args.license)
    if args.json:
        print_json({"model": added.ref, "artifacts": added.artifacts, "card": str(added.card),
                    "card_outcome": added.card_outcome, "goldens": [str(g) for g in added.goldens]})
    else:
        for art in added.artifacts:
            print(f"added {added.ref}: {art['file']} ({art['size']:,} bytes, sha256 {art['sha256'][:8]}..., "
                  f"{art['precision']}) from {', '.join(art['sources'])}")
        print(f"card {added.card_outcome}: {added.card}")
    return 0


def cmd_golden(args: argparse.Namespace) -> int:
    from zoo.maintain.goldens import refresh_goldens

    written = refresh_goldens(_own_registry(args), args.model_id, settings=fetch_options(args)["settings"])
    if args.json:
        print_json({"model": args.model_id, "goldens": [str(p) for p in written]})
    else:
        for path in written:
            print(f"wrote {path}")
    return 0
