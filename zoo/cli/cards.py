"""``zoo validate``, ``zoo render-card`` and ``zoo import-card``: cards as data, READMEs as their rendering."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from zoo.cli.common import (add_json_option, add_registry_option, add_source_options, fetch_options, load_registry_for,
                            print_json, say)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check cards (and the registry) against their schemas and each other")
    p.add_argument("paths", nargs="*", metavar="PATH", help="card.yaml files or their folders, or published markdown cards (README.md) reviewed as written "
                   "(default: every card of the zoo in use)")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("render-card", help="regenerate the tables and front matter of card READMEs")
    p.add_argument("paths", nargs="*", metavar="PATH", help="card.yaml, its folder, or its README.md (default: every card of the zoo in use)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 naming each README that is out of date")
    p.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of what would change")
    p.add_argument("--footprint", action="store_true",
                   help="also fill the 'footprint' region from the released files (fetched like pull; "
                   "see --mirror/--offline)")
    add_source_options(p)
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("import-card", help="turn upstream-style markdown cards into card.yaml plus a README with markers")
    p.add_argument("readmes", nargs="+", metavar="README.md")
    p.add_argument("-o", "--output", metavar="CARD.yaml|DIR",
                   help="where to write: a card.yaml path (one README), or a folder that gets one sub-folder per card "
                        "(default: card.yaml next to each README.md)")
    p.add_argument("--force", action="store_true", help="overwrite an existing card.yaml or README.md")
    add_registry_option(p)
    add_json_option(p)
    p.set_defaults(func=cmd_import)


def _card_paths(paths: list[str], registry) -> list[Path]:
    """The cards named on the command line, else every card of the selected zoo (``Registry.card_paths``)."""
    from zoo.cards.card import card_path

    return [card_path(p) for p in paths] if paths else registry.card_paths()


def cmd_validate(args: argparse.Namespace) -> None:
    """Every finding, one per line (``--json``: ``{"findings": [...]}``); exit 1 when any is an error."""
    from zoo.api import validate

    findings, files = validate(args.paths, settings=args.settings)
    errors = sum(f.severity == "error" for f in findings)
    if args.json:
        print_json({"findings": [f.to_json() for f in findings]})
    else:
        for found in findings:
            print(found)
        print(f"{errors} error(s), {len(findings) - errors} other finding(s) in {files} file(s)", file=sys.stderr)
    if errors:
        from zoo.core.errors import VerificationFailed

        raise VerificationFailed(f"{errors} error(s)", reported=True)


def cmd_render(args: argparse.Namespace) -> None:
    from zoo.cards.card import load_card
    from zoo.render.readme import render_card, write

    from zoo.core.errors import InvalidDataError, ZooError

    registry = load_registry_for(args)
    renderings, errors = [], []
    named = _card_readmes(args.paths)
    for path in [] if args.paths and not named else _card_paths(named, registry):
        try:  # one broken card is reported with the others' results, never instead of them
            card = load_card(path)
            renderings.append(render_card(card, registry, extra=_footprint_extra(args, card, registry)))
        except ZooError as exc:
            errors += exc.lines()
    dry = args.check or args.diff
    results = []
    for r in renderings:
        for warning in r.warnings:
            say("warning", warning)
        written = False if dry else write(r)
        results.append({"card": str(r.card), "readme": str(r.readme), "stale": r.stale, "written": written})
        if args.diff and r.stale and not args.json:
            sys.stdout.write(r.diff())
        elif not args.json and r.stale:
            print(f"{'stale' if dry else 'rendered'}: {r.readme}", file=sys.stderr if args.check else sys.stdout)
    if args.json:
        print_json({"check": dry, "cards": results, "errors": errors})
    if errors:
        raise InvalidDataError(errors)
    if dry and any(r["stale"] for r in results):
        from zoo.core.errors import VerificationFailed

        raise VerificationFailed("README(s) out of date; run zoo render-card", reported=True)


def _card_readmes(paths: list[str]) -> list[str]:
    """The paths that name cards: a README.md with neither a card.yaml beside it nor zoo markers is some other
    document (docs/README.md in a pre-commit run) and is left alone."""
    from zoo.cards.card import card_path
    from zoo.markdown.markers import MARKER

    def is_card(raw: str) -> bool:
        path = Path(raw)
        if path.suffix.lower() != ".md" or card_path(path).exists():
            return True
        try:
            return any(MARKER.match(line.strip()) for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
        except OSError:
            return True  # reported as the card's own error

    return [p for p in paths if is_card(p)]


def _footprint_extra(args: argparse.Namespace, card, registry) -> dict[str, str] | None:
    """With --footprint, the card's generated footprint table (warning for each file that cannot be had)."""
    if not args.footprint:
        return None
    from zoo.artifacts.fetching import fetch
    from zoo.render.footprint import footprint_region

    text, warnings = footprint_region(card, registry, lambda artifact: fetch(artifact, **fetch_options(args)))
    for warning in warnings:
        say("warning", warning)
    return {"footprint": text}


def cmd_import(args: argparse.Namespace) -> None:
    """Import each README; one that fails is reported (one line) and the others still run. Exit 2 if any failed."""
    from zoo.core.errors import ZooError
    from zoo.importer.writing import import_card, import_targets

    registry = load_registry_for(args)
    results, failed = [], 0
    for source, card_path in import_targets(args.readmes, args.output):
        try:
            r = import_card(source, card_path, registry, force=args.force)
        except ZooError as exc:
            if len(args.readmes) == 1:
                raise
            failed += 1
            results.append({"source": str(source), "error": exc.lines()})
            if not args.json:
                for line in exc.lines():
                    say("error", line)
            continue
        results.append({"source": str(source), "card": str(r.card), "readme": str(r.readme),
                        "warnings": r.warnings, "kept_as_text": r.kept_as_text})
        if not args.json:
            for warning in r.warnings + r.kept_as_text:
                say("warning", warning)
            kept = f" ({len(r.kept_as_text)} note(s) of cells kept as text)" if r.kept_as_text else ""
            print(f"wrote {r.card}\nwrote {r.readme}{kept}")
    if args.json:
        print_json(results[0] if len(results) == 1 else {"cards": results, "failed": failed})
    elif len(results) > 1:
        print(f"{len(results) - failed} of {len(results)} card(s) imported", file=sys.stderr)
    if failed:
        raise ZooError(f"{failed} of {len(results)} README(s) could not be imported", reported=True)
