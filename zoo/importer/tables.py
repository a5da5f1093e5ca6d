"""Read the performance tables of an upstream card into card records (network, tensor and platform tables and the
dataset sentence are ``zoo.importer.sections``' job).

A performance table becomes one record per row, tagged with the README region (``table``) it is rendered
back into, so a table keeps its rows and columns. Columns are read by what their header and cells say:
structural ones (model, dataset, format, resolution, series, board, engine, frequency, tool version) go to
their fields, figure columns to ``values`` (a known metric, or one named after its header when the header or
its cells state a unit zoo knows), and every other column to ``extra``, typed cell by cell. A figure cell that
is not a figure (``NA``, ``-``) is kept as text and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from zoo.markdown.tables import Table
from zoo.cards.units import (METRICS, QUALITY, UNITS, Metric, format_rate, inferences_per_second, metric_for_label,
                                 quantity_of_unit, unit_in_header)
from zoo.reid.protocols import PROTOCOLS
from zoo.markdown.cells import clean_text, is_text, parse_cell

LINK = re.compile(r"\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)\)")
TARGET = re.compile(r"\b(NPU|MCU|MPU|GPU|CPU)\b")
_DEFAULT_UNITS = {"memory": "KiB", "time": "ms", "accuracy": "%", "score": "1", "level": "dB"}
_STRUCTURE = {"model": "model", "models": "model", "dataset": "dataset", "format": "format", "resolution": "resolution",
              "input shape": "resolution", "input size": "resolution", "input resolution": "resolution", "split": "split",
              "series": "series", "board": "board", "execution engine": "engine", "frequency": "frequency"}



def slug(text: str) -> str:
    """A card id from free text: ``COCO-Person`` -> ``coco_person``."""
    found = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:64].strip("_")
    return found or "x"


def header_key(header: str) -> str:
    """A header without emphasis, footnote marks, units in parentheses or case: ``**Format**`` -> ``format``."""
    text = re.sub(r"\(.*?\)", " ", clean_text(header).replace("*", "")).lower()
    return " ".join(text.split())


@dataclass
class Column:
    """What one column of a performance table holds."""

    index: int
    header: str
    role: str  # model, dataset, format, resolution, split, series, board, engine, frequency, tool, protocol, metric,
    # derived, extra
    metric: Metric | None = None
    unit: str = ""


@dataclass
class Rows:
    """A performance table read into records, and what was kept as text (``line: message``)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    kept_as_text: list[str] = field(default_factory=list)


def _cell_quantity(table: Table, i: int) -> str | None:
    """The quantity every figure of column ``i`` states by its own unit, if they agree."""
    units = {parse_cell(r[i]).get("unit") for r in table.rows if r[i] and not is_text(parse_cell(r[i]))}
    quantities = {quantity_of_unit(u) if u else None for u in units}
    return quantities.pop() if len(quantities) == 1 else None


def _metric_column(table: Table, i: int, header: str) -> Column | None:
    """A figure column: a known metric, or one whose header or cells state a unit zoo knows."""
    label = clean_text(header).replace("*", "").strip()
    if not label:
        return None
    known = metric_for_label(label)
    if known and known.derived:
        return Column(i, header, "derived", Metric("published_rate", "rate", re.sub(r"\s*\(.*?\)", "", label)), "inf/s")
    unit = unit_in_header(label)
    if not (known or unit) and all(is_text(parse_cell(r[i])) for r in table.rows):
        return None  # neither header nor cells say it holds figures
    quantity = known.quantity if known else (quantity_of_unit(unit) if unit else _cell_quantity(table, i))
    if quantity is None and re.search(r"\b(ram|flash)\b", label, re.I):
        quantity = "memory"
    if quantity is None and re.search(r"accuracy|\bacc\b", label, re.I):
        quantity = "accuracy"
    if quantity is None:
        return None
    name = re.sub(r"\s*\(.*?\)", "", label).strip() or label
    written = re.sub(r"\s*\(.*?\)", "", clean_text(header)).strip()
    if known and re.search(r"[*†]+$", written):  # "AP*": the column's footnote mark stays with its label
        known = Metric(known.name, known.quantity, written)
    metric = known or Metric(slug(name) if slug(name)[0].isalpha() else f"m_{slug(name)}", quantity, name)
    if unit is None or unit not in UNITS[metric.quantity]:
        unit = _DEFAULT_UNITS[metric.quantity]
    return Column(i, header, "metric", metric, unit)


