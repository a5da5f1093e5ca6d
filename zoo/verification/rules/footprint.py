"""Footprint rules: a card's memory and time figures on boards against what the released file needs.

Each board record of a variant is held against the file's ``Footprint`` (``zoo.model.footprint``) and the
target's sourced peak (``registry/targets.yaml``):

- ``footprint.weights_flash``: an MCU keeps every weight in flash, so a CPU row's weights flash is the
  file's constant buffers (within 1 %; a warning up to 5 %, an error beyond); an NPU stores weights in its
  own, larger layout, so there the buffers are only a lower bound.
- ``footprint.ram``: internal + external RAM hold at least the activation lower bound.
- ``footprint.time``: a time below MACs / peak MACs per second of the target is impossible.
- ``footprint.rate``: a stored inferences/s above peak / MACs is impossible too.
- ``footprint.arena``: the greedy plan and TFLM's head next to the claimed RAM, as information.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zoo.cards.card import Card
from zoo.model.footprint import Footprint, kib
from zoo.cards.units import UNITS, quantity_of_unit
from zoo.verification.rules.base import (WEIGHTS_FLASH_ERROR_RTOL, WEIGHTS_FLASH_RTOL, Check, Severity, check, decimals,
                             not_checked)
from zoo.catalog.targets import Targets

CPU_TARGETS = frozenset({"MCU", "CPU", "MPU"})  # the weights live in flash (or memory) as the file stores them


def _value(values: dict[str, Any], metric: str, quantity: str) -> tuple[float, float] | None:
    """``values[metric]`` in the canonical unit of ``quantity`` (KiB, ms) and half its last printed digit.

    A bound is failed only by what the printed figure cannot be: 139.52 KiB may be 139.525 KiB.

    >>> _value({"weights_flash": {"value": 139.52, "unit": "KiB"}}, "weights_flash", "memory")
    (139.52, 0.005)
    """
    v = values.get(metric)
    if not isinstance(v, dict) or not isinstance(v.get("value"), (int, float)) or quantity_of_unit(v.get("unit")) != quantity:
        return None
    factor = UNITS[quantity][v["unit"]]
    return float(v["value"]) * factor, 0.5 * 10 ** -decimals(v) * factor


def _where(i: int, on: dict[str, Any]) -> str:
    return f"performance[{i}] ({on.get('board') or on.get('series')} {on.get('target')})"


def footprint_checks(card: Card, variant_id: str, fp: Footprint, targets: Targets) -> Iterator[Check]:
    """Every footprint rule for each board record of ``variant_id``, after the variant's own file facts."""
    yield from file_facts_check(card, variant_id, fp)
    for i, record in enumerate(card.performance):
        on = record.get("measured_on") if isinstance(record.get("measured_on"), dict) else {}
        if record.get("variant") != variant_id or on.get("kind") != "board":
            continue
        values = record.get("values") if isinstance(record.get("values"), dict) else {}
        where = _where(i, on)
        yield from weights_flash_check(where, on, _value(values, "weights_flash", "memory"), fp)
        yield from ram_checks(where, values, fp)
        yield from time_checks(where, on, values, fp, targets)


def weights_flash_check(where: str, on: dict[str, Any], figure: tuple[float, float] | None,
                        fp: Footprint) -> Iterator[Check]:
    if figure is None or not fp.weights_bytes:
        return
    claimed_kib, slack = figure
    claimed, weights = claimed_kib * 1024, fp.weights_bytes
    facts = dict(claimed_bytes=round(claimed), weights_bytes=weights)
    if str(on.get("target")) not in CPU_TARGETS:
        ok = claimed + slack * 1024 >= weights
        yield check("footprint.weights_flash", ok, f"{where}: weights flash {claimed_kib:g} KiB "
                    + (f"holds the file's constant buffers ({kib(weights)}; an NPU layout may be larger)" if ok else
                       f"is below the file's constant buffers, {kib(weights)} ({weights:,} bytes): the bound for "
                       "any layout; correct the figure"), **facts)
        return
    diff = (claimed - weights) / weights
    ok = abs(diff) <= WEIGHTS_FLASH_RTOL
    severity = None if ok or abs(diff) > WEIGHTS_FLASH_ERROR_RTOL else Severity.WARNING
    yield check("footprint.weights_flash", ok, f"{where}: weights flash {claimed_kib:g} KiB, the file's constant "
                f"buffers are {kib(weights)} ({weights:,} bytes, claim {diff:+.2%})"
                + ("" if ok else f"; an MCU keeps exactly these bytes in flash: the figure should be {kib(weights)} "
                   f"within {WEIGHTS_FLASH_RTOL:.0%}"), severity=severity, relative_difference=round(diff, 4), **facts)


