"""``zoo validate``: every finding about the files of a zoo, or about the files named.

With no paths: the registry, its targets and every card of the zoo (the cards beside a registry that does
not load are still checked). With paths: card.yaml files (or their folders) by schema and consistency,
and published markdown cards reviewed as written (``zoo.review.review``); an imported card.yaml whose source
card is still there as published brings that card's findings, on the source's own lines. Nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from zoo.cards.card import card_path, read_card
from zoo.cards.checks import evaluation_gaps, file_problems
from zoo.catalog.registry import Registry, default_registry_path, load_registry
from zoo.catalog.targets import load_targets, targets_path
from zoo.core.errors import ConfigError, InvalidDataError, ZooError
from zoo.core.files import read_text
from zoo.importer.writing import imported_from
from zoo.core.settings import Settings
from zoo.review.findings import Finding, finding, from_problem
from zoo.review.review import is_upstream_markdown, review_markdown


def validate(paths: list[str | Path], settings: Settings, registry: Registry | None = None) -> tuple[list[Finding], int]:
    """The findings, and how many files were read. ``registry``: one already loaded for these settings."""
    readmes = [p for p in paths if is_upstream_markdown(p)]
    problems: list[tuple[str, str, list[str]]] = []  # (path, kind, problem lines)
    try:
        registry = registry or load_registry(settings.registry, verdicts=settings.cache_dir / "verdicts")
        if not paths:
            problems.append((str(registry.path), "registry", []))
    except InvalidDataError as exc:
        registry = None
        problems.append((str(exc.path), "registry", exc.lines()))
    if not paths:
        targets = targets_path(registry.path if registry else None)
        try:
            load_targets(targets)
            problems.append((str(targets), "targets", []))
        except ConfigError as exc:
            problems.append((str(targets), "targets", exc.lines()))
    cards = [p for p in paths if p not in readmes]
    if registry is None and not paths:  # a broken registry: still check the cards of its zoo
        where = (settings.registry or default_registry_path()).resolve()
        card_files = sorted((where if where.is_dir() else where.parent).glob("model_cards/*/card.yaml"))
    elif cards:
        card_files = [card_path(p) for p in cards]
    else:
        card_files = [] if paths else registry.card_paths()
    problems += [(str(path), "card", file_problems(path, registry)) for path in card_files]
    findings = [from_problem(p, f"{kind}.schema", path) for path, kind, lines in problems for p in lines]
    findings += [finding(f.file, f.line, "card.evaluable", f.message) for path in card_files
                 for f in map(from_problem, _gaps(path))]
    sources = [s for s in map(_source_of, card_files) if s is not None and str(s) not in map(str, readmes)]
    findings += [found for path in [*readmes, *sources] for found in review_markdown(path)]
    return findings, len(problems) + len(readmes) + len(sources)


def _source_of(card_file: Path) -> Path | None:
    """The published markdown card an imported card.yaml came from, while it is still there as published (an
    in-place import replaced it with the rendered README, which has nothing of its own to review)."""
    try:
        first = read_text(card_file)[0].partition("\n")[0]
    except (OSError, ZooError):
        return None  # file_problems reports it
    source = imported_from(card_file, first)
    return source if source is not None and is_upstream_markdown(source) else None


def _gaps(path: Path) -> list[str]:
    """``evaluation_gaps`` of a card file; an unreadable card is already an error of its own."""
    try:
        return evaluation_gaps(read_card(path))
    except ConfigError:
        return []
