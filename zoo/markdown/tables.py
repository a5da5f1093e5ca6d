"""Read the pipe tables of a markdown document, tolerantly, each with its position and nearest heading.

Hand-written cards break GitHub's table rules in a few recurring ways: rows without a leading or trailing
pipe, a separator row with one column more than the header, rows padded with extra empty cells, rows with
fewer cells than the header (GitHub shows them padded with empty cells at the end, and so do we), rows with
more (GitHub hides the extra cells; we keep them under unnamed columns), a header missing a pipe, tabs and
stray spaces, CRLF line ends. Each repair is noted on the table with its line; nothing is dropped silently.
Cells stay text here; ``zoo.markdown.cells`` reads them as figures.

>>> tables, problems = parse_tables(["## Speed", "Model | ms", "---|---|---", "a | 1.5 |  |"])
>>> tables[0].heading, tables[0].headers, tables[0].rows, problems
('Speed', ['Model', 'ms'], [['a', '1.5']], [])
>>> tables, problems = parse_tables(["| Model | ms | MHz |", "|---|---|---|", "| a | 1.5 |"])
>>> tables[0].rows, tables[0].repairs, problems
([['a', '1.5', '']], ['3: row has 2 cells, its header 3; padded with empty cells at the end'], [])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_RULE_CELL = re.compile(r"^:?-+:?$")
_SPLIT = re.compile(r"(?<!\\)\|")
_FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass
class Table:
    """A pipe table of the source: where it sits, its section heading, header and rows."""

    start: int  # 0-based line index of the header row
    end: int  # index after the last row
    heading: str
    headers: list[str]
    rows: list[list[str]]
    repairs: list[str] = field(default_factory=list)  # "line: what was repaired"

    def row_line(self, n: int) -> int:
        """1-based file line of row ``n``."""
        return self.start + 3 + n


def _cells(line: str) -> list[str]:
    """The cells of a row, with or without its outer pipes (``\\|`` stays inside a cell)."""
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return [" ".join(c.split()) for c in _SPLIT.split(inner)]


def _is_rule(line: str) -> bool:
    """A separator row: dashes (and colons) between pipes; a bare ``---`` is a thematic break, not a rule."""
    return "-" in line and bool(_SPLIT.search(line)) and all(_RULE_CELL.match(c.replace(" ", "")) for c in _cells(line))


def _is_row(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#") and bool(_SPLIT.search(stripped))


def _trim(row: list[str], width: int) -> list[str]:
    """Drop empty cells past ``width`` (rows padded with extra pipes)."""
    while len(row) > width and not row[-1]:
        row = row[:-1]
    return row


def _fit(table: Table, rule_width: int) -> None:
    """Make every row as wide as the header (``line: what was repaired`` on the table). GitHub pads a short row
    with empty cells and hides the cells of a long one; we pad too, but keep every cell of a long row under
    unnamed columns added to the header, so no figure is lost."""
    declared = width = len(table.headers)
    rows = [_trim(r, width) for r in table.rows]
    if any(len(r) != len(o) for r, o in zip(rows, table.rows)):
        table.repairs.append(f"{table.start + 1}: rows with extra empty cells trimmed to the header's {width}")
    longer = {len(r) for r in rows if len(r) > width}
    if longer and longer == {rule_width}:
        table.repairs.append(f"{table.start + 1}: the header has {width} cells, the separator and rows {rule_width}; "
                             "unnamed columns added to the header")
    elif longer:
        table.repairs += [f"{table.row_line(n)}: row has {len(r)} cells, its header {width}; unnamed columns added "
                          "to the header for the extra cells" for n, r in enumerate(rows) if len(r) > width]
    if longer:
        table.headers += [""] * (max(longer) - width)
        width = max(longer)
    for n, row in enumerate(rows):
        if len(row) < declared:  # GitHub renders the missing cells as empty ones at the end
            table.repairs.append(f"{table.row_line(n)}: row has {len(row)} cells, its header {declared}; "
                                 "padded with empty cells at the end")
        rows[n] = row + [""] * (width - len(row))
    table.rows = rows


def parse_tables(lines: list[str]) -> tuple[list[Table], list[str]]:
    """Every pipe table with its nearest heading; empty tables are problems (``line: message``); repaired
    faults are listed on each table."""
    tables, problems, heading, i, fenced = [], [], "", 0, False
    while i < len(lines):
        line = lines[i].rstrip("\r")
        if _FENCE.match(line):
            fenced = not fenced
        if fenced:
            i += 1
            continue
        if line.strip().startswith("#"):
            heading = line.strip().lstrip("#").strip()
        if not (_is_row(line) and i + 1 < len(lines) and _is_rule(lines[i + 1].rstrip("\r"))):
            i += 1
            continue
        headers, end = _trim(_cells(line), 1), i + 2
        rule_width = len(_trim(_cells(lines[i + 1]), 1))
        rows = []
        while end < len(lines) and _is_row(lines[end]) and not _is_rule(lines[end]):
            rows.append(_cells(lines[end].rstrip("\r")))
            end += 1
        table = Table(i, end, heading, headers, rows)
        _fit(table, rule_width)
        if not rows:
            problems.append(f"{i + 1}: table has a header but no rows")
        tables.append(table)
        i = end
    return tables, problems
