"""Read the pipe tables of a markdown document, each with its position and nearest heading."""

from __future__ import annotations

import re
from dataclasses import dataclass

_RULE_CELL = re.compile(r"^:?-+:?$")


@dataclass
class Table:
    """A pipe table of the source: where it sits, its section heading, header and rows."""

    start: int  # 0-based line index of the header row
    end: int  # index after the last row
    heading: str
    headers: list[str]
    rows: list[list[str]]



def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [c.strip() for c in re.split(r"(?<!\\)\|", inner)]


def parse_tables(lines: list[str]) -> tuple[list[Table], list[str]]:
    """Every pipe table with its nearest heading; ragged rows and empty tables are problems (``line: msg``)."""
    tables, problems, heading, i = [], [], "", 0
    while i < len(lines):
        line = lines[i].strip()
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if not (line.startswith("|") and i + 1 < len(lines) and all(_RULE_CELL.match(c) for c in _cells(lines[i + 1]))):
            i += 1
            continue
        headers, end = _cells(line), i + 2
        rows = []
        while end < len(lines) and lines[end].strip().startswith("|"):
            row = _cells(lines[end])
            if len(row) != len(headers):
                problems.append(f"{end + 1}: table row has {len(row)} cells, its header has {len(headers)}")
            rows.append(row)
            end += 1
        if not rows:
            problems.append(f"{i + 1}: table has a header but no rows")
        tables.append(Table(i, end, heading, headers, rows))
        i = end
    return tables, problems
