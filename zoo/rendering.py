"""Regenerate a README's tables and front matter from its card, cog-style, between named markers.

People write the prose; zoo owns only what sits between ``<!-- zoo:begin name=X -->`` and
``<!-- zoo:end name=X -->`` and the YAML front matter (Hugging Face conventions). Output is already in the
shape mdformat (with its front-matter and tables plugins) would give it, so formatting a README never makes
``zoo render-card --check`` fail. Broken markers are refused with their line number; nothing is written.

Region names: ``network``, ``io``, ``platforms``, ``memory-<target>`` and ``time-<target>`` (target is
``npu``, ``mcu``, ... of board records, or ``host``), ``accuracy-<dataset id>`` and ``table-<name>``;
``footprint`` (figures computed from the released files) is filled by ``render-card --footprint`` only.
Inferences/s are derived from the time records (see ``zoo.metrics_catalog.format_rate`` for rounding).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zoo.cards import Card
from zoo.documents import write_atomic
from zoo.errors import InvalidDataError
from zoo.metrics_catalog import METRICS, format_rate, inferences_per_second, quantity_of
from zoo.registry import Registry

MARKER = re.compile(r"^<!-- zoo:(begin|end) name=([A-Za-z0-9_.-]+) -->$")
_FRONT = re.compile(r"\A---\n.*?\n---\n", re.S)
# Hugging Face licence ids that equal the lowercased SPDX id; anything else is "other" + license_name.
_HF_LICENSES = {"mit", "apache-2.0", "bsd-2-clause", "bsd-3-clause", "gpl-3.0", "lgpl-3.0", "cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "mpl-2.0", "bsl-1.0"}
_TIME_HEADERS = {"board": ("Board", "Execution Engine"), "host": ("Runtime", "CPU", "Threads")}
_MEMORY_HEADERS = {"board": ("Series",), "host": ("Runtime", "CPU", "Threads")}
_FILL = "\ue000"
FROM_ARTIFACTS = frozenset({"footprint"})  # regions only `render-card --footprint` fills (it reads the files)
_PLACE = {"Series": "series", "Board": "board", "Execution Engine": "engine", "Runtime": "runtime", "CPU": "cpu", "Threads": "threads"}


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A pipe table laid out exactly as mdformat-tables lays it out (cells padded, ``| --- |`` rule)."""
    from tabulate import tabulate

    # The header goes in as a data row (tabulate pads header cells two spaces wider than mdformat does) and
    # the rule is drawn here. mdformat makes columns at least 3 wide (the rule's "---"); a private-use
    # character stands in for that padding, since tabulate strips spaces.
    rows = [[h.ljust(3, _FILL) for h in headers], *rows]
    lines = tabulate(rows, tablefmt="github", disable_numparse=True).replace(_FILL, " ").splitlines()[1:]
    rule = "| " + " | ".join("-" * (len(cell) - 2) for cell in lines[0].split("|")[1:-1]) + " |"
    return "\n".join([lines[0], rule, *lines[1:]])


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


