"""Card performance records -> the memory, time and accuracy tables of a README, in the upstream cards' layout.

Region names: ``memory-<target>`` and ``time-<target>`` (target is ``npu``, ``mcu``, ... of board records, or
``host``) and ``accuracy-<dataset id>``. Inferences/s are derived from the time records (see
``zoo.cards.units.format_rate`` for rounding).
"""

from __future__ import annotations

import re

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zoo.cards.card import Card
from zoo.cards.units import METRICS, QUALITY, format_rate, inferences_per_second, quantity_of
from zoo.cards.protocol import record_protocol
from zoo.catalog.registry import Registry
from zoo.markdown.cells import format_cell
from zoo.markdown.layout import markdown_table

_TIME_HEADERS = {"board": ("Board", "Execution Engine"), "host": ("Runtime", "CPU", "Threads")}
_MEMORY_HEADERS = {"board": ("Series",), "host": ("Runtime", "CPU", "Threads")}
_PLACE = {"Series": "series", "Board": "board", "Execution Engine": "engine", "Runtime": "runtime", "CPU": "cpu", "Threads": "threads"}


def _format_label(fmt: str) -> str:
    """``int8`` -> ``Int8``; a weights/activations code stays upper case (``w4a8`` -> ``W4A8``)."""
    return fmt.upper() if re.fullmatch(r"w\d+a\d+", fmt) else fmt[:1].upper() + fmt[1:]


def _artifact_link(card: Card, registry: Registry | None, vid: str, fmt: str) -> str | None:
    """Where a model cell points: the variant's own link, else the registry artifact of that precision."""
    variant = card.variant(vid)
    if "link" in variant:
        return variant["link"]
    model = registry.models.get(vid) if registry else None
    if model is None:
        return None
    arts = sorted(model.artifacts, key=lambda a: (a.precision != fmt, a.format != "tflite"))
    return next((s for s in arts[0].sources if "://" in s), None)


def _model_cell(card: Card, registry: Registry | None, record: dict[str, Any]) -> str:
    """The variant's label, linked to the record's own artifact link, else the variant's."""
    vid = record["variant"]
    label = card.variant(vid)["label"] if card.has_variant(vid) else vid
    link = record.get("link") or (_artifact_link(card, registry, vid, record["format"]) if card.has_variant(vid) else None)
    return f"[{label}]({link})" if link else label


@dataclass
class _Group:
    """The records one performance table shows and the metric columns it has.

    ``laid_out`` groups come from records that name their table (imported cards): they show every column
    their records have, so a published table keeps its rows and columns.
    """

    kind: str  # memory, time, performance (both) or accuracy
    records: list[dict[str, Any]]
    metrics: list[str]
    laid_out: bool = False


def performance_groups(card: Card) -> dict[str, _Group]:
    """Region name -> the records and metrics its table shows, in card order."""
    groups: dict[str, _Group] = {}
    for record in card.performance:
        where = record.get("measured_on", {})
        target = where.get("target", where.get("kind", "")).lower()
        for metric, value in record["values"].items():
            kind = quantity_of(metric, value["unit"])
            if "table" in record:
                name, kind = record["table"], "accuracy" if "measured_on" not in record else kind
            elif kind in ("memory", "time") and target:
                name = f"{kind}-{target}"
            elif kind in QUALITY:
                name, kind = f"accuracy-{record['dataset']}", "accuracy"
            else:
                continue  # a problem card_problems reports (unknown unit, or time without measured_on)
            group = groups.setdefault(name, _Group(kind or "accuracy", [], [], "table" in record))
            if group.kind != kind and kind in ("memory", "time"):
                group.kind = "performance"
            if not group.records or group.records[-1] is not record:
                group.records.append(record)
            if metric not in group.metrics:
                group.metrics.append(metric)
    return groups


Column = tuple[str, Callable[[dict[str, Any]], str]]


def _metric_column(group: _Group, metric: str) -> Column:
    """Percentages (and units that differ between rows) go in the cells, other units in the header."""
    first = next(r["values"][metric] for r in group.records if metric in r["values"])
    label = first.get("label") or (METRICS[metric].label if metric in METRICS else metric)
    units = {r["values"][metric]["unit"] for r in group.records if metric in r["values"]}
    in_cell = units == {"%"} or len(units) > 1

    def cell(r: dict[str, Any]) -> str:
        value = r["values"].get(metric)
        return "" if value is None else format_cell(value, unit=in_cell)

    return (label if in_cell or first["unit"] == "1" else f"{label} ({first['unit']})"), cell


def _rate_cell(group: _Group) -> Column:
    def cell(r: dict[str, Any]) -> str:
        time = next((v for m, v in r["values"].items() if quantity_of(m, v["unit"]) == "time"), None)
        return format_rate(inferences_per_second(time["value"], time["unit"])) if time and "value" in time else ""

    return METRICS["inferences_per_second"].label, cell