def columns(table: Table) -> list[Column]:
    """Every column of a performance table with its role; the model column is the first that says model."""
    out: list[Column] = []
    roles: set[str] = set()
    names: set[str] = set()
    # The last version column names the tool (zoo renders it last; earlier ones stay extra columns).
    tool = max((i for i, h in enumerate(table.headers) if header_key(h).endswith(" version")), default=None)
    for i, header in enumerate(table.headers):
        key = header_key(header)
        role = _STRUCTURE.get(key) or ("model" if key.startswith("model") else None)  # "Models Description"
        if key == "protocol" and all(clean_text(r[i]) in PROTOCOLS for r in table.rows):
            role = "protocol"  # zoo renders one when the card names its protocol; any other stays an extra column
        if role and role not in roles:
            col = Column(i, header, role)
        elif i == tool:
            col = Column(i, header, "tool")
        else:
            col = _metric_column(table, i, header) or Column(i, header, "extra")
        if col.metric and col.role == "metric" and col.metric.name in names:  # a second "Accuracy" column
            label = clean_text(header).replace("*", "").strip()
            col.metric = Metric(f"{col.metric.name}_{slug(label)}"[:60], col.metric.quantity, label)
        if col.metric:
            names.add(col.metric.name)
        out.append(col)
        roles.add(col.role)
    return out


def is_performance(cols: list[Column]) -> bool:
    return any(c.role == "model" for c in cols) and any(c.role == "metric" for c in cols)


def keep_published_rates(table: Table, cols: list[Column]) -> None:
    """An inferences/s column is derived when every cell is what zoo prints for the row's time; otherwise its
    figures are kept as published (``published_rate``), for ``zoo verify`` to compare with the time."""
    time = next((c for c in cols if c.role == "metric" and c.metric and c.metric.quantity == "time"), None)
    for col in (c for c in cols if c.role == "derived"):
        for row in table.rows:
            cell, ms = parse_cell(row[col.index]), parse_cell(row[time.index]) if time else {}
            if not row[col.index].strip():
                continue
            unit = ms.get("unit", time.unit if time else "ms")
            if "value" not in cell or "value" not in ms or not ms["value"] or quantity_of_unit(unit) != "time":
                col.role = "metric"  # no time to derive it from (a cell of 0.7 K is no time): kept as published
            elif format_rate(inferences_per_second(ms["value"], unit)) != str(cell["value"]):
                col.role = "metric"


def _resolution(text: str) -> str:
    """``24 x 3 x 1`` and ``256×256×3`` -> ``24x3x1``, ``256x256x3``; anything else as written."""
    plain = clean_text(text)
    if re.fullmatch(r"\d+(\s*[x×X*]\s*\d+)+", plain):
        return "x".join(re.findall(r"\d+", plain))
    return plain or "unknown"


def _value(cell: str, column: Column) -> dict[str, Any]:
    """A figure cell as a value of ``column``'s metric: its own unit when it states one of the same quantity."""
    parsed = parse_cell(cell)
    metric = column.metric
    assert metric is not None
    own = parsed.pop("unit", None)
    fits = own is not None and own in UNITS[metric.quantity]
    if is_text(parsed) or (own is not None and not fits):
        return {"text": clean_text(cell), "unit": column.unit}
    return {**parsed, "unit": own if fits else column.unit}


def measurement(table: Table, cols: list[Column], row: list[str], quality: bool) -> dict[str, Any] | None:
    """Where a row was measured (None for quality tables): target from the heading, board, tool and the rest."""
    if quality:
        return None
    target = TARGET.search(clean_text(table.heading).replace("*", ""))
    where: dict[str, Any] = {"kind": "board", "target": target.group(1) if target else "MCU"}
    for col in cols:
        cell = clean_text(row[col.index])
        if not cell:
            continue
        if col.role in ("series", "board", "engine"):
            where[col.role] = cell
        elif col.role == "frequency":
            where["frequency"] = parse_cell(cell)
        elif col.role == "tool":
            where["tool"] = re.sub(r"\s*version\s*$", "", clean_text(col.header).replace("*", ""), flags=re.I) or "tool"
            where["tool_version"] = cell
    return where


