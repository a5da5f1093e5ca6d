"""``review_markdown``: every check of ``zoo.review`` over one markdown card, findings sorted by line."""

from __future__ import annotations

from pathlib import Path

from zoo.core.errors import InvalidDataError
from zoo.core.files import read_text
from zoo.markdown.markers import MARKER
from zoo.review import figures, links, prose, rows
from zoo.review.findings import Finding, finding
from zoo.review.page import Page, read_page
from zoo.verification.rules.base import Severity

CHECKS = (figures.totals, figures.rates, figures.units, figures.parameters_fit, links.syntax, links.citations,
          links.arxiv, links.papers, links.targets, rows.formats, rows.resolutions, rows.datasets, rows.labels, prose.task,
          prose.engines, prose.tools, prose.io, prose.multipliers, prose.references)


def review_page(page: Page) -> list[Finding]:
    """Every finding of every check on ``page``, once each, in line order."""
    found = {finding(page.path, int(p.split(":", 1)[0]) if p[:1].isdigit() else 1, "readme.table",
                     p.split(": ", 1)[-1], Severity.WARNING) for p in page.problems}
    for check in CHECKS:
        found.update(check(page))
    return sorted(found, key=lambda f: (f.line, f.severity != "error", f.rule, f.message))


def review_text(path: str | Path, text: str) -> list[Finding]:
    """The findings of a card given as text (nothing is read or written)."""
    return review_page(read_page(path, text))


def review_markdown(path: str | Path) -> list[Finding]:
    """The findings of the markdown card at ``path``, read in memory; an unreadable file is one finding."""
    try:
        text, _ = read_text(path)
    except FileNotFoundError:
        return [finding(str(path), 1, "readme.table", "no such file")]
    except (OSError, InvalidDataError) as exc:
        return [finding(str(path), 1, "readme.table", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)]
    return review_text(path, text)


def is_upstream_markdown(path: str | Path) -> bool:
    """A markdown card as published (reviewed as written), not a README zoo renders from a card.yaml."""
    path = Path(path)
    try:
        if path.suffix.lower() not in (".md", ".markdown") or not path.is_file():
            return False
        text, _ = read_text(path)
    except (OSError, InvalidDataError):
        return True  # review_markdown reports it
    return not any(MARKER.match(line.strip()) for line in text.splitlines())