def ram_checks(where: str, values: dict[str, Any], fp: Footprint) -> Iterator[Check]:
    parts = [p for p in (_value(values, m, "memory") for m in ("internal_ram", "external_ram")) if p is not None]
    if not parts:
        return
    claimed, slack = sum(p[0] for p in parts) * 1024, sum(p[1] for p in parts) * 1024
    said = f"{where}: internal + external RAM {kib(claimed)}"
    if fp.activation_lower_bound_bytes is None:
        yield not_checked("footprint.ram", f"{said}; the file's activation sizes are unknown ({'; '.join(fp.notes)})")
        return
    bound = fp.activation_lower_bound_bytes
    ok = claimed + slack >= bound
    yield check("footprint.ram", ok, f"{said} " + ("holds" if ok else "is below") + f" the activation lower bound "
                f"{kib(bound)} ({bound:,} bytes)" + ("" if ok else ": no runtime can run the file's op order in less; "
                "correct the figure"), claimed_bytes=round(claimed), lower_bound_bytes=bound)
    estimates = [(name, n) for name, n in (("greedy plan", fp.arena_estimate_bytes),
                                           ("TFLM head", fp.tflm_activation_bytes)) if n]
    if estimates and claimed:
        yield check("footprint.arena", True, f"{said}; " + ", ".join(f"{name} {kib(n)} (x{n / claimed:.2f})"
                    for name, n in estimates), severity=Severity.INFO, claimed_bytes=round(claimed),
                    **{name.replace(" ", "_") + "_bytes": n for name, n in estimates})


def time_checks(where: str, on: dict[str, Any], values: dict[str, Any], fp: Footprint,
                targets: Targets) -> Iterator[Check]:
    figure = _value(values, "inference_time", "time")
    ms, slack = figure if figure is not None else (None, 0.0)
    rates = [(name, float(v["value"])) for name, v in values.items()
             if isinstance(v, dict) and v.get("unit") == "inf/s" and isinstance(v.get("value"), (int, float))]
    if ms is None and not rates:
        return
    peak = targets.peak(on)
    reason = (f"{where}: {on.get('board') or on.get('series')} {on.get('target')} is not in {targets.path.name}, "
              "so its peak is unknown" if peak is None else
              f"{where}: a {fp.precision} model is not bound by the target's int8 peak"
              if not fp.precision.startswith("int") else f"{where}: the file has no MACs to bound its time"
              if not fp.macs else None)
    if reason:
        yield from (not_checked(rule, reason) for rule in ("footprint.time",) * (ms is not None)
                    + ("footprint.rate",) * bool(rates))
        return
    least_ms = fp.macs / peak.macs_per_second * 1000
    bound = f"{least_ms:.3g} ms = {fp.macs / 1e6:.2f} M MACs / {peak.label}"
    if ms is not None:
        ok = ms + slack >= least_ms
        per_cycle = fp.macs / (ms / 1000 * peak.clock_hz)
        yield check("footprint.time", ok, f"{where}: {ms:g} ms " + (f"respects the bound {bound} (implied "
                    f"{per_cycle:.2f} MACs/cycle)" if ok else f"is below the physical bound {bound}; correct the time"),
                    claimed_ms=ms, least_ms=round(least_ms, 6), implied_macs_per_cycle=round(per_cycle, 4))
    for name, rate in rates:
        most = 1000 / least_ms
        yield check("footprint.rate", rate <= most, f"{where}: {name} {rate:g} inf/s " + (
                    f"within the most the target allows, {most:.4g} inf/s" if rate <= most else
                    f"exceeds the most the target allows, {most:.4g} inf/s (1000 / {bound}); correct it"),
                    claimed=rate, most=round(most, 4))


def file_facts_check(card: Card, variant_id: str, fp: Footprint) -> Iterator[Check]:
    """``footprint.file``: the weights bytes and MACs ``zoo add`` wrote into the variant are the file's (a card
    kept for a file that changed says so)."""
    variant = card.find_variant(variant_id) or {}
    said = variant.get("footprint") if isinstance(variant.get("footprint"), dict) else {}
    found = {"weights_bytes": fp.weights_bytes, "macs": fp.macs}
    wrong = [f"{key} {said[key]:,} (the file: {found[key]:,})" for key in found if key in said and said[key] != found[key]]
    if said:
        yield check("footprint.file", not wrong, f"{variant_id}: " + ("weights bytes and MACs are the file's" if not wrong
                    else f"the card says {'; '.join(wrong)}; run zoo add again or write the file's figures"),
                    declared=said, found=found)