def _shape(shape: list[Any]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _network(card: Card) -> str:
    data = card.data
    rows = [["Framework", data["framework"]]]
    for v in data["variants"]:
        params = v.get("parameters", {})
        if "count" in params:
            counted = f" ({params['counted']})" if "counted" in params else ""
            rows.append([f"Parameters, {v['label']}", f"{params['count']:,}{counted}"])
        if "published" in params:
            rows.append([f"Published MParams, {v['label']}", f"{params['published']['value'] / 1e6:g} M"])
    if "quantization" in data:
        q = data["quantization"]
        rows.append(["Quantization", q["precision"] + (f" ({q['method']})" if "method" in q else "")])
    for key in ("provenance", "paper"):
        if key in data:
            rows.append([key.capitalize(), data[key]])
    return markdown_table(["Network information", "Value"], rows)


def _tensors(card: Card, which: str) -> list[list[str]]:
    """One row per tensor; variants with identical tensors share rows."""
    groups: list[tuple[list[str], list[dict[str, Any]]]] = []
    for vid in card.variant_ids:
        tensors = getattr(card, which)(vid)
        same = next((g for g in groups if g[1] == tensors), None)
        if same:
            same[0].append(card.variant(vid)["label"])
        else:
            groups.append(([card.variant(vid)["label"]], tensors))
    rows = []
    for labels, tensors in groups:
        who = "all" if len(labels) == len(card.variant_ids) else ", ".join(labels)
        for t in tensors:
            q = t.get("quantization")
            quant = f"scale {q['scale']}, zero point {q['zero_point']}" if q else ""
            rows.append([who, t.get("name", ""), _shape(t["shape"]), t["dtype"], quant, t["meaning"], t.get("description", "")])
    return rows


def _io(card: Card) -> str:
    headers = ["Variants", "Name", "Shape", "Dtype", "Quantization", "Meaning", "Description"]
    return "\n\n".join(
        markdown_table([f"{title} " + headers[0].lower(), *headers[1:]], _tensors(card, which))
        for title, which in (("Input", "inputs"), ("Output", "outputs"))
    )


def _platforms(card: Card) -> str:
    box = {True: "[x]", False: "[]"}
    rows = [[p["name"], box[p["supported"]], box[p["recommended"]]] for p in card.data.get("platforms", [])]
    return markdown_table(["Platform", "Supported", "Recommended"], rows)


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


def regions(card: Card, registry: Registry | None) -> dict[str, str]:
    """Every region this card can fill, name -> markdown."""
    out = {"network": _network(card)}
    if card.data.get("inputs") or card.data.get("outputs") or any("outputs" in v for v in card.data["variants"]):
        out["io"] = _io(card)
    if card.data.get("platforms"):
        out["platforms"] = _platforms(card)
    for name, group in performance_groups(card).items():
        out[name] = _performance(card, registry, group)
    for table in card.data.get("tables", []):
        out[f"table-{table['name']}"] = markdown_table(table["headers"], table["rows"])
    return out


class _HubDumper(yaml.SafeDumper):
    """Indent sequences under their key, as mdformat's front-matter plugin re-dumps them."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def front_matter(card: Card) -> dict[str, Any]:
    """Hugging Face model-card metadata: licence, pipeline tag, tags, datasets, and model-index results."""
    data, hub = card.data, card.data.get("hub", {})
    lic = data["license"]
    meta: dict[str, Any] = {}
    if lic["id"].lower() in _HF_LICENSES:
        meta["license"] = lic["id"].lower()
    else:
        meta["license"] = "other"
        meta["license_name"] = lic["id"].lower()
        if "link" in lic:
            meta["license_link"] = lic["link"]
    for key in ("pipeline_tag", "tags", "base_model"):
        if key in hub:
            meta[key] = hub[key]
    if data.get("datasets"):
        meta["datasets"] = [d.get("hub_id", d["id"]) for d in data["datasets"]]
    index = []
    for vid in card.variant_ids:
        results = []
        for r in card.records(vid):
            metrics = [
                {"type": m, "value": v["value"], "name": METRICS[m].label if m in METRICS else v.get("label", m)}
                for m, v in r["values"].items()
                if quantity_of(m, v["unit"]) == "accuracy"
            ]
            if metrics:
                dataset = card.dataset(r["dataset"]) or {"name": r["dataset"]}
                task = {"type": hub.get("pipeline_tag", card.use_case), "name": card.use_case.replace("_", " ").title()}
                ds = {"name": dataset["name"], "type": dataset.get("hub_id", r["dataset"])}
                results.append({"task": task, "dataset": ds | ({"split": r["split"]} if "split" in r else {}), "metrics": metrics})
        if results:
            index.append({"name": vid, "results": results})
    if index:
        meta["model-index"] = index
    return meta


def _dump_front_matter(meta: dict[str, Any]) -> str:
    text = yaml.dump(meta, Dumper=_HubDumper, sort_keys=False, allow_unicode=True, width=float("inf"), indent=2)
    return f"---\n{text}---\n"


def _marker_problems(lines: list[str], first: int) -> tuple[list[tuple[str, int, int]], list[str]]:
    """Regions as (name, begin index, end index), and every marker problem as ``line: message``.

    ``first`` is the file line of ``lines[0]``, so messages name lines of the file.
    """
    found, problems, seen = [], [], {}
    open_at: tuple[str, int] | None = None
    for i, line in enumerate(lines):
        if "zoo:begin" not in line and "zoo:end" not in line:
            continue
        m = MARKER.match(line.strip())
        if not m:
            problems.append(f"{first + i}: malformed marker {line.strip()!r} (expected <!-- zoo:begin name=NAME -->)")
            continue
        what, name = m.groups()
        if what == "begin" and open_at is not None:
            problems.append(f"{first + i}: region {name!r} begins inside region {open_at[0]!r} (line {first + open_at[1]})")
        elif what == "begin" and name in seen:
            problems.append(f"{first + i}: region {name!r} appears twice (first on line {first + seen[name]})")
        elif what == "begin":
            seen[name] = i
            open_at = (name, i)
        elif open_at is None or open_at[0] != name:
            problems.append(f"{first + i}: end of region {name!r} without its begin marker")
        else:
            found.append((name, open_at[1], i))
            open_at = None
    if open_at is not None:
        problems.append(f"{first + open_at[1]}: region {open_at[0]!r} has no end marker")
    return found, problems


def render_text(text: str, card: Card, registry: Registry | None, *, path: Path,
                extra: dict[str, str] | None = None) -> str:
    """``text`` (a README, any newline style) with front matter and every region regenerated, ``\\n`` newlines.

    ``extra`` holds regions computed from the artifacts (``footprint``, see ``zoo.footprint_table``); without
    it such a region keeps what it holds. Raises ``InvalidDataError`` (naming ``path`` and the line) for
    broken markers or a region the card cannot fill.
    """
    text = text.replace("\r\n", "\n")
    body = _FRONT.sub("", text, count=1).lstrip("\n")
    lines = body.split("\n")
    first = text.count("\n") - body.count("\n") + 1  # file line of the body's first line
    found, problems = _marker_problems(lines, first)
    available = regions(card, registry) | (extra or {})
    for name, begin, _ in found:
        if name not in available and name not in FROM_ARTIFACTS:
            problems.append(f"{first + begin}: the card has no data for region {name!r} (it can fill: {', '.join(available)})")
    if problems:
        raise InvalidDataError(problems, path=path)
    for name, begin, end in reversed(found):
        if name in available:
            lines[begin + 1 : end] = ["", *available[name].split("\n"), ""]
    return _dump_front_matter(front_matter(card)) + "\n" + "\n".join(lines)


@dataclass(frozen=True)
class Rendering:
    """One README: where it is, what it holds now, and what the card says it should hold."""

    card: Path
    readme: Path
    current: str
    expected: str
    crlf: bool

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
        raw = readme.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InvalidDataError(["no README.md next to the card (write one with zoo:begin/zoo:end markers)"], path=readme) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidDataError([f"cannot read: {exc}"], path=readme) from None
    expected = render_text(raw, card, registry, path=readme, extra=extra)
    return Rendering(card=card.path, readme=readme, current=raw, expected=expected, crlf="\r\n" in raw)


def write(rendering: Rendering) -> bool:
    """Write a stale README in place, keeping its newline style; True when something changed."""
    if not rendering.stale:
        return False
    text = rendering.expected
    write_atomic(rendering.readme, text.replace("\n", "\r\n") if rendering.crlf else text)
    return True
