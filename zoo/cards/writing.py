"""Record measured host figures in a card.yaml without disturbing anything else in the file.

A textual edit, not a YAML round-trip: cards are hand-written (comments, flow mappings, quoting), and a
re-dump would reformat them. The parser's line numbers (``zoo.core.documents``) locate each performance
record; a measured record for the same variant, dataset, host and metrics is replaced in place, a new one
is appended at the end of the ``performance:`` list. The result is re-parsed before it replaces the file
(atomically), so a bad edit never reaches the disk.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from zoo.cards.card import Card, record_key
from zoo.core.documents import load_yaml
from zoo.core.errors import ConfigError
from zoo.core.files import read_text, write_atomic


def _render(record: dict[str, Any], indent: str) -> list[str]:
    """One list item in the cards' style: top-level keys in block style, nested mappings in flow style."""
    lines = []
    for key, value in record.items():  # "{key: value}" in flow style, minus the outer braces
        lines.append(yaml.safe_dump({key: value}, default_flow_style=True, sort_keys=False, width=10_000).strip()[1:-1])
    return [f"{indent}- {lines[0]}\n"] + [f"{indent}  {line}\n" for line in lines[1:]]


def write_records(card: Card, records: list[dict[str, Any]]) -> int:
    """Insert or replace ``records`` (``origin: measured``) in the card's performance list; returns how many.

    A measured record with the same ``zoo.cards.card.record_key`` is replaced, so re-measuring never piles up.
    """
    path = card.path
    for record in records:
        doc = load_yaml(path)  # each record edits the file the previous one wrote
        text, _ = read_text(path)  # without a BOM; write_atomic puts it back
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        existing = (doc.data or {}).get("performance")
        if not isinstance(existing, list) or not existing:
            raise ConfigError("card has no performance list to add measured records to", path=path)
        starts = [doc.line(("performance", i)) - 1 for i in range(len(existing))]
        indent = lines[starts[0]][: len(lines[starts[0]]) - len(lines[starts[0]].lstrip())]
        end = _block_end(lines, starts[-1], len(indent))
        new = _render(record, indent)
        key = record_key(record)
        same = [i for i, r in enumerate(existing) if r.get("origin") == "measured" and record_key(r) == key]
        if same:
            i = same[0]
            stop = starts[i + 1] if i + 1 < len(starts) else end
            lines[starts[i]:stop] = new
        else:
            lines[end:end] = new
        _replace(path, "".join(lines))
    return len(records)


def _block_end(lines: list[str], last_start: int, indent: int) -> int:
    """The line after the last record: the next line indented no deeper than the list's dashes."""
    end = len(lines)
    for i in range(last_start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped and not stripped.startswith("#") and len(lines[i]) - len(lines[i].lstrip()) <= indent:
            end = i
            break
    while end > last_start + 1 and not lines[end - 1].strip():  # blank lines stay after the new record
        end -= 1
    return end


def _replace(path: Path, text: str) -> None:
    load_yaml(path, text=text)  # refuse to write a card that no longer parses
    write_atomic(path, text)
