"""Model cards as data: load a ``card.yaml``, validate it, and read it through a small typed API.

The card is the source of truth for every figure a README shows; ``zoo render-card`` draws the tables
from it and ``zoo verify`` checks its claims against the artifacts. Problems come back all at once, one
per line, as ``file:line: /json/pointer: message``.

>>> card = load_card("model_cards/osnet/card.yaml")   # doctest: +SKIP
>>> card.outputs("osnet_a025")[0]["meaning"]           # doctest: +SKIP
'embedding'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoo.documents import Document, load_yaml, schema_problems
from zoo.errors import ConfigError, InvalidDataError, UsageError
from zoo.metrics_catalog import quantity_of, unit_problem
from zoo.registry import Registry
from zoo.resources import data_dir, load_schema

# New-style arXiv ids: YYMM.NNNN until 2014, YYMM.NNNNN from 2015 (1501) on; optional version.
_ARXIV_ID = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(v\d+)?$")
_ARXIV_URL = re.compile(r"^https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/(?P<id>[^?#]+?)(?:\.pdf)?/?$")


@dataclass(frozen=True)
class Card:
    """A schema-valid card. ``data`` is the parsed YAML; ``doc`` keeps each value's line number."""

    path: Path
    doc: Document

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def family(self) -> str:
        return self.data["family"]

    @property
    def title(self) -> str:
        return self.data["title"]

    @property
    def use_case(self) -> str:
        return self.data["use_case"]

    @property
    def variant_ids(self) -> list[str]:
        return [v["id"] for v in self.data["variants"]]

    def variant(self, vid: str) -> dict[str, Any]:
        """The variant entry ``vid``; an unknown id is a usage error naming the known ones."""
        for entry in self.data["variants"]:
            if entry["id"] == vid:
                return entry
        raise UsageError(f"card has no variant {vid!r} (it has: {', '.join(self.variant_ids)})", path=self.path)

    def inputs(self, vid: str) -> list[dict[str, Any]]:
        """Input tensors of ``vid``: its own override, else the card's shared list (may be empty)."""
        return self.variant(vid).get("inputs", self.data.get("inputs", []))

    def outputs(self, vid: str) -> list[dict[str, Any]]:
        """Output tensors of ``vid``: its own override, else the card's shared list (may be empty)."""
        return self.variant(vid).get("outputs", self.data.get("outputs", []))

    @property
    def preprocessing(self) -> dict[str, Any]:
        return self.data.get("preprocessing", {})

    @property
    def performance(self) -> list[dict[str, Any]]:
        return self.data.get("performance", [])

    def records(self, variant: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Performance records, optionally of one variant and of one ``measured_on.kind`` (board or host).

        Records without ``measured_on`` (accuracy on a dataset) are returned only when ``kind`` is None.
        """
        return [
            r
            for r in self.performance
            if (variant is None or r["variant"] == variant)
            and (kind is None or r.get("measured_on", {}).get("kind") == kind)
        ]

    def dataset(self, dataset_id: str) -> dict[str, Any] | None:
        return next((d for d in self.data.get("datasets", []) if d["id"] == dataset_id), None)


def load_card(path: str | Path, *, text: str | None = None) -> Card:
    """Load and schema-validate ``path``; raise ``InvalidDataError`` listing every problem."""
    path = Path(path)
    if path.is_dir():
        path = path / "card.yaml"
    doc = load_yaml(path, text=text)
    if not isinstance(doc.data, dict):
        raise InvalidDataError([doc.problem((), "a card must be a mapping of keys to values")], path=path)
    problems = schema_problems(doc, load_schema("card"))
    if problems:
        raise InvalidDataError(problems, path=path)
    return Card(path=path, doc=doc)


def card_problems(path: str | Path, registry: Registry | None) -> list[str]:
    """Every schema and consistency problem of the card at ``path``, each as ``file:line: pointer: message``.

    Consistency needs the registry for variant ids; pass None to skip that one check.
    """
    try:
        card = load_card(path)
    except ConfigError as exc:  # unreadable, broken YAML or schema problems: all reported, none raised
        return exc.lines()
    return InvalidDataError(list(_consistency(card, registry)), path=card.path).lines()


def default_card_paths() -> list[Path]:
    """Every ``card.yaml`` shipped under ``model_cards/``."""
    return sorted(data_dir("model_cards").glob("*/card.yaml"))


def arxiv_problem(paper: str) -> str | None:
    """Why ``paper`` (``arXiv:ID`` or an arxiv.org URL) is not a well-formed arXiv reference; None if fine."""
    if paper.startswith("arXiv:"):
        ident = paper[len("arXiv:") :]
    else:
        url = _ARXIV_URL.match(paper)
        if not url:
            return "not an arXiv id" if "arxiv.org" in paper else None
        ident = url.group("id")
    found = _ARXIV_ID.match(ident)
    if found and 1 <= int(found.group("mm")) <= 12:
        five_digits = int(found.group("yy") + found.group("mm")) >= 1501
        if len(found.group("num")) == (5 if five_digits else 4):
            return None
    return f"malformed arXiv id {ident!r} (expected YYMM.NNNNN, or YYMM.NNNN before 2015)"


def _duplicates(doc: Document, items: list[Any], where: tuple[Any, ...], key: Any, what: str) -> Iterator[str]:
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        k = key(item)
        if k in seen:
            yield doc.problem(where + (i,), f"duplicate {what} (same as item {seen[k]})")
        else:
            seen[k] = i


def _record_key(record: dict[str, Any]) -> str:
    """Records are duplicates when they describe the same measurement, whatever their values."""
    return json.dumps({k: v for k, v in record.items() if k != "values"}, sort_keys=True)


def _consistency(card: Card, registry: Registry | None) -> Iterator[str]:
    doc, data = card.doc, card.data
    if "paper" in data and (why := arxiv_problem(data["paper"])):
        yield doc.problem(("paper",), why)
    variants = data["variants"]
    yield from _duplicates(doc, variants, ("variants",), lambda v: v["id"], "variant id")
    for i, v in enumerate(variants):
        model = registry.models.get(v["id"]) if registry else None
        if registry and model is None:
            yield doc.problem(("variants", i, "id"), f"variant {v['id']!r} is not a model of registry {registry.path}")
        elif model is not None and model.family != card.family:
            yield doc.problem(("variants", i, "id"), f"registry puts {v['id']!r} in family {model.family!r}")
        if not card.inputs(v["id"]) or not card.outputs(v["id"]):
            yield doc.problem(("variants", i), "no inputs or no outputs (give them per variant or for the card)")
    datasets = data.get("datasets", [])
    yield from _duplicates(doc, datasets, ("datasets",), lambda d: d["id"], "dataset id")
    yield from _duplicates(doc, data.get("platforms", []), ("platforms",), lambda p: p["name"], "platform")
    records = card.performance
    yield from _duplicates(doc, records, ("performance",), _record_key, "performance record")
    dataset_ids = {d["id"] for d in datasets}
    for i, record in enumerate(records):
        where = ("performance", i)
        if record["variant"] not in card.variant_ids:
            yield doc.problem(where + ("variant",), f"record for unknown variant {record['variant']!r}")
        if record["dataset"] not in dataset_ids:
            yield doc.problem(where + ("dataset",), f"record for unknown dataset {record['dataset']!r}")
        for metric, value in record["values"].items():
            if why := unit_problem(metric, value["unit"]):
                yield doc.problem(where + ("values", metric, "unit"), why)
            elif quantity_of(metric, value["unit"]) in ("memory", "time") and "measured_on" not in record:
                yield doc.problem(where + ("values", metric), "memory and time figures need measured_on (where they were measured)")
    tables = data.get("tables", [])
    yield from _duplicates(doc, tables, ("tables",), lambda t: t["name"], "table name")
    for i, table in enumerate(tables):
        for j, row in enumerate(table["rows"]):
            if len(row) != len(table["headers"]):
                yield doc.problem(
                    ("tables", i, "rows", j), f"row has {len(row)} cells, the header has {len(table['headers'])}"
                )
