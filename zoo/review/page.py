"""A markdown card as a reviewer reads it: its lines (code blocks marked), sections, links and table rows with
what each column holds (``zoo.importer.tables.columns``), built once and shared by every check."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath

from zoo.importer.source import Source, parse_text
from zoo.importer.tables import Column, columns, header_key
from zoo.markdown.cells import clean_text
from zoo.markdown.tables import Table

_FENCE = re.compile(r"^\s*(```|~~~)")
_LINK_START = re.compile(r"(?<!!)\[")


@dataclass(frozen=True)
class Link:
    """A markdown link as written: its label, target, line, and whether it sits in a table row."""

    label: str
    target: str
    line: int
    in_table: bool

    @property
    def url(self) -> str:
        """The target without a title, angle brackets, query or leading ``./``: what the link opens, so
        ``./a/m.tflite`` and ``a/m.tflite`` are one file.

        >>> Link("m", "./a/m.tflite?raw=1", 1, True).url, Link("m", "a/m.tflite", 1, True).url
        ('a/m.tflite', 'a/m.tflite')
        """
        target = self.target.strip()
        target = target[1:target.find(">")] if target.startswith("<") and ">" in target else target.split(" ")[0]
        if target.startswith("#"):
            return target
        target = target.split("?")[0].split("#")[0]
        while target.startswith("./"):
            target = target[2:]
        return target

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.url.rstrip("/")).name


def links_in(line: str) -> list[tuple[str, str, int]]:
    """``(label, target, column)`` of each inline link of ``line``; labels may nest one bracket pair
    (``[paper[2]](#2)``), targets parentheses (``([x](y))``), so a malformed link is read whole, not in pieces.

    >>> links_in("see [paper[2]](#2) and [link](([W](\\"u\\")))")
    [('paper[2]', '#2', 4), ('link', '([W]("u"))', 23)]
    """
    out, i = [], 0
    while (found := _LINK_START.search(line, i)) is not None:
        start, depth, j = found.start(), 0, found.start()
        while j < len(line):
            depth += {"[": 1, "]": -1}.get(line[j], 0)
            if depth == 0:
                break
            j += 1
        if j >= len(line) or not line.startswith("(", j + 1):
            i = start + 1
            continue
        k, depth = j + 1, 0
        while k < len(line):
            depth += {"(": 1, ")": -1}.get(line[k], 0)
            if depth == 0:
                break
            k += 1
        out.append((line[start + 1:j], line[j + 2:k], start))
        i = k + 1
    return out


@dataclass
class Row:
    """One row of a table with a model column: its cells by role, its link and label."""

    table: Table
    cols: list[Column]
    cells: list[str]
    line: int
    link: Link | None
    label: str

    def cell(self, role: str) -> str:
        col = next((c for c in self.cols if c.role == role), None)
        return clean_text(self.cells[col.index]) if col else ""

    def header_cells(self, pattern: str) -> list[tuple[Column, str]]:
        """(column, cell) of every column whose header matches ``pattern`` (a regex on the header key)."""
        return [(c, self.cells[c.index]) for c in self.cols if re.search(pattern, header_key(c.header))]


@dataclass
class Page:
    """The reviewed card."""

    path: str
    source: Source
    problems: list[str]
    code: set[int] = field(default_factory=set)  # 0-based indices of lines inside fenced code

    @property
    def lines(self) -> list[str]:
        return self.source.lines

    @cached_property
    def table_lines(self) -> set[int]:
        return {i for t in self.source.tables for i in range(t.start, t.end)}

    @cached_property
    def links(self) -> list[Link]:
        return [Link(label, target, n + 1, n in self.table_lines) for n, text in enumerate(self.lines)
                if n not in self.code for label, target, _ in links_in(text)]

    @cached_property
    def rows(self) -> list[Row]:
        out = []
        for table in self.source.tables:
            cols = columns(table)
            model = next((c for c in cols if c.role == "model"), None)
            if model is None:
                continue
            padded = {int(r.split(":", 1)[0]) for r in table.repairs if "padded" in r and r[:1].isdigit()}
            linked = any(links_in(cells[model.index]) for cells in table.rows)
            for n, cells in enumerate(table.rows):
                text = cells[model.index]
                found = links_in(text)
                if not found and linked and table.row_line(n) in padded:
                    continue  # the rest of a row broken over two lines: its cells are not in their columns
                link = Link(found[0][0], found[0][1], table.row_line(n), True) if found else None
                label = clean_text(link.label if link else text)
                out.append(Row(table, cols, cells, table.row_line(n), link, label))
        return out

    def section_of(self, line: int) -> str:
        """The nearest heading above 1-based ``line``."""
        for n in range(line - 1, -1, -1):
            if self.lines[n].lstrip().startswith("#") and n not in self.code:
                return clean_text(self.lines[n].strip().lstrip("#"))
        return ""

    def prose(self) -> list[tuple[int, str]]:
        """(1-based line, text) of every line outside tables and code."""
        return [(n + 1, t) for n, t in enumerate(self.lines) if n not in self.code and n not in self.table_lines]


def read_page(path: str | Path, text: str) -> Page:
    source, problems = parse_text(Path(path), text)
    code, fenced = set(), False
    for n, line in enumerate(source.lines):
        if _FENCE.match(line):
            fenced = not fenced
            code.add(n)
        elif fenced:
            code.add(n)
    return Page(str(path), source, problems, code)
