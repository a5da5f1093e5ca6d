"""Record measured host figures in a card.yaml without disturbing anything else in the file.

A textual edit, not a YAML round-trip: cards are hand-written (comments, flow mappings, quoting), and a
re-dump would reformat them. The parser's line numbers (``zoo.core.documents``) locate each performance
record; a measured record for the same variant, dataset, host and metrics is replaced in place, a new one
is appended at the end of the ``performance:`` list. A list written in flow style (``[{...}, {...}]``), an
empty one (``[]``) or none at all becomes a block list holding the same records. New lines end as the
file's lines end (CRLF stays CRLF). The result is re-parsed before it replaces the file (atomically), so a
bad edit never reaches the disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from zoo.cards.card import Card, record_key
from zoo.core.documents import load_yaml
from zoo.core.errors import ConfigError
from zoo.core.files import read_text, write_atomic


def _render(record: dict[str, Any], indent: str, newline: str = "\n") -> list[str]:
    """One list item in the cards' style: top-level keys in block style, nested mappings in flow style."""
    lines = []
    for key, value in record.items():  # "{key: value}" in flow style, minus the outer braces
        lines.append(yaml.safe_dump({key: value}, default_flow_style=True, sort_keys=False, width=10_000).strip()[1:-1])
    return [f"{indent}- {lines[0]}{newline}"] + [f"{indent}  {line}{newline}" for line in lines[1:]]


def write_records(card: Card, records: list[dict[str, Any]]) -> int:
    """Insert or replace ``records`` (``origin: measured``) in the card's performance list; returns how many.

    A measured record with the same ``zoo.cards.card.record_key`` is replaced, so re-measuring never piles up.
    """
    path = card.path
    for record in records:
        doc = load_yaml(path)  # each record edits the file the previous one wrote
        text, _ = read_text(path)  # without a BOM; write_atomic puts it back
        newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.splitlines(keepends=True)
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        existing = (doc.data or {}).get("performance") if isinstance(doc.data, dict) else None
        if existing is not None and not isinstance(existing, list):
            raise ConfigError("card's performance: is not a list; measured records cannot be added to it", path=path)
        starts = [doc.line(("performance", i)) - 1 for i in range(len(existing or ()))]
        if not starts or not lines[starts[0]].lstrip().startswith("-"):  # empty, absent or in flow style
            lines, at = _as_block_list(lines, existing or [], newline)
            if not existing:
                lines[at:at] = _render(record, "  ", newline)
                _replace(path, "".join(lines))
                continue
            doc = load_yaml(path, text="".join(lines))
            starts = [doc.line(("performance", i)) - 1 for i in range(len(existing))]
        indent = lines[starts[0]][: len(lines[starts[0]]) - len(lines[starts[0]].lstrip())]
        end = _block_end(lines, starts[-1], len(indent))
        new = _render(record, indent, newline)
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


def _as_block_list(lines: list[str], records: list[dict[str, Any]], newline: str) -> tuple[list[str], int]:
    """``lines`` with the top-level ``performance:`` (flow style, empty or missing) as a block list of ``records``
    (last in the file when there was none), and the index of the line after that list."""
    block = [f"performance:{newline}"] + [line for r in records for line in _render(r, "  ", newline)]
    start = next((i for i, line in enumerate(lines) if re.match(r"performance\s*:", line)), None)
    if start is None:
        return lines + block, len(lines) + len(block)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].strip() and not lines[i][0].isspace()
                and not lines[i].lstrip().startswith(("#", "]", "}"))), len(lines))
    return lines[:start] + block + lines[end:], start + len(block)


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
