"""Import, step two (assemble): card data from a parsed card's tables, and the README skeleton with markers.

Each kind of table is read by ``zoo.importer.tables``; a table whose numbers would not come back from its
rendering is kept verbatim instead, with a warning.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from zoo.importer import sections as sections
from zoo.importer import tables as read
from zoo.render.card_tables import regions as render_regions
from zoo.cards.card import Card
from zoo.core.documents import Document
from zoo.markdown.tables import Table
from zoo.markdown.markers import MARKER
from zoo.cards.units import QUALITY
from zoo.render.performance import dataset_sentence
from zoo.reid.protocols import published_protocol
from zoo.catalog.registry import Registry
from zoo.markdown.cells import clean_text, numbers_in

from zoo.importer.source import Source


class _Card:
    """Card data being assembled from the tables of one source."""

    def __init__(self, source: Source, registry: Registry | None) -> None:
        self.source, self.registry = source, registry
        self.fields: dict[str, Any] = {}
        self.variants: dict[str, dict[str, Any]] = {}
        self.datasets: dict[str, dict[str, Any]] = {}
        self.records: list[dict[str, Any]] = []
        self.generic: list[dict[str, Any]] = []
        self.details: list[dict[str, str]] = []
        self.warnings: list[str] = [f"{source.path}:{r}" for t in source.tables for r in t.repairs]
        self.kept_as_text: list[str] = []

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(f"{self.source.path}:{line}: {message}")

    def variant(self, cell: str) -> tuple[str, str | None]:
        """The variant a model cell names (the registry model whose artifact the link names, else a slug of
        its label) and the row's own link when it differs from the variant's."""
        link = read.LINK.search(cell)
        label = clean_text(link.group("text") if link else cell) or "model"
        url = link.group("url") if link else None
        vid = None
        if url and self.registry:
            name = url.rstrip("/").rsplit("/", 1)[-1]
            vid = next((m.id for m in self.registry.models.values() for a in m.artifacts if a.file == name), None)
        vid = vid or read.slug(label)
        entry = self.variants.setdefault(vid, {"id": vid, "label": label})
        model = self.registry.models.get(vid) if self.registry else None
        linked = model is not None and any("://" in s for a in model.artifacts for s in a.sources)
        if url and "link" not in entry and not linked:  # the registry's link is rendered when it has one
            entry["link"] = url
        return vid, url if url and "link" in entry and url != entry["link"] else None

    def dataset(self, name: str, heading: str = "") -> str:
        """The data set a row's cell names, else one its section heading names (a known one first)."""
        around = f"_{read.slug(heading)}_"
        known = [d for d in self.datasets if f"_{d}_" in around]
        if not name and known:
            return max(known, key=len)
        name = name or read.heading_dataset(heading)
        did = read.slug(name)
        self.datasets.setdefault(did, {"id": did, "name": name})
        return did

    def table(self, table: Table, taken: set[str]) -> str:
        """Read one table into the card; the region that renders it back (several tensor tables share ``io``)."""
        first = read.header_key(table.headers[0])
        if first.startswith("network information") and len(table.headers) >= 2 and "network" not in taken:
            fields, others = sections.network(table)
            self.fields |= {k: v for k, v in fields.items() if k not in self.fields}
            self.details += [{"name": k or "-", "value": v or "-"} for k, v in others]
            return _unique("network", taken)
        which = sections.is_tensor_table(table)
        if which:
            if which not in self.fields:
                self.fields[which], assumed = sections.tensors(table)
                self.warnings += [f"{self.source.path}:{a}" for a in assumed]
            return "io" if "io" in taken else _unique("io", taken)  # one region renders inputs and outputs
        if first == "platform" and len(table.headers) >= 3 and "platforms" not in taken:
            self.fields["platforms"] = sections.platforms(table)
            return _unique("platforms", taken)
        cols = read.columns(table)
        read.keep_published_rates(table, cols)
        if not read.is_performance(cols):
            return self.verbatim(table, taken)
        quantities = {c.metric.quantity for c in cols if c.metric and c.role == "metric"} - {"rate"}
        rows = read.performance_rows(table, cols, self.variant, self.dataset, _unique(self._region(table, quantities), taken))
        self.records += rows.records
        self.kept_as_text += [f"{self.source.path}:{k}" for k in rows.kept_as_text]
        return str(rows.records[0]["table"])

    def _region(self, table: Table, quantities: set[str]) -> str:
        if not quantities or quantities <= set(QUALITY):
            return f"accuracy-{read.slug(read.heading_dataset(table.heading))[:40]}"
        target = read.TARGET.search(clean_text(table.heading).replace("*", ""))
        kind = quantities.pop() if len(quantities) == 1 else "performance"
        return f"{kind}-{(target.group(1) if target else 'MCU').lower()}"

    def verbatim(self, table: Table, taken: set[str]) -> str:
        name = _unique(f"table-{read.slug(table.heading or 'table')[:40]}", taken)
        entry: dict[str, Any] = {"name": name[len("table-"):], "headers": table.headers, "rows": table.rows}
        if table.heading:
            entry["title"] = clean_text(table.heading)
        self.generic.append(entry)
        self.warn(table.start + 1, f"table {table.headers[:3]}... is not understood; kept verbatim as table {entry['name']!r}")
        return name


def _unique(name: str, taken: set[str]) -> str:
    n, out = 2, name
    while out in taken:
        out, n = f"{name}-{n}", n + 1
    taken.add(out)
    return out


@dataclass
class Assembly:
    """Card data and the README skeleton (tables replaced by markers) it is rendered into."""

    card: dict[str, Any]
    readme: str
    warnings: list[str]
    kept_as_text: list[str]


