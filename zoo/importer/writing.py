"""Import an upstream-style markdown model card into ``card.yaml`` plus a README with zoo markers.

Release teams arrive with cards written by hand. Three steps: **parse** the markdown (``zoo.markdown.tables``
reads its tables tolerantly), **assemble** card data from them (``zoo.importer.tables`` reads each kind of table;
false claims stay claims, so ``zoo verify`` can flag them), and **write** ``card.yaml`` and the README, whose
tables are replaced by markers and rendered back from the card. Before anything is written every table's
numbers are compared with its rendering; a table that would lose one is kept verbatim instead, with a warning.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zoo.cards.checks import arxiv_problem
from zoo.cards.card import load_card, read_card
from zoo.cards.variants import FILE_FACTS
from zoo.core.errors import UsageError
from zoo.core.files import safe_name, write_files
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
    ``source`` itself, unless ``force``. Over an existing card, what its variants say the files prove
    (``zoo add``: inputs, outputs, parameters, footprint) is kept, and so are its variants the README does
    not name. Raises ``InvalidDataError`` (nothing written) for tables that cannot be
    aligned or a card that would not validate.
    """
    readme_path = card_path.parent / "README.md"
    if not force:
        for target in (card_path, readme_path):
            if target.exists() and not (target == readme_path and _same_file(target, source)):
                raise UsageError("already exists (pass --force to overwrite it)", path=target)
    assembly = assemble(parse(source), registry)
    if card_path.is_file():
        keep_file_facts(assembly.card, read_card(card_path).data)
    text = f"# Imported from {_relative(source, card_path.parent)} by `zoo import-card`; README.md tables are rendered from it.\n"
    text += yaml.safe_dump(assembly.card, sort_keys=False, allow_unicode=True, width=120)
    loaded = load_card(card_path, text=text)  # a card that would not validate is refused before writing
    warnings = list(assembly.warnings)
    if "paper" in assembly.card and (why := arxiv_problem(assembly.card["paper"])):
        warnings.append(f"{source}: paper: {why} (kept as the card states it; zoo validate reports it)")
    if assembly.card["license"]["id"] == "NOASSERTION":
        warnings.append(f"{source}: the card states no model licence; recorded as NOASSERTION")
    rendered = render_text(assembly.readme, loaded, registry, path=readme_path)
    # Both or neither (a full disk must not leave a card without its README); makes the folder; an -o that is
    # a file is one line, not a traceback.
    write_files({card_path: text, readme_path: rendered})
    return ImportResult(card_path, readme_path, warnings, assembly.kept_as_text)


_IMPORTED_FROM = re.compile(r"^# Imported from (?P<source>.+?) by `zoo import-card`")


def _relative(source: Path, folder: Path) -> str:
    """``source`` as seen from the card's folder (``zoo validate`` reviews it there while it is unchanged)."""
    try:
        return Path(os.path.relpath(os.path.abspath(source), os.path.abspath(folder))).as_posix()
    except ValueError:  # another drive
        return source.name


def imported_from(card_path: Path, first_line: str) -> Path | None:
    """The markdown card a card.yaml says it was imported from (its first line), if it says so.

    >>> imported_from(Path("out/yolo/card.yaml"), "# Imported from ../../up/yolo.md by `zoo import-card`; ...")
    PosixPath('up/yolo.md')
    """
    found = _IMPORTED_FROM.match(first_line)
    return Path(os.path.normpath(card_path.parent / found.group("source"))) if found else None


def import_targets(readmes: list[str | Path], output: str | Path | None) -> list[tuple[Path, Path]]:
    """(source, card path) for each README: next to it, at ``-o CARD.yaml``, or in ``-o DIR/<card name>/``.

    A card's name is its README's folder (or the file's stem), read from the path with ``..`` resolved, and
    every card lands inside ``DIR``: ``x/sub/../README.md`` is the card ``x``, never ``DIR/../card.yaml``.

    >>> [str(c) for _, c in import_targets(["x/sub/../README.md", "y/README.md"], "out")]
    ['out/x/card.yaml', 'out/y/card.yaml']
    >>> [str(c) for _, c in import_targets(["up/yolo.md"], "out/yolo/")]
    ['out/yolo/card.yaml']
    """
    sources = [Path(r) for r in readmes]
    if output is None:
        return [(s, s.parent / "card.yaml") for s in sources]
    out = Path(output)
    if out.suffix in (".yaml", ".yml"):
        if len(sources) > 1:
            raise UsageError(f"-o {output} names one card; give a folder to import {len(sources)} READMEs")
        return [(sources[0], out)]
    names = [_card_name(s) for s in sources]
    if len(sources) == 1 and out.name == names[0]:  # -o out/NAME/ for NAME's README: that is the card's folder
        return [(sources[0], out / "card.yaml")]
    if len(set(names)) != len(names):
        names = [f"{n}_{i + 1}" for i, n in enumerate(names)]
    return [(s, out / n / "card.yaml") for s, n in zip(sources, names)]


def _card_name(source: Path) -> str:
    """The folder name a README's card gets under ``-o DIR``: always one bare, safe path segment."""
    real = Path(os.path.abspath(source))  # "..": lexically, as the user wrote the path
    name = real.parent.name if real.name.lower() == "readme.md" else real.stem
    try:
        return safe_name(name, "card name")
    except UsageError:
        return "card"


def keep_file_facts(card: dict[str, Any], existing: dict[str, Any]) -> None:
    """Carry the file facts of ``existing``'s variants into the imported ``card`` (they were read from the
    files; a README's tables are claims), and the variants the README does not name.

    >>> card = {"variants": [{"id": "a", "label": "A", "parameters": {"published": {"value": 1.6}}}]}
    >>> keep_file_facts(card, {"variants": [{"id": "a", "parameters": {"count": 9}, "inputs": [1]}, {"id": "b"}]})
    >>> card["variants"]
    [{'id': 'a', 'label': 'A', 'parameters': {'published': {'value': 1.6}, 'count': 9}, 'inputs': [1]}, {'id': 'b'}]
    """
    old = {v.get("id"): v for v in existing.get("variants") or [] if isinstance(v, dict)}
    variants = card.setdefault("variants", [])
    for variant in variants:
        before = old.pop(variant.get("id"), None) or {}
        for key in FILE_FACTS:
            if key == "parameters" and isinstance(before.get(key), dict):
                variant[key] = {**variant.get(key, {}), **before[key]}
            elif key in before:
                variant[key] = before[key]
    variants += list(old.values())


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False
