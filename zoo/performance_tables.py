"""Card performance records -> the memory, time and accuracy tables of a README, in the upstream cards' layout.

Region names: ``memory-<target>`` and ``time-<target>`` (target is ``npu``, ``mcu``, ... of board records, or
``host``) and ``accuracy-<dataset id>``. Inferences/s are derived from the time records (see
``zoo.metrics_catalog.format_rate`` for rounding).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zoo.cards import Card
from zoo.metrics_catalog import METRICS, format_rate, inferences_per_second, quantity_of
from zoo.protocols import record_protocol
from zoo.registry import Registry
from zoo.table_layout import markdown_table

_TIME_HEADERS = {"board": ("Board", "Execution Engine"), "host": ("Runtime", "CPU", "Threads")}
_MEMORY_HEADERS = {"board": ("Series",), "host": ("Runtime", "CPU", "Threads")}
_PLACE = {"Series": "series", "Board": "board", "Execution Engine": "engine", "Runtime": "runtime", "CPU": "cpu", "Threads": "threads"}


def _number(value: Any) -> str:
    """Numbers exactly as the card gives them: 480 stays 480, 1024.0 stays 1024.0."""
    return str(value)


def _format_label(fmt: str) -> str:
    return fmt[:1].upper() + fmt[1:]


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


def _model_cell(card: Card, registry: Registry | None, vid: str, fmt: str) -> str:
    label = card.variant(vid)["label"] if vid in card.variant_ids else vid
    link = _artifact_link(card, registry, vid, fmt) if vid in card.variant_ids else None
    return f"[{label}]({link})" if link else label


@dataclass
class _Group:
    """The records one performance table shows and the metric columns it has."""

    kind: str  # memory, time or accuracy
    records: list[dict[str, Any]]
    metrics: list[str]


def performance_groups(card: Card) -> dict[str, _Group]:
    """Region name -> the records and metrics its table shows, in card order."""
    groups: dict[str, _Group] = {}
    for record in card.performance:
        where = record.get("measured_on", {})
        target = where.get("target", where.get("kind", "")).lower()
        for metric, value in record["values"].items():
            kind = quantity_of(metric, value["unit"])
            if kind in ("memory", "time") and target:
                name = f"{kind}-{target}"
            elif kind == "accuracy":
                name = f"accuracy-{record['dataset']}"
            else:
                continue  # a problem card_problems reports (unknown unit, or time without measured_on)
            group = groups.setdefault(name, _Group(kind, [], []))
            if not group.records or group.records[-1] is not record:
                group.records.append(record)
            if metric not in group.metrics:
                group.metrics.append(metric)
    return groups


Column = tuple[str, Callable[[dict[str, Any]], str]]


def _metric_column(group: _Group, metric: str) -> Column:
    """Percentages (and units that differ between rows) go in the cells, other units in the header."""
    first = next(r["values"][metric] for r in group.records if metric in r["values"])
    label = METRICS[metric].label if metric in METRICS else first.get("label", metric)
    units = {r["values"][metric]["unit"] for r in group.records if metric in r["values"]}
    in_cell = units == {"%"} or len(units) > 1

    def cell(r: dict[str, Any]) -> str:
        value = r["values"].get(metric)
        if value is None:
            return ""
        return _number(value["value"]) + (f" {value['unit']}" if in_cell else "")

    return (label if in_cell else f"{label} ({first['unit']})"), cell


def _rate_cell(group: _Group) -> Column:
    def cell(r: dict[str, Any]) -> str:
        time = next((r["values"][m] for m in group.metrics if m in r["values"]), None)
        return format_rate(inferences_per_second(time["value"], time["unit"])) if time else ""

    return METRICS["inferences_per_second"].label, cell


def _columns(card: Card, registry: Registry | None, group: _Group) -> list[Column]:
    """The upstream cards' column order: model, dataset, format, resolution, where, figures, tool."""
    records = group.records
    where = lambda r: r.get("measured_on", {})  # noqa: E731
    cols: list[Column] = [("Model", lambda r: _model_cell(card, registry, r["variant"], r["format"]))]
    if group.kind != "accuracy":
        cols.append(("Dataset", lambda r: (card.dataset(r["dataset"]) or {"name": r["dataset"]})["name"]))
    cols += [("Format", lambda r: _format_label(r["format"])), ("Resolution", lambda r: r["resolution"])]
    if any("split" in r for r in records) and group.kind != "accuracy":
        cols.append(("Split", lambda r: r.get("split", "")))
    kinds = {where(r).get("kind") for r in records}
    if group.kind != "accuracy" and len(kinds) == 1:
        for header in (_MEMORY_HEADERS if group.kind == "memory" else _TIME_HEADERS)[kinds.pop()]:
            cols.append((header, lambda r, key=_PLACE[header]: _number(where(r).get(key, ""))))
    if group.kind == "accuracy" and (card.evaluation.get("protocol") or any("protocol" in r for r in records)):
        cols.append(("Protocol", lambda r: record_protocol(card.evaluation, r)))  # figures differ between them
    if any("kernels" in where(r) for r in records):
        cols.append(("Kernels", lambda r: where(r).get("kernels", "")))  # host figures: optimized or reference
    cols += [_metric_column(group, m) for m in group.metrics]
    if group.kind == "time":
        cols.append(_rate_cell(group))
    tools = {where(r)["tool"] for r in records if "tool" in where(r)}
    if len(tools) == 1:
        cols.append((f"{tools.pop()} version", lambda r: where(r).get("tool_version", "")))
    elif tools:
        cols.append(("Tool", lambda r: f"{where(r).get('tool', '')} {where(r).get('tool_version', '')}".strip()))
    if len({r["origin"] for r in records}) > 1:
        cols.append(("Origin", lambda r: r["origin"]))
    return cols


def _dataset_line(dataset: dict[str, Any]) -> str:
    """The upstream cards' dataset sentence: link, licence and split sizes."""
    parts = [f"Dataset details: [link]({dataset['link']})" if "link" in dataset else f"Dataset: {dataset['name']}"]
    if "license" in dataset:
        lic = dataset["license"]
        parts.append(f"License [{lic}]({dataset['license_link']})" if "license_link" in dataset else f"License {lic}")
    splits = [f"{split} ({', '.join(f'{n} {what}' for what, n in sizes.items())})" for split, sizes in dataset.get("splits", {}).items()]
    return ", ".join(parts) + (f". Splits: {', '.join(splits)}." if splits else "")


def _performance(card: Card, registry: Registry | None, group: _Group) -> str:
    cols = _columns(card, registry, group)
    table = markdown_table([h for h, _ in cols], [[cell(r) for _, cell in cols] for r in group.records])
    dataset = card.dataset(group.records[0]["dataset"]) if group.kind == "accuracy" else None
    return f"{_dataset_line(dataset)}\n\n{table}" if dataset else table
