"""Figures against figures of the same row, at the precision they are printed: totals against their parts, rates
against times, units a column states against what its cells hold."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterator

from zoo.cards.units import UNIT_SPELLINGS, inferences_per_second
from zoo.importer.tables import header_key
from zoo.markdown.cells import clean_text, printed_interval
from zoo.review.findings import Finding, finding
from zoo.review.page import Page, Row
from zoo.verification.rules.base import Severity

_TOTALS = {"total ram": (r"^activations? ram", r"^runtime ram"), "total flash": (r"^weights? flash", r"^code flash")}
_KILO = {"kb": "kB", "kib": "KiB"}
_UNIT_WORDS = {"KiB", "KB", "kB", "MiB", "MB", "B", "ms", "s", "us", "MHz", "GHz", "%", "fps", "M", "K"}


def _header_unit(header: str) -> str | None:
    found = re.search(r"\(([^)]*)\)", header)
    return found.group(1).strip() if found else None


def _figure(row: Row, pattern: str) -> tuple[float, float, str | None, str] | None:
    """(low, high, unit, header) of the one column matching ``pattern`` in ``row``; None if absent or no figure."""
    cells = row.header_cells(pattern)
    if len(cells) != 1:
        return None
    col, text = cells[0]
    got = printed_interval(text)
    return (got[0], got[1], got[2] or _header_unit(col.header), col.header) if got else None


def _kilo(unit: str | None) -> str | None:
    return _KILO.get((unit or "").lower())


def totals(page: Page) -> Iterator[Finding]:
    """Total RAM = activations + runtime RAM, total flash = weights + code flash, within the printed rounding; a
    total in kB that is the KiB sum of its parts is a unit error (once, on the header, when every row of the column
    shows it: the header is what is wrong)."""
    unit_errors: dict[tuple[int, str, str, str], list[Finding]] = defaultdict(list)
    checked: Counter[tuple[int, str]] = Counter()
    for row in page.rows:
        for total_name, parts_patterns in _TOTALS.items():
            total = _figure(row, rf"^{total_name}")
            parts = [_figure(row, p) for p in parts_patterns]
            if total is None or None in parts:
                continue
            checked[(row.table.start, total[3])] += 1
            low, high = sum(p[0] for p in parts), sum(p[1] for p in parts)  # type: ignore[index]
            units = {_kilo(p[2]) for p in parts}  # type: ignore[index]
            shown = " + ".join(clean_text(row.cells[next(c.index for c in row.cols if c.header == p[3])])
                               for p in parts)  # type: ignore[index]
            fits = total[1] >= low - 1e-9 and total[0] <= high + 1e-9
            if len(units) == 1 and (part_unit := units.pop()) and _kilo(total[2]) and _kilo(total[2]) != part_unit:
                if fits:
                    unit_errors[(row.table.start, total[3], part_unit, _kilo(total[2]) or "")].append(finding(
                        page.path, row.line, "readme.unit",
                        f"{total[3]} holds {shown} added in {part_unit} but says {_kilo(total[2])}; "
                        f"label the column {part_unit} or convert its figures"))
                    continue
                factor = 1024 / 1000 if part_unit == "KiB" else 1000 / 1024
                low, high = low * factor, high * factor
                fits = total[1] >= low - 1e-9 and total[0] <= high + 1e-9
            if not fits:
                yield finding(page.path, row.line, "readme.total",
                              f"{total[3]} {clean_text(row.cells[next(c.index for c in row.cols if c.header == total[3])])}"
                              f" is not {shown} (= {_sum_text(parts)}); fix the total or a part")
    for (start, header, part_unit, said), found in unit_errors.items():
        if len(found) >= 2 and len(found) == checked[(start, header)]:
            yield finding(page.path, start + 1, "readme.unit",
                          f"{header} holds the {part_unit} sum of its parts in all {len(found)} rows but says {said}; "
                          f"label the column {part_unit} or convert its figures")
        else:
            yield from found


def _sum_text(parts: list) -> str:
    """The sum of printed figures at the finest precision among them: 10.75 + 6.16 -> 16.91."""
    places = max(len(f"{p[1] - p[0]:.10f}".rstrip("0").rstrip(".").partition(".")[2]) for p in parts)
    return f"{sum((p[0] + p[1]) / 2 for p in parts):.{places}f}"


def rates(page: Page) -> Iterator[Finding]:
    """An inferences/s that no time inside the printed time's rounding range produces (interval arithmetic)."""
    for row in page.rows:
        time = next((c for c in row.cols if c.role == "metric" and c.metric and c.metric.quantity == "time"), None)
        rate = next((c for c in row.cols if c.role == "derived"), None)
        if time is None or rate is None:
            continue
        t, r = printed_interval(row.cells[time.index]), printed_interval(row.cells[rate.index])
        if not t or not r or t[0] <= 0:
            continue
        unit = UNIT_SPELLINGS.get(t[2] or "", t[2] or "") or time.unit or "ms"
        if unit not in ("ms", "s", "us"):
            continue
        fastest, slowest = inferences_per_second(t[1], unit), inferences_per_second(t[0], unit)
        if r[1] < fastest - 1e-9 or r[0] > slowest + 1e-9:
            yield finding(page.path, row.line, "readme.rate",
                          f"{clean_text(rate.header)} {clean_text(row.cells[rate.index])} cannot come from "
                          f"{clean_text(row.cells[time.index])} {unit if not t[2] else ''}".rstrip()
                          + f" (1000 / time is {fastest:.4g} to {slowest:.4g}); fix the rate or the time")


