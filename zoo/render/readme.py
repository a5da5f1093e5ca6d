"""Regenerate a README's tables and front matter from its card, cog-style, between named markers.

People write the prose; zoo owns only what sits between ``<!-- zoo:begin name=X -->`` and
``<!-- zoo:end name=X -->`` (``zoo.markdown.markers``) and the YAML front matter (Hugging Face conventions,
``zoo.render.front_matter``). The tables come from ``zoo.render.card_tables``. Broken markers are refused with
their line number; nothing is written. The ``footprint`` region (figures computed from the released
files, ``zoo.render.footprint``) is filled by ``render-card --footprint`` only; otherwise it keeps what it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zoo.render.card_tables import regions
from zoo.cards.card import Card
from zoo.core.errors import InvalidDataError
from zoo.core.files import read_text, write_atomic
from zoo.render.front_matter import dump_front_matter, front_matter
from zoo.markdown.markers import find_regions, splice
from zoo.catalog.registry import Registry

_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)
FROM_ARTIFACTS = frozenset({"footprint"})  # regions only `render-card --footprint` fills (it reads the files)


def render_text(text: str, card: Card, registry: Registry | None, *, path: Path,
                extra: dict[str, str] | None = None, variant: str | None = None) -> str:
    """``text`` (a README, any newline style) with front matter and every region regenerated, ``\\n`` newlines.

    ``variant``: the front matter of that variant alone (the README of a Hub repo that holds only it).

    ``extra`` holds regions computed from the artifacts; without it such a region keeps what it holds.
    Raises ``InvalidDataError`` (naming ``path`` and the line) for broken markers or a region the card
    cannot fill.
    """
    text = text.replace("\r\n", "\n")
    body = _FRONT.sub("", text, count=1).lstrip("\n")
    lines = body.split("\n")
    first = text.count("\n") - body.count("\n") + 1  # file line of the body's first line
    found, problems = find_regions(lines, first)
    available = regions(card, registry) | (extra or {})
    for name, begin, _ in found:
        if name not in available and name not in FROM_ARTIFACTS:
            problems.append(f"{first + begin}: the card has no data for region {name!r} (it can fill: {', '.join(available)})")
    if problems:
        raise InvalidDataError(problems, path=path)
    filled = [f for f in found if f[0] in available]
    return dump_front_matter(front_matter(card, variant)) + "\n" + "\n".join(splice(lines, filled, available))


@dataclass(frozen=True)
class Rendering:
    """One README: where it is, what it holds now, and what the card says it should hold."""

    card: Path
    readme: Path
    current: str
    expected: str
    crlf: bool
    unshown: tuple[str, ...] = ()  # regions the card can fill that the README has no markers for

    @property
    def warnings(self) -> list[str]:
        """One line per region whose figures the README never shows, naming the markers to add."""
        return [f"{self.readme}: the card has data for region {name!r} that the README does not show; add "
                f"<!-- zoo:begin name={name} --> and <!-- zoo:end name={name} --> where it belongs" for name in self.unshown]

    @property
    def stale(self) -> bool:
        return self.current.replace("\r\n", "\n") != self.expected

    def diff(self) -> str:
        import difflib

        old = self.current.replace("\r\n", "\n").splitlines(keepends=True)
        new = self.expected.splitlines(keepends=True)
        return "".join(difflib.unified_diff(old, new, f"a/{self.readme}", f"b/{self.readme}"))


def render_card(card: Card, registry: Registry | None, readme: Path | None = None,
                extra: dict[str, str] | None = None) -> Rendering:
    """What the README next to ``card`` (or ``readme``) should contain; nothing is written."""
    readme = readme or card.path.parent / "README.md"
    try:
        raw, _ = read_text(readme)  # without its BOM, else a second front matter; write_atomic keeps the BOM
    except FileNotFoundError:
        raise InvalidDataError(["no README.md next to the card (write one with zoo:begin/zoo:end markers)"], path=readme) from None
    expected = render_text(raw, card, registry, path=readme, extra=extra)
    body = _FRONT.sub("", raw.replace("\r\n", "\n"), count=1)
    shown = {name for name, _, _ in find_regions(body.split("\n"), 1)[0]}
    unshown = tuple(name for name in [*regions(card, registry), *(extra or {})] if name not in shown)
    return Rendering(card=card.path, readme=readme, current=raw, expected=expected, crlf="\r\n" in raw,
                     unshown=unshown)


def write(rendering: Rendering) -> bool:
    """Write a stale README in place, keeping its newline style; True when something changed."""
    if not rendering.stale:
        return False
    text = rendering.expected
    write_atomic(rendering.readme, text.replace("\n", "\r\n") if rendering.crlf else text)
    return True
