"""Import an upstream-style markdown model card into ``card.yaml`` plus a README with zoo markers.

Release teams arrive with cards written by hand: sections, pipe tables with link cells, ``%`` values and
``[x]`` checkboxes, headings that say NPU/MCU and memory / inference time / accuracy. This reads them into
card data (keeping false claims as claims, so ``zoo verify`` can flag them), puts markers where the tables
were, and renders the README back from the card, so every table value survives the trip. Tables zoo does
not understand are kept verbatim as generic tables, with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from zoo.cards import arxiv_problem, load_card, meaning_of_text
from zoo.errors import InvalidDataError
from zoo.files import write_atomic
from zoo.markdown_tables import Table, parse_tables
from zoo.metrics_catalog import METRICS, Metric, metric_for_label, unit_in_header
from zoo.registry import Registry
from zoo.rendering import render_text

_LINK = re.compile(r"^\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)\)$")
_TARGET = re.compile(r"\b(NPU|MCU|MPU|GPU)\b")
_DTYPES = ("uint8", "int8", "int16", "int32", "float16", "float32")
_DEFAULT_UNITS = {"memory": "KiB", "time": "ms"}


@dataclass
class ImportResult:
    card: Path
    readme: Path
    warnings: list[str] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:64] or "x"


def _plain(cell: str) -> str:
    """Cell text without markdown emphasis or a link wrapper."""
    link = _LINK.match(cell)
    return (link.group("url") if link else cell).replace("**", "").strip()


def _number(text: str) -> int | float:
    """``480`` -> 480, ``1024.0`` -> 1024.0, ``70.27 %`` -> 70.27: the figure exactly as written."""
    text = text.replace("%", "").strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else float(text)


class _Importer:
    def __init__(self, path: Path, registry: Registry | None) -> None:
        self.path = path
        self.registry = registry
        self.warnings: list[str] = []
        self.problems: list[str] = []
        self.card: dict[str, Any] = {"schema_version": 1}
        self.variants: dict[str, dict[str, Any]] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.records: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.generic: list[dict[str, Any]] = []
        self.published_params: list[tuple[str, float, str]] = []

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(f"{self.path}:{line}: {message}")

    # -- identity ---------------------------------------------------------------------------------------
    def variant(self, cell: str) -> str:
        """The variant a model cell names: the registry model whose artifact the link points at, else a slug."""
        link = _LINK.match(cell)
        label, url = (link.group("text"), link.group("url")) if link else (cell, None)
        vid = None
        if url and self.registry:
            name = url.rstrip("/").rsplit("/", 1)[-1]
            vid = next((m.id for m in self.registry.models.values() for a in m.artifacts if a.file == name), None)
        vid = vid or _slug(label)
        entry = self.variants.setdefault(vid, {"id": vid, "label": label.strip()})
        if url and "link" not in entry and not (self.registry and vid in self.registry.models):
            entry["link"] = url
        return vid

    def dataset(self, name: str) -> str:
        did = _slug(name)
        self.datasets.setdefault(did, {"id": did, "name": name})
        return did

    # -- known tables -----------------------------------------------------------------------------------
    def network(self, table: Table) -> None:
        for n, (key, value) in enumerate((r[0], r[1]) for r in table.rows):
            low, plain = key.lower(), _plain(value)
            if low == "framework":
                self.card["framework"] = plain
            elif low.startswith("mparams") or low.startswith("parameters"):
                self.published_params.append((key, float(plain.rstrip("M").strip()) * 1e6, f"{key}: {plain}"))
            elif low == "quantization":
                self.card["quantization"] = {"precision": plain.lower()}
            elif low in ("provenance", "paper"):
                self.card[low] = plain
            else:
                self.warn(table.start + 3 + n, f"network information row {key!r} is not understood; dropped")

    def tensors(self, table: Table, which: str) -> None:
        out = []
        for shape_cell, description in ((r[0], r[1]) for r in table.rows):
            dims = [d.strip() for d in shape_cell.strip("()[] ").split(",") if d.strip()]
            lowered = description.lower()
            dtype = next((d for d in _DTYPES if re.search(rf"\b{d}\b", lowered)), None)
            if dtype is None:
                dtype = "float32"
                self.warn(table.start + 1, f"no dtype in {description!r}; assumed float32")
            meaning = meaning_of_text(description) or "other"
            shape = [int(d) if re.fullmatch(r"-?\d+", d) else d for d in dims]
            out.append({"shape": shape, "dtype": dtype, "meaning": meaning, "description": description})
        self.card[which] = out

    def platforms(self, table: Table) -> None:
        self.card["platforms"] = [
            {"name": r[0], "supported": "x" in r[1].lower(), "recommended": "x" in r[2].lower()} for r in table.rows
        ]

    def performance(self, table: Table, metrics: dict[int, Metric]) -> None:
        """Memory, time and accuracy rows become records; rows of one measurement merge into one record."""
        col = {h.lower().replace("**", "").strip(): i for i, h in enumerate(table.headers)}
        target_match = _TARGET.search(table.heading.replace("*", ""))
        accuracy = all(m.quantity == "accuracy" for m in metrics.values())
        tool_col = next((i for h, i in col.items() if h.endswith(" version")), None)
        for n, row in enumerate(table.rows):
            vid = self.variant(row[col["model"]])
            dataset = row[col["dataset"]] if "dataset" in col else self._heading_dataset(table.heading)
            record_key: dict[str, Any] = {
                "variant": vid,
                "dataset": self.dataset(dataset),
                "format": row[col["format"]].lower(),
                "resolution": row[col["resolution"]],
                "origin": "published",
            }
            if not accuracy:
                where: dict[str, Any] = {"kind": "board", "target": target_match.group(1) if target_match else "MCU"}
                for header, key in (("series", "series"), ("board", "board"), ("execution engine", "engine")):
                    if header in col and row[col[header]]:
                        where[key] = row[col[header]]
                if tool_col is not None:
                    where["tool"] = table.headers[tool_col].replace("version", "").strip()
                    where["tool_version"] = row[tool_col]
                record_key["measured_on"] = where
            key = (vid, record_key["dataset"], record_key["format"], record_key["resolution"], accuracy,
                   record_key.get("measured_on", {}).get("target"), record_key.get("measured_on", {}).get("tool_version"))
            record = self.records.setdefault(key, {**record_key, "values": {}})
            if not accuracy:  # the memory table knows the series, the time table the board: keep both
                record["measured_on"] = {**record_key["measured_on"], **record["measured_on"]}
            for i, metric in metrics.items():
                cell = row[i]
                if not cell:
                    continue
                try:
                    value = _number(cell)
                except ValueError:
                    self.problems.append(f"{table.start + 3 + n}: {table.headers[i]!r} cell {cell!r} is not a number")
                    continue
                unit = "%" if metric.quantity == "accuracy" else unit_in_header(table.headers[i]) or _DEFAULT_UNITS[metric.quantity]
                record["values"][metric.name] = {"value": value, "unit": unit}
                if metric.name not in METRICS:
                    record["values"][metric.name]["label"] = metric.label

    def _heading_dataset(self, heading: str) -> str:
        for d in self.datasets.values():
            if d["name"].lower() in heading.lower():
                return d["name"]
        found = re.search(r"(?:with|on)\s+(.+?)\s+(?:\w+\s+)?dataset", heading, re.I)
        return found.group(1) if found else heading

    def dataset_details(self, line: str) -> None:
        """``Dataset details: [link](URL), License [Apache-2.0](URL), Number of identities: 486 (train: ...)``."""
        links = re.findall(r"\[([^\]]*)\]\(([^)\s]+)\)", line)
        if not self.datasets:
            return
        dataset = next(iter(self.datasets.values())) if len(self.datasets) == 1 else None
        if dataset is None:
            return
        for text, url in links:
            if text.lower() == "link":
                dataset["link"] = url
            else:
                dataset["license"], dataset["license_link"] = text, url
        splits: dict[str, dict[str, int]] = {}
        for what, inner in re.findall(r"Number of (\w+): \d+ \(([^)]*)\)", line):
            for split, count in re.findall(r"(\w+): (\d+)", inner):
                splits.setdefault(split, {})[what] = int(count)
        if splits:
            dataset["splits"] = splits

    def generic_table(self, table: Table, taken: set[str]) -> str:
        name = _slug(table.heading) or "table"
        while name in taken:
            name += "_2"
        entry: dict[str, Any] = {"name": name, "headers": table.headers, "rows": table.rows}
        if table.heading:
            entry["title"] = table.heading
        self.generic.append(entry)
        self.warn(table.start + 1, f"table {table.headers[:3]}... is not understood; kept verbatim as table {name!r}")
        return f"table-{name}"


_STRUCTURE = {"model", "dataset", "format", "resolution", "series", "board", "execution engine", "split"}


def _metric_columns(table: Table) -> dict[int, Metric]:
    """Figure columns: known metrics by their header, any other non-structural column as a metric of the
    table's quantity named after its header (so no column of a performance table is lost)."""
    found: dict[int, Metric] = {}
    unknown = []
    for i, header in enumerate(table.headers):
        plain = header.replace("**", "").strip()
        metric = metric_for_label(plain)
        if metric:
            if not metric.derived:
                found[i] = metric
        elif plain.lower() not in _STRUCTURE and not plain.lower().endswith(" version"):
            unknown.append((i, plain))
    if found:
        quantity = next(iter(found.values())).quantity
        for i, plain in unknown:
            label = re.sub(r"\s*\(.*?\)", "", plain)
            found[i] = Metric(_slug(label), quantity, label)
    return dict(sorted(found.items()))