def units(page: Page) -> Iterator[Finding]:
    """A unit written twice (``17.21 KiB KiB``); a count in a column of millions (``MParams | 3,064``)."""
    for table in page.source.tables:
        for n, row in enumerate(table.rows):
            for text in row:
                doubled = re.search(r"(?<![A-Za-z])([A-Za-z%]+)\s+\1(?![A-Za-z])", clean_text(text))
                if doubled and doubled.group(1) in _UNIT_WORDS:
                    yield finding(page.path, table.row_line(n), "readme.unit",
                                  f"cell {clean_text(text)!r} writes its unit twice; write it once")
                    break
    for table in page.source.tables:
        millions = [i for i, h in enumerate(table.headers)
                    if re.search(r"\bmparams?\b|\bmillions?\b", header_key(h)) or _header_unit(h) == "M"]
        for n, row in enumerate(table.rows):
            labelled = re.search(r"\bmparams?\b|\(m\)|\bmillions?\b", clean_text(row[0]).lower()) and len(row) > 1
            for i in set(millions) | ({1} if labelled else set()):
                got = printed_interval(row[i]) if i < len(row) else None
                if got and got[2] is None and got[0] >= 1000:
                    yield finding(page.path, table.row_line(n), "readme.unit",
                                  f"{clean_text(row[i])!r} is a raw count in a figure of millions of parameters; "
                                  "write it in millions (or drop the M)")


def parameters_fit(page: Page) -> Iterator[Finding]:
    """A parameter count that cannot fit the weights flash the card prints for the same int8 (or float32) model.

    Each int8 weight takes at least a byte (float32: four); batch norms fold into convolutions, so a count may
    exceed the bytes a little (a warning up to 25 %), never by more (an error).
    """
    for table in page.source.tables:
        if not table.headers or not header_key(table.headers[0]).startswith("network information"):
            continue
        for n, cells in enumerate(table.rows):
            key = clean_text(cells[0])
            count = _parameter_count(key, clean_text(cells[1]) if len(cells) > 1 else "")
            if count is None:
                continue
            flash = _smallest_weights(page, key)
            if flash is None:
                continue
            nbytes, where, precision, text = flash
            need = count * (1 if precision == "int8" else 4)
            if need <= nbytes * 1.0:
                continue
            severity = None if need > nbytes * 1.25 else Severity.WARNING
            yield finding(page.path, table.row_line(n), "readme.parameters",
                          f"{key} {clean_text(cells[1])} is {need / 1024:.0f} KiB of {precision} weights, more than "
                          f"the {text} KiB weights flash of line {where}; fix the parameter count",
                          severity)


def _parameter_count(key: str, value: str) -> float | None:
    low = key.lower()
    if not re.search(r"\b(m?params?|parameters)\b", low):
        return None
    found = re.fullmatch(r"(\d[\d,]*(?:\.\d+)?)\s*([KkMm])?", value)
    if not found:
        return None
    number = float(found.group(1).replace(",", ""))
    if low.startswith("mparam") and not found.group(2) and number >= 1000:
        return None  # a raw count under millions: ``units`` reports that, this cannot tell the size
    scale = {"k": 1e3, "m": 1e6}.get((found.group(2) or "").lower(), 1e6 if low.startswith("mparam") else 1)
    return number * scale


def _smallest_weights(page: Page, key: str) -> tuple[float, int, str, str] | None:
    """(bytes, line, precision, figure) of the smallest weights flash of the rows ``key`` speaks of (``alpha=0.35``,
    ``1 stack``); every row when the card has one model, none when it cannot be told which."""
    rows = [r for r in page.rows if r.header_cells(r"^weights? flash")]
    labels = {r.label for r in rows}
    token = re.search(r"(?:alpha\s*=?\s*)?(\d+(?:\.\d+)?)\s*(stacks?)?", key.lower())
    if len(labels) > 1:
        if not token:
            return None
        word = token.group(1) + (f" {token.group(2)}" if token.group(2) else "")
        rows = [r for r in rows if re.search(rf"(?<![\d.]){re.escape(word)}(?![\d.])", r.label.lower())]
        if len({r.label for r in rows}) != 1:
            return None
    best = None
    for r in rows:
        precision = _precision(r.cell("format"))
        col, text = r.header_cells(r"^weights? flash")[0]
        got = printed_interval(text)
        unit = got[2] or _header_unit(col.header) or "KiB" if got else None
        if not got or precision is None or unit not in ("KiB", "KB", "kB"):
            continue
        nbytes = got[1] * (1024 if unit == "KiB" else 1000)
        if best is None or nbytes < best[0]:
            best = (nbytes, r.line, precision, clean_text(text))
    return best


def _precision(text: str) -> str | None:
    low = text.lower()
    return "int8" if re.fullmatch(r"u?int8", low) else "float32" if low in ("float32", "fp32") else None