def assemble(source: Source, registry: Registry | None) -> Assembly:
    """Card data from ``source``'s tables; a table whose numbers would not come back is kept verbatim."""
    acc = _Card(source, registry)
    taken: set[str] = set()
    placed = [(table, acc.table(table, taken)) for table in source.tables]
    drop = _dataset_details(acc, source, placed)
    shown = render_regions(Card(source.path, Document(source.path, _card_data(acc), {})), registry)
    failed = {name for table, name in placed if name in shown and not _same_numbers(table, shown[name])}
    for i, (table, name) in enumerate(placed):
        if name in failed:
            acc.records = [r for r in acc.records if r.get("table") != name]
            acc.warn(table.start + 1, f"table {name!r} would not render every number back; kept verbatim")
            placed[i] = (table, acc.verbatim(table, taken))
    return Assembly(_card_data(acc), _with_markers(source.lines, placed, drop), acc.warnings, acc.kept_as_text)


def _same_numbers(table: Table, rendered: str) -> bool:
    """Every number of the source table appears in its rendering as often (derived columns may add more)."""
    want = Counter(n for row in table.rows for cell in row for n in numbers_in(clean_text(cell)))
    return not (want - Counter(numbers_in(rendered)))


def _dataset_details(acc: _Card, source: Source, placed: list[tuple[Table, str]]) -> set[int]:
    """``Dataset details: [link](URL), License [X](URL), Number of identities: 486 (train: 243, ...)`` lines
    read into the data set of the accuracy table below them, when the rendered sentence keeps every number;
    otherwise the line stays as prose. Returns the lines taken out."""
    taken = set()
    for i, line in enumerate(source.lines):
        if not line.strip().lower().startswith("dataset details"):
            continue
        below = next((name for t, name in placed if t.start > i), None)
        rows = [r for r in acc.records if below and r.get("table") == below]
        ids = {r["dataset"] for r in rows}
        if len(ids) != 1 or "measured_on" in rows[0]:
            continue
        dataset, want = sections.dataset_details(line, acc.datasets[ids.pop()])
        sentence = dataset_sentence(dataset) or ""
        if want == Counter(numbers_in(sentence)) and "quotation" not in line.lower():
            acc.datasets[dataset["id"]] = dataset
            taken.add(i)
    return taken


def _card_data(acc: _Card) -> dict[str, Any]:
    """Card data in the committed cards' key order, with defaults for what the text omits."""
    source, fields, variants = acc.source, acc.fields, [dict(v) for v in acc.variants.values()]
    registry = acc.registry
    model = next((registry.models[v["id"]] for v in variants if registry and v["id"] in registry.models), None)
    out: dict[str, Any] = {"schema_version": 1, "family": model.family if model else read.slug(source.title)}
    out |= {"title": source.title, "use_case": source.use_case, "framework": fields.get("framework", "unknown")}
    if "quantization" in fields:
        out["quantization"] = fields["quantization"]
    out["license"] = {"id": model.license if model and model.license else "NOASSERTION"}
    for key in ("provenance", "paper", "inputs", "outputs", "platforms"):
        if key in fields:
            out[key] = fields[key]
    if details := _published_parameters(acc, variants):
        out["network_details"] = details
    records = acc.records
    if protocol := _protocol(source, records):
        out["evaluation"] = {"protocol": protocol}  # so zoo verify checks the figures the way they were made
        records = [{k: v for k, v in r.items() if (k, v) != ("protocol", protocol)} for r in records]
    out["variants"] = variants or [{"id": read.slug(source.title), "label": source.title}]
    if acc.datasets:
        out["datasets"] = list(acc.datasets.values())
    if records:
        out["performance"] = records
    if acc.generic:
        out["tables"] = acc.generic
    return out


def _protocol(source: Source, records: list[dict[str, Any]]) -> str | None:
    """The protocol of the card's figures: its publisher's (``zoo.reid.protocols``), else the one every record's
    Protocol column names (a README zoo rendered)."""
    named = {r["protocol"] for r in records if "protocol" in r}
    published = published_protocol(source.use_case, "\n".join(source.lines))
    return published or (named.pop() if len(named) == 1 else None)


def _published_parameters(acc: _Card, variants: list[dict[str, Any]]) -> list[dict[str, str]]:
    """``MParams alpha 0.25 | 0.197 M`` rows become the parameters of the one variant they name; the other
    network rows stay as they are written."""
    rest = []
    for row in acc.details:
        key, value = row["name"], row["value"]
        figure = re.fullmatch(r"(\d+(?:\.\d+)?)\s*M?", value)
        alpha = re.search(r"\d+(?:\.\d+)?", key)
        match = ([v for v in variants if v["label"] in key] or [v for v in variants if alpha and alpha.group(0) in v["label"]]
                 or (variants if len(variants) == 1 else []))
        if "mparams" in key.lower() and figure and len(match) == 1 and "parameters" not in match[0]:
            match[0]["parameters"] = {"published": {"value": round(float(figure.group(1)) * 1e6)}}
        else:
            rest.append(row)
    return rest


def _with_markers(lines: list[str], placed: list[tuple[Table, str]], drop: set[int]) -> str:
    """The source with each table replaced by its region's markers (rendered tables fill them); a table whose
    region an earlier table already placed goes."""
    starts = {table.start: (table, name) for table, name in placed}
    out, i, seen = [], 0, set()
    while i < len(lines):
        if i in starts:
            table, name = starts[i]
            out += ["", f"<!-- zoo:begin name={name} -->", f"<!-- zoo:end name={name} -->", ""] if name not in seen else []
            seen.add(name)
            i = table.end
            continue
        if i not in drop and not MARKER.match(lines[i].strip()):  # a README zoo rendered before
            out.append(lines[i])
        i += 1
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n") + "\n"
