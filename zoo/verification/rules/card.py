"""Card-wide rules: what a card says that can be checked without the artifact."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath
from zoo.cards.units import inferences_per_second, quantity_of_unit
from zoo.catalog.registry import Registry
from zoo.cards.card import Card, figure_number
from zoo.verification.rules.base import Check, check, decimals, guarded

def record_checks(card: Card, registry: Registry) -> Iterator[Check]:
    """Every performance record names a card variant that the registry knows, and links a registry file;
    stored inferences/s agree with their times."""
    yield from guarded(card.valid, "records.variant", lambda: _record_links(card, registry))
    yield from guarded(card.valid, "records.derived", lambda: derived_checks(card))


def _record_links(card: Card, registry: Registry) -> Iterator[Check]:
    variants = set(card.variant_ids)
    datasets = {d.get("id") for d in card.datasets}
    for i, record in enumerate(card.performance):
        vid, where = record.get("variant"), f"performance[{i}]"
        known = vid in variants and vid in registry.models
        yield check("records.variant", known,
                    f"{where}: variant {vid!r} resolves to the card and the registry" if known else
                    f"{where}: variant {vid!r} is not {'a card variant' if vid not in variants else 'a registry model'}; "
                    "fix the record's variant or add the model", record=i, variant=vid)
        if "dataset" in record and datasets:
            ok = record["dataset"] in datasets
            yield check("records.dataset", ok, f"{where}: dataset {record['dataset']!r} "
                        + ("is listed in datasets" if ok else "is not in the card's datasets; add it there"), record=i)
        link = record.get("artifact") or record.get("link")
        if link and known:
            name = PurePosixPath(str(link).split("?")[0]).name
            files = {a.file for a in registry.models[vid].artifacts}
            yield check("records.artifact", name in files,
                        f"{where}: links {name}" + ("" if name in files else
                        f", which is not an artifact of {vid} in the registry ({', '.join(sorted(files))})"),
                        record=i, link=str(link))


def derived_checks(card: Card) -> Iterator[Check]:
    """A stored inferences-per-second figure must equal 1000 / inference time (ms) at its printed precision."""
    for i, record in enumerate(card.performance):
        values = record.get("values") or {}
        time = next((v for v in values.values() if isinstance(v, dict) and quantity_of_unit(v.get("unit")) == "time"
                     and figure_number(v)), None)  # a range or text time derives nothing
        for name, v in values.items():
            if not isinstance(v, dict) or v.get("unit") != "inf/s" or not time or figure_number(v) is None:
                continue
            ms = f"{time['value']} {time['unit']}"
            expected = inferences_per_second(float(time["value"]), time["unit"])
            # Interval arithmetic on the printed digits of both: wrong only when no time the printed time stands
            # for gives a rate the printed rate stands for.
            t_half, r_half = 0.5 * 10 ** -decimals(time), 0.5 * 10 ** -decimals(v)
            fastest = inferences_per_second(float(time["value"]) + t_half, time["unit"])
            slowest = inferences_per_second(float(time["value"]) - t_half, time["unit"]) if time["value"] > t_half else float("inf")
            ok = float(v["value"]) + r_half >= fastest - 1e-9 and float(v["value"]) - r_half <= slowest + 1e-9
            yield check("records.derived", ok,
                        f"performance[{i}]: {name} {v['value']} inf/s "
                        + ("matches" if ok else f"contradicts {ms} (1000 ms / {ms} = {expected:.3g}); fix one of them"),
                        record=i, stored=v["value"], derived=round(expected, 6))
