"""Import, step one (parse): read an upstream markdown card into its lines, tables, title and use case."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zoo.importer import tables as read
from zoo.core.errors import InvalidDataError
from zoo.core.files import read_text
from zoo.markdown.tables import Table, parse_tables
from zoo.markdown.cells import clean_text


@dataclass
class Source:
    """A parsed markdown card: its lines, tables, title and use case."""

    path: Path
    lines: list[str]
    tables: list[Table]
    title: str
    use_case: str


def parse(source: Path) -> Source:
    """Read ``source``; tables whose rows cannot be aligned are refused (``InvalidDataError``, with lines)."""
    try:
        text, _ = read_text(source)
    except FileNotFoundError:
        raise InvalidDataError(["cannot read: no such file"], path=source) from None
    parsed, problems = parse_text(source, text)
    if problems:
        raise InvalidDataError(problems, path=source)
    return parsed


def parse_text(source: Path, text: str) -> tuple[Source, list[str]]:
    """A card's text as a ``Source``, and the tables it could not read (``line: message``) instead of refusing
    it: a reviewer reads the rest of a card whose one table is broken."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    tables, problems = parse_tables(lines)
    title = next((clean_text(l.lstrip("#")) for l in lines if l.startswith("# ")), source.parent.name) or "untitled"
    use_case = re.search(r"use case\W*`([^`]+)`", text, re.I)
    return Source(source, lines, tables, title, read.slug(use_case.group(1)) if use_case else "unknown"), problems
