"""Import an upstream-style markdown model card into ``card.yaml`` plus a README with zoo markers.

Release teams arrive with cards written by hand. Three steps: **parse** the markdown (``zoo.markdown.tables``
reads its tables tolerantly), **assemble** card data from them (``zoo.importer.tables`` reads each kind of table;
false claims stay claims, so ``zoo verify`` can flag them), and **write** ``card.yaml`` and the README, whose
tables are replaced by markers and rendered back from the card. Before anything is written every table's
numbers are compared with its rendering; a table that would lose one is kept verbatim instead, with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from zoo.cards.checks import arxiv_problem
from zoo.cards.card import load_card
from zoo.core.errors import UsageError
from zoo.core.files import write_atomic
from zoo.importer.assembly import assemble
from zoo.importer.source import parse
from zoo.catalog.registry import Registry
from zoo.render.readme import render_text


@dataclass
class ImportResult:
    card: Path
    readme: Path
    warnings: list[str] = field(default_factory=list)
    kept_as_text: list[str] = field(default_factory=list)


def import_card(source: Path, card_path: Path, registry: Registry | None, *, force: bool = False) -> ImportResult:
    """Write ``card_path`` and, next to it, ``README.md`` rendered from it (both atomically).

    Refuses (``UsageError``, nothing written) to replace an existing card.yaml, or a README.md other than
    ``source`` itself, unless ``force``. Raises ``InvalidDataError`` (nothing written) for tables that cannot be
    aligned or a card that would not validate.
    """
    readme_path = card_path.parent / "README.md"
    if not force:
        for target in (card_path, readme_path):
            if target.exists() and not (target == readme_path and _same_file(target, source)):
                raise UsageError("already exists (pass --force to overwrite it)", path=target)
    assembly = assemble(parse(source), registry)
    text = f"# Imported from {source.name} by `zoo import-card`; README.md tables are rendered from it.\n"
    text += yaml.safe_dump(assembly.card, sort_keys=False, allow_unicode=True, width=120)
    loaded = load_card(card_path, text=text)  # a card that would not validate is refused before writing
    warnings = list(assembly.warnings)
    if "paper" in assembly.card and (why := arxiv_problem(assembly.card["paper"])):
        warnings.append(f"{source}: paper: {why} (kept as the card states it; zoo validate reports it)")
    if assembly.card["license"]["id"] == "NOASSERTION":
        warnings.append(f"{source}: the card states no model licence; recorded as NOASSERTION")
    rendered = render_text(assembly.readme, loaded, registry, path=readme_path)
    write_atomic(card_path, text)  # makes the folder; an -o that is a file is one line, not a traceback
    write_atomic(readme_path, rendered)
    return ImportResult(card_path, readme_path, warnings, assembly.kept_as_text)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False
