"""One table cell as data and back: a number, a number with a unit or a qualifier (``~``), a range, or text.

Published cards write figures every way a person types them: ``1.46  ms``, ``96 MHz``, ``~1.49–3.72``,
``725,061``, ``130 K``, ``90.0%``, ``17.21 KiB KiB``, ``3.2e-3``, ``NA``, ``64 %*`` (with a footnote mark).
``parse_cell`` keeps every one of them: as figures where the text is a figure, as text otherwise, so that
``format_cell`` gives the same numbers back. A cell is stored in a card as a small mapping:
``{value, digits?, unit?, qualifier?, note?}``, ``{low, high, unit?, qualifier?, note?}`` or ``{text}``;
``digits`` keeps the decimals a published figure was written with when the number alone would lose them
(``56.90`` stays 56.90, not 56.9).

>>> parse_cell("~1.49–3.72 ms")
{'low': 1.49, 'high': 3.72, 'unit': 'ms', 'qualifier': '~'}
>>> format_cell(parse_cell("725,061")), format_cell(parse_cell("17.21 KiB KiB")), format_cell(parse_cell("90.0%"))
('725061', '17.21 KiB', '90.0 %')
>>> parse_cell("56.90 %"), format_cell(parse_cell("56.90 %")), format_cell(parse_cell("1,008.00"))
({'value': 56.9, 'digits': 2, 'unit': '%'}, '56.90 %', '1008.00')
>>> parse_cell("TensorFlowLite 2.18.0"), parse_cell("N/A")
({'text': 'TensorFlowLite 2.18.0'}, {'text': 'N/A'})
"""

from __future__ import annotations

import math
import re
from typing import Any

from zoo.cards.units import UNIT_SPELLINGS

_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?"
_QUALIFIER = r"~|≈|<=|>=|≤|≥|<|>"
_RANGE_SEP = r"\s*(?:–|—|-|to|~)\s*"
_UNIT = r"%|[A-Za-zµμ°][A-Za-zµμ°/]{0,9}(?:/[A-Za-z]{1,4})?"
_CELL = re.compile(
    rf"(?P<qualifier>{_QUALIFIER})?\s*(?P<low>{_NUMBER})(?:{_RANGE_SEP}(?P<high>{_NUMBER}))?"
    rf"(?:\s*(?P<unit>{_UNIT})(?:\s+(?P=unit))*)?\s*(?P<note>\*+|†+)?"
)
_EMPHASIS = re.compile(r"^(\*\*|__)(.*)\1$")


def clean_text(text: str) -> str:
    """Markdown escapes and bold emphasis removed, whitespace (tabs too) collapsed."""
    text = " ".join(text.replace("\\*", "*").replace("\\_", "_").split())
    found = _EMPHASIS.match(text)
    return found.group(2).strip() if found else text


def _figure(text: str) -> int | float | None:
    """``725,061`` -> 725061, ``0.70`` -> 0.7, ``3e-3`` -> 0.003; None when ``text`` is no finite number
    (``1e999`` is kept as text: no card figure is infinite).

    >>> _figure("725,061"), _figure("3e-3"), _figure("1e999"), _figure("9" * 400)
    (725061, 0.003, None, None)
    """
    plain = text.replace(",", "")
    if not re.search(r"\d", plain):
        return None
    if re.fullmatch(r"[+-]?\d+", plain) and len(plain) <= 18:
        return int(plain)
    try:
        value = float(plain)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_cell(text: str) -> dict[str, Any]:
    """The cell as data: figures (with unit, qualifier, range, footnote mark) where it is one, else text."""
    cleaned = clean_text(text)
    found = _CELL.fullmatch(cleaned) if cleaned else None
    low = _figure(found.group("low")) if found and found.group("low") else None
    high = _figure(found.group("high")) if found and found.group("high") else None
    if found is None or low is None or (found.group("high") and high is None):
        return {"text": cleaned}
    cell: dict[str, Any] = {"low": low, "high": high} if high is not None else {"value": low}
    if high is None and (digits := _trailing_zero_digits(found.group("low"), low)):
        cell["digits"] = digits
    if unit := found.group("unit"):
        cell["unit"] = UNIT_SPELLINGS.get(unit, unit)
    for key in ("qualifier", "note"):
        if found.group(key):
            cell[key] = found.group(key)
    return cell


def _trailing_zero_digits(written: str, value: int | float) -> int | None:
    """The decimals of ``written`` when printing ``value`` would drop some of them (``0.70``, ``8.00``)."""
    plain = written.replace(",", "")
    if "." not in plain or "e" in plain.lower() or figure_text(value) == plain:
        return None
    digits = len(plain.split(".")[1])
    return digits if f"{value:.{digits}f}" == plain.lstrip("+") else None


def printed_interval(text: str) -> tuple[float, float, str | None] | None:
    """The figure a cell prints, as the interval its printed digits stand for, with its unit as written; None for
    text and ranges. ``16.19`` is any value in [16.185, 16.195]: a check on printed figures holds within that.

    >>> printed_interval("16.19 KiB"), printed_interval("28.80"), printed_interval("2,752")
    ((16.185, 16.195, 'KiB'), (28.795, 28.805, None), (2751.5, 2752.5, None))
    """
    found = _CELL.fullmatch(clean_text(text)) if text.strip() else None
    if found is None or found.group("high") or not found.group("low") or _figure(found.group("low")) is None:
        return None
    written = found.group("low").replace(",", "").lstrip("+")
    mantissa, _, exponent = written.lower().partition("e")
    places = (len(mantissa.split(".")[1]) if "." in mantissa else 0) - int(exponent or 0)
    value, half = float(written), 0.5 * 10.0 ** -places
    return round(value - half, places + 6), round(value + half, places + 6), found.group("unit")


def is_text(cell: dict[str, Any]) -> bool:
    return "text" in cell


def figure_text(value: Any, digits: int | None = None) -> str:
    """A stored number as the cards print it: 480 stays 480, 1024.0 stays 1024.0, 56.9 with 2 digits 56.90."""
    return f"{value:.{digits}f}" if digits and isinstance(value, (int, float)) else str(value)


def format_cell(cell: dict[str, Any], *, unit: bool = True) -> str:
    """The cell as table text; ``unit=False`` when the column header carries the unit."""
    if "text" in cell:
        return str(cell["text"])
    body = (f"{figure_text(cell['low'])}–{figure_text(cell['high'])}" if "low" in cell
            else figure_text(cell["value"], cell.get("digits")))
    shown = cell.get("unit") if unit else None
    return cell.get("qualifier", "") + body + (f" {shown}" if shown and shown != "1" else "") + cell.get("note", "")


def numbers_in(text: str) -> list[float]:
    """Every number written in ``text`` (thousands separators read as such), for round-trip comparisons.

    >>> numbers_in("| 1,024 | ~1.5–3 ms | v6.1.0 | 3e-3 |")
    [1024.0, 1.5, 3.0, 6.1, 0.0, 0.003]
    """
    found = re.findall(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?", text)
    return [float(n.replace(",", "")) for n in found]
