"""``zoo validate``, ``zoo render-card`` and ``zoo import-card``: cards as data, READMEs as their rendering."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.cli.common import (add_json_option, add_registry_option, add_source_options, load_registry_for, print_json,
                            settings_for)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check cards (and the registry) against their schemas and each other")
    p.add_argument("paths", nargs="*", metavar="PATH", help="card.yaml files or their folders (default: every shipped card)")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("render-card", help="regenerate the tables and front matter of card READMEs")
    p.add_argument("paths", nargs="*", metavar="PATH", help="card.yaml, its folder, or its README.md (default: every shipped card)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each README that is out of date")
    p.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of what would change")
    p.add_argument("--footprint", action="store_true",
                   help="also fill the 'footprint' region from the released files (fetched like pull; "
                   "see --mirror/--offline)")
    add_source_options(p)
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("import-card", help="turn an upstream-style markdown card into card.yaml plus a README with markers")
    p.add_argument("readme", metavar="README.md")
    p.add_argument("-o", "--output", metavar="CARD.yaml", help="where to write the card (default: card.yaml next to README.md)")
    p.add_argument("--force", action="store_true", help="overwrite an existing card.yaml")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_import)


def _card_paths(paths: list[str]) -> list[Path]:
    from zoo.cards import default_card_paths

    if not paths:
        return default_card_paths()
    out = []
    for raw in paths:
        path = Path(raw)
        out.append(path / "card.yaml" if path.is_dir() else path.parent / "card.yaml" if path.suffix == ".md" else path)
    return out


def cmd_validate(args: argparse.Namespace) -> int:
    from zoo.cards import file_problems
    from zoo.errors import ConfigError, InvalidDataError
    from zoo.targets import load_targets, targets_path

    files = []
    registry = None
    try:
        registry = load_registry_for(args)
        if not args.paths:
            files.append({"path": str(registry.path), "kind": "registry", "problems": []})
    except InvalidDataError as exc:
        files.append({"path": exc.path, "kind": "registry", "problems": exc.lines()})
    if not args.paths:
        targets = targets_path(registry.path if registry else None)
        try:
            load_targets(targets)
            files.append({"path": str(targets), "kind": "targets", "problems": []})
        except ConfigError as exc:
            files.append({"path": str(targets), "kind": "targets", "problems": exc.lines()})
    for path in _card_paths(args.paths):
        files.append({"path": str(path), "kind": "card", "problems": file_problems(path, registry)})
    problems = [p for f in files for p in f["problems"]]
    if args.json:
        print_json({"ok": not problems, "files": files})
    else:
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s) in {len(files)} file(s)", file=sys.stderr)
    return 1 if problems else 0


def cmd_render(args: argparse.Namespace) -> int:
    from zoo.cards import load_card
    from zoo.rendering import render_card, write

    registry = load_registry_for(args)
    renderings = [render_card(card, registry, extra=_footprint_extra(args, card, registry))
                  for card in map(load_card, _card_paths(args.paths))]
    dry = args.check or args.diff
    results = []
    for r in renderings:
        written = False if dry else write(r)
        results.append({"card": str(r.card), "readme": str(r.readme), "stale": r.stale, "written": written})
        if args.diff and r.stale and not args.json:
            sys.stdout.write(r.diff())
        elif not args.json and r.stale:
            print(f"{'stale' if dry else 'rendered'}: {r.readme}", file=sys.stderr if args.check else sys.stdout)
    if args.json:
        print_json({"check": dry, "cards": results})
    return 1 if args.check and any(r["stale"] for r in results) else 0


def _footprint_extra(args: argparse.Namespace, card, registry) -> dict[str, str] | None:
    """With --footprint, the card's generated footprint table (warning for each file that cannot be had)."""
    if not args.footprint:
        return None
    from zoo.fetching import fetch
    from zoo.footprint_table import footprint_region

    settings = settings_for(args)
    text, warnings = footprint_region(card, registry, lambda artifact: fetch(artifact, settings=settings))
    for warning in warnings:
        print(f"zoo: warning: {warning}", file=sys.stderr)
    return {"footprint": text}


def cmd_import(args: argparse.Namespace) -> int:
    from zoo.errors import UsageError
    from zoo.importing import import_card

    registry = load_registry_for(args)
    source = Path(args.readme)
    card_path = Path(args.output) if args.output else source.parent / "card.yaml"
    if card_path.exists() and not args.force:
        raise UsageError("already exists (pass --force to overwrite it)", path=card_path)
    result = import_card(source, card_path, registry)
    if args.json:
        print_json({"card": str(result.card), "readme": str(result.readme), "warnings": result.warnings})
        return 0
    for warning in result.warnings:
        print(f"zoo: warning: {warning}", file=sys.stderr)
    print(f"wrote {result.card}")
    print(f"wrote {result.readme}")
    return 0
