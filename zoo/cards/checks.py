"""A card on its own: schema problems and the consistency rules a schema cannot say, each with its line.

Problems come back all at once, one per line, as ``file:line: /json/pointer: message``, so ``zoo validate``
and ``zoo verify`` name every one. Needs the registry only for "is this variant a model".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.cards.card import Card, read_card, record_key
from zoo.core.documents import Document
from zoo.core.errors import ConfigError, InvalidDataError
from zoo.cards.units import QUALITY, quantity_of, unit_problem
from zoo.catalog.registry import Registry

# New-style arXiv ids: YYMM.NNNN until 2014, YYMM.NNNNN from 2015 (1501) on; optional version.
_ARXIV_ID = re.compile(r"^(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(v\d+)?$")
_ARXIV_OLD_ID = re.compile(r"^[a-z-]+(\.[A-Z]{2})?/\d{2}(0[1-9]|1[0-2])\d{3}(v\d+)?$")  # cs/0112017, math.GT/0309136
_ARXIV_URL = re.compile(r"^https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/(?P<id>[^?#]+?)(?:\.pdf)?/?$")


def card_problems(card: Card, registry: Registry | None) -> list[str]:
    """Every schema and consistency problem of ``card``, each as ``file:line: pointer: message``.

    Consistency is checked on schema-valid cards only; it needs the registry for variant ids (None skips that).
    """
    if card.problems:
        return InvalidDataError(list(card.problems), path=card.path).lines()
    return InvalidDataError(list(_consistency(card, registry)), path=card.path).lines()


def evaluation_gaps(card: Card) -> list[str]:
    """What ``zoo evaluate`` (and ``verify --dataset``) would miss to re-measure the accuracy a card claims, as
    ``file:line: pointer: message`` lines: a card with accuracy figures must say how images are resized.

    Cards imported from markdown often lack it; without this they pass ``validate`` and ``verify --strict``
    and only ``evaluate`` fails, naming no file.
    """
    if not card.valid:
        return []
    claims = [(r.get("dataset"), metric) for r in card.performance for metric, value in (r.get("values") or {}).items()
              if isinstance(value, dict) and quantity_of(metric, str(value.get("unit"))) in QUALITY]
    resize = card.preprocessing.get("resize") if isinstance(card.preprocessing, dict) else None
    if not claims or (isinstance(resize, dict) and {"height", "width"} <= resize.keys()):
        return []
    dataset, metric = claims[0]
    shape = next((t.get("shape") for vid in card.variant_ids for t in card.inputs(vid)), None)
    hint = (f"resize: {{height: {shape[1]}, width: {shape[2]}}}" if isinstance(shape, list) and len(shape) == 4
            and all(isinstance(d, int) for d in shape[1:3]) else "resize: {height: H, width: W}")
    where = ("preprocessing", "resize") if "preprocessing" in card.data else ()
    return InvalidDataError([card.doc.problem(where, f"the card claims accuracy ({metric} on {dataset}) but says "
                                              "no preprocessing resize, so zoo evaluate and verify --dataset cannot "
                                              f"re-measure it; add preprocessing: {{{hint}, ...}}")],
                            path=card.path).lines()


def file_problems(path: str | Path, registry: Registry | None) -> list[str]:
    """``card_problems`` of the card at ``path``; an unreadable card is its own problem, not an exception."""
    try:
        card = read_card(path)
    except ConfigError as exc:
        return exc.lines()
    return card_problems(card, registry)


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
    if _ARXIV_OLD_ID.match(ident):
        return None
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
    yield from _duplicates(doc, records, ("performance",), record_key, "performance record")
    dataset_ids = {d["id"] for d in datasets}
    for i, record in enumerate(records):
        where = ("performance", i)
        if not card.has_variant(record["variant"]):
            yield doc.problem(where + ("variant",), f"record for unknown variant {record['variant']!r}")
        if "dataset" in record and record["dataset"] not in dataset_ids:
            yield doc.problem(where + ("dataset",), f"record for unknown dataset {record['dataset']!r}")
        elif "dataset" not in record and any(quantity_of(m, v["unit"]) in QUALITY for m, v in record["values"].items()):
            yield doc.problem(where, "an accuracy figure names the dataset it was measured on (dataset:); only "
                                     "time and memory figures, measured on any input, go without one")
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