def _format(cell: str) -> str:
    """The precision a format cell names, lower case (``Int8`` -> ``int8``, ``W4A8`` -> ``w4a8``)."""
    text = clean_text(cell).lower()
    return text if re.match(r"[a-z0-9]", text) else "unknown"


def _extra_names(cols: list[Column]) -> dict[str, Column]:
    """Extra columns by header (an unnamed one by its position; a repeated header numbered)."""
    out: dict[str, Column] = {}
    for c in cols:
        name = clean_text(c.header).replace("*", "").strip() or f"column {c.index + 1}"
        n, unique = 2, name
        while unique in out:
            unique, n = f"{name} ({n})", n + 1
        out[unique] = c
    return out


def performance_rows(table: Table, cols: list[Column], variant: Any, dataset: Any, region: str) -> Rows:
    """One record per row. ``variant(cell)`` and ``dataset(cell, heading)`` give ids (and register them)."""
    out = Rows()
    metrics = [c for c in cols if c.role == "metric"]
    quality = all(c.metric and c.metric.quantity in QUALITY for c in metrics)
    by_role = {c.role: c for c in cols}
    extras = _extra_names([c for c in cols if c.role == "extra"])
    for n, row in enumerate(table.rows):
        cell = lambda role: row[by_role[role].index] if role in by_role else ""  # noqa: E731
        vid, link = variant(cell("model"))
        record: dict[str, Any] = {
            "variant": vid,
            "dataset": dataset(clean_text(cell("dataset")), table.heading),
            "format": _format(cell("format")),
            "resolution": _resolution(cell("resolution")),
        }
        split = clean_text(cell("split"))
        if split and re.fullmatch(r"[a-z0-9][a-z0-9_.-]{0,63}", split):
            record["split"] = split
        record |= {"origin": "published", "table": region}
        if protocol := clean_text(cell("protocol")):
            record["protocol"] = protocol
        if link:
            record["link"] = link
        if where := measurement(table, cols, row, quality):
            record["measured_on"] = where
        record["values"] = {}
        for col in metrics:
            if not row[col.index].strip():
                continue
            value = _value(row[col.index], col)
            if "text" in value:
                out.kept_as_text.append(f"{table.row_line(n)}: {clean_text(col.header)!r} cell {value['text']!r} kept as text")
            assert col.metric is not None
            if col.metric.name not in METRICS or col.metric.label != METRICS[col.metric.name].label:
                value["label"] = col.metric.label
            record["values"][col.metric.name] = value
        if not record["values"]:  # a row whose figure cells are all empty still is a row of the table
            record["values"][metrics[0].metric.name] = {"text": "", "unit": metrics[0].unit}  # type: ignore[union-attr]
        extra = {name: parse_cell(row[c.index]) for name, c in extras.items() if row[c.index].strip()}
        if extra:
            record["extra"] = extra
        out.records.append(record)
    for name, c in extras.items():  # one line per column: text is what such columns usually hold
        texts = [clean_text(r[c.index]) for r in table.rows if r[c.index].strip() and is_text(parse_cell(r[c.index]))]
        if texts:
            out.kept_as_text.append(f"{table.start + 1}: column {name!r} kept as text ({len(texts)} cell(s), e.g. {texts[0]!r})")
    return out


def heading_dataset(heading: str) -> str:
    """The data set a section heading names (``... based on COCO Person dataset``, ``Accuracy with ImageNet``),
    else ``unspecified``: a heading such as ``Reference NPU inference time`` names none.

    >>> heading_dataset("AP on COCO Person dataset (see below)"), heading_dataset("Reference **NPU** inference time")
    ('COCO Person', 'unspecified')
    """
    plain = clean_text(heading).replace("*", "")
    found = re.search(r"\b(?:with|on|for)\s+(?:the\s+)?(.+?)(?:\s+data\s*set\b|\s*\(|$)", plain, re.I)
    return found.group(1).strip() if found and found.group(1).strip() else "unspecified"