def _shows_rate(group: _Group) -> bool:
    """Time tables get a derived inferences/s column, unless their records keep the published one."""
    if not group.laid_out:
        return group.kind == "time"
    values = [(m, v) for r in group.records for m, v in r["values"].items()]
    return all(v["unit"] != "inf/s" for _, v in values) and any(quantity_of(m, v["unit"]) == "time" for m, v in values)


def _place_columns(group: _Group) -> list[Column]:
    """Where the records were measured: the fixed headers of their kind, or (laid out) every field they have."""
    where = lambda r: r.get("measured_on", {})  # noqa: E731
    kinds = {where(r).get("kind") for r in group.records}
    if group.kind == "accuracy" or len(kinds) != 1:
        return []
    if not group.laid_out:
        headers = (_MEMORY_HEADERS if group.kind == "memory" else _TIME_HEADERS)[kinds.pop()]
        return [(h, lambda r, key=_PLACE[h]: str(where(r).get(key, ""))) for h in headers]
    show = lambda v: format_cell(v) if isinstance(v, dict) else str(v)  # noqa: E731
    return [(header, lambda r, key=key: show(where(r)[key]) if key in where(r) else "")
            for header, key in (*_PLACE.items(), ("Frequency", "frequency")) if any(key in where(r) for r in group.records)]


def _extra_columns(group: _Group) -> list[Column]:
    headers = list(dict.fromkeys(h for r in group.records for h in r.get("extra", {})))
    return [(h, lambda r, h=h: format_cell(r["extra"][h]) if h in r.get("extra", {}) else "") for h in headers]


def _columns(card: Card, registry: Registry | None, group: _Group) -> list[Column]:
    """The upstream cards' column order: model, dataset, format, resolution, where, figures, other, tool."""
    records = group.records
    where = lambda r: r.get("measured_on", {})  # noqa: E731
    cols: list[Column] = [("Model", lambda r: _model_cell(card, registry, r))]
    datasets = {r.get("dataset") for r in records}
    if (group.kind != "accuracy" and datasets != {None}) or len(datasets) > 1:  # host times name no dataset
        cols.append(("Dataset", lambda r: (card.dataset(r.get("dataset")) or {"name": r.get("dataset", "-")})["name"]))
    cols += [("Format", lambda r: _format_label(r["format"])), ("Resolution", lambda r: r["resolution"])]
    if any("split" in r for r in records) and group.kind != "accuracy":
        cols.append(("Split", lambda r: r.get("split", "")))
    cols += _place_columns(group)
    if group.kind == "accuracy" and (card.evaluation.get("protocol") or any("protocol" in r for r in records)):
        cols.append(("Protocol", lambda r: record_protocol(card.evaluation, r)))  # figures differ between them
    if any("kernels" in where(r) for r in records):
        cols.append(("Kernels", lambda r: where(r).get("kernels", "")))  # host figures: optimized or reference
    cols += [_metric_column(group, m) for m in group.metrics]
    if _shows_rate(group):
        cols.append(_rate_cell(group))
    cols += _extra_columns(group)
    tools = {where(r)["tool"] for r in records if "tool" in where(r)}
    if len(tools) == 1:
        cols.append((f"{tools.pop()} version", lambda r: where(r).get("tool_version", "")))
    elif tools:
        cols.append(("Tool", lambda r: f"{where(r).get('tool', '')} {where(r).get('tool_version', '')}".strip()))
    if len({r["origin"] for r in records}) > 1:
        cols.append(("Origin", lambda r: r["origin"]))
    return cols


def dataset_sentence(dataset: dict[str, Any]) -> str | None:
    """The upstream cards' dataset sentence (link, licence and split sizes); None when the card knows none."""
    if not {"link", "license", "splits"} & set(dataset):
        return None
    parts = [f"Dataset details: [link]({dataset['link']})" if "link" in dataset else f"Dataset: {dataset['name']}"]
    if "license" in dataset:
        lic = dataset["license"]
        parts.append(f"License [{lic}]({dataset['license_link']})" if "license_link" in dataset else f"License {lic}")
    splits = [f"{split} ({', '.join(f'{n} {what}' for what, n in sizes.items())})" for split, sizes in dataset.get("splits", {}).items()]
    return ", ".join(parts) + (f". Splits: {', '.join(splits)}." if splits else "")


def performance_table(card: Card, registry: Registry | None, group: _Group) -> str:
    """One performance region: the dataset sentence of an accuracy table, then the table."""
    cols = _columns(card, registry, group)
    table = markdown_table([h for h, _ in cols], [[cell(r) for _, cell in cols] for r in group.records])
    dataset = card.dataset(group.records[0]["dataset"]) if group.kind == "accuracy" else None
    sentence = dataset_sentence(dataset) if dataset else None
    return f"{sentence}\n\n{table}" if sentence else table