def import_card(source: Path, card_path: Path, registry: Registry | None) -> ImportResult:
    """Write ``card_path`` and, next to it, ``README.md`` rendered from it (both atomically).

    Raises ``InvalidDataError`` (nothing written) for ragged or empty tables, non-numeric figures, or a
    card that would not validate.
    """
    try:
        lines = source.read_text(encoding="utf-8").replace("\r\n", "\n").split("\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidDataError([f"cannot read: {exc}"], path=source) from None
    tables, problems = parse_tables(lines)
    if problems:
        raise InvalidDataError(problems, path=source)
    imp = _Importer(source, registry)
    title = next((l.lstrip("#").strip() for l in lines if l.startswith("# ")), source.parent.name)
    imp.card["title"] = title
    use_case = re.search(r"use case\W*`([^`]+)`", "\n".join(lines), re.I)
    imp.card["use_case"] = _slug(use_case.group(1)) if use_case else "unknown"
    regions: list[tuple[Table, str | None]] = []  # each table and the region that replaces it (None: dropped)
    taken: set[str] = set()
    for table in tables:
        first = table.headers[0].lower().replace("**", "")
        metrics = _metric_columns(table)
        if first.startswith("network information"):
            imp.network(table)
            regions.append((table, "network"))
        elif first in ("input shape", "output shape"):
            imp.tensors(table, "inputs" if first.startswith("input") else "outputs")
            regions.append((table, "io" if "io" not in taken else None))
            taken.add("io")
        elif first == "platform":
            imp.platforms(table)
            regions.append((table, "platforms"))
        elif metrics and {"model", "format", "resolution"} <= {h.lower() for h in table.headers}:
            imp.performance(table, metrics)
            quantity = next(iter(metrics.values())).quantity
            if quantity == "accuracy":
                name = f"accuracy-{_slug(imp._heading_dataset(table.heading))}"
            else:
                target = _TARGET.search(table.heading.replace("*", ""))
                name = f"{quantity}-{(target.group(1) if target else 'MCU').lower()}"
            regions.append((table, name if name not in taken else None))
            taken.add(name)
        else:
            regions.append((table, imp.generic_table(table, {g["name"] for g in imp.generic})))
    if imp.problems:
        raise InvalidDataError(imp.problems, path=source)
    details = [i for i, l in enumerate(lines) if l.strip().lower().startswith("dataset details")]
    for i in details:
        imp.dataset_details(lines[i])
    card = _assemble(imp, registry)
    text = "# Imported from " + source.name + " by `zoo import-card`; README.md tables are rendered from it.\n"
    text += yaml.safe_dump(card, sort_keys=False, allow_unicode=True, width=120)
    loaded = load_card(card_path, text=text)  # a card that would not validate is refused before writing
    if why := arxiv_problem(card.get("paper", "arXiv:1501.00001")):
        imp.warnings.append(f"{source}: paper: {why} (kept as the card states it; zoo validate reports it)")
    readme = _with_markers(lines, regions, details)
    readme_path = card_path.parent / "README.md"
    rendered = render_text(readme, loaded, registry, path=readme_path)
    card_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(card_path, text)
    write_atomic(readme_path, rendered)
    return ImportResult(card=card_path, readme=readme_path, warnings=imp.warnings)


def _assemble(imp: _Importer, registry: Registry | None) -> dict[str, Any]:
    """Card data in the committed cards' key order, with defaults (and warnings) for what the text omits."""
    card, variants = imp.card, list(imp.variants.values())
    model = next((registry.models[v["id"]] for v in variants if registry and v["id"] in registry.models), None)
    out: dict[str, Any] = {"schema_version": 1, "family": model.family if model else _slug(card["title"])}
    out["title"] = card["title"]
    out["use_case"] = card["use_case"]
    if "framework" not in card:
        imp.warnings.append(f"{imp.path}: no framework stated; recorded as 'unknown'")
    out["framework"] = card.get("framework", "unknown")
    if "quantization" in card:
        out["quantization"] = card["quantization"]
    license_id = model.license if model and model.license else None
    if license_id is None:
        imp.warnings.append(f"{imp.path}: the card states no model licence; recorded as NOASSERTION")
    out["license"] = {"id": license_id or "NOASSERTION"}
    for key in ("provenance", "paper", "inputs", "outputs", "platforms"):
        if key in card:
            out[key] = card[key]
    for key, value, note in imp.published_params:
        alpha = re.search(r"\d+(?:\.\d+)?", key)
        match = [v for v in variants if alpha and alpha.group(0) in v["label"]] or (variants if len(variants) == 1 else [])
        if len(match) == 1:
            match[0]["parameters"] = {"published": {"value": round(value), "note": f"{note}, as the source card states"}}
        else:
            imp.warnings.append(f"{imp.path}: cannot tell which variant {key!r} describes; dropped")
    out["variants"] = variants
    if imp.datasets:
        out["datasets"] = list(imp.datasets.values())
    if imp.records:
        out["performance"] = list(imp.records.values())
    if imp.generic:
        out["tables"] = imp.generic
    return out


def _with_markers(lines: list[str], regions: list[tuple[Table, str | None]], details: list[int]) -> str:
    """The source with each table replaced by its region's markers (rendered tables fill them).

    Dataset sentences go too: the accuracy region renders them from the card.
    """
    starts = {table.start: (table, name) for table, name in regions}
    out, i = [], 0
    while i < len(lines):
        if i in starts:
            table, name = starts[i]
            out += ["", f"<!-- zoo:begin name={name} -->", f"<!-- zoo:end name={name} -->", ""] if name else []
            i = table.end
            continue
        if i not in details:
            out.append(lines[i])
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"
