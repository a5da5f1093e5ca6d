"""Accuracy claims of a card against figures measured here, under the same evaluation protocol."""

from __future__ import annotations

from typing import Any

from zoo.cards.card import Card, figure_number
from zoo.cards.protocol import record_protocol
from zoo.verification.rules.base import Check, check


def accuracy_claim_checks(card: Card, variant_id: str, dataset_id: str, measured: dict[str, float],
                          tolerance_pp: float, *, protocol: str | None = None, kernels: str = "optimized",
                          unnamed_kernels: str = "optimized") -> list[Check]:
    """Each accuracy figure (%) the card claims for ``variant_id`` on ``dataset_id``, against ``measured`` (%).

    Measured records count as claims too: ``--write`` put them there, and a re-measure must reproduce them.
    Both sides are compared at the claim's printed precision plus the tolerance, so 88.91 claimed and
    88.9149 measured agree at tolerance 0. With ``protocol``, only claims under that protocol (a record's
    own, else the card's ``evaluation.protocol``) are compared, and only with a measurement under the
    record's kernels (``measured_on.kernels``; a record that names none is taken as ``unnamed_kernels``'s):
    figures computed another way are not evidence either way.
    """
    checks = []
    for i, record in enumerate(card.performance):
        if record.get("variant") != variant_id or record.get("dataset") != dataset_id:
            continue
        under = record_protocol(card.evaluation, record)
        record_kernels = (record.get("measured_on") or {}).get("kernels", unnamed_kernels)
        if protocol is not None and (under != protocol or record_kernels != kernels):
            continue
        for metric, value in (record.get("values") or {}).items():
            if metric not in measured or not isinstance(value, dict):
                continue
            low, high = _claimed_interval(value)
            if low is None:
                continue  # text ("N/A"): no figure to compare
            diff = measured[metric] - (low if measured[metric] < low else high if measured[metric] > high else
                                       measured[metric])
            ok = abs(diff) <= tolerance_pp + _half_step(value.get("value", high))
            checks.append(check(f"accuracy.{metric}", ok, f"performance[{i}]: {metric} claimed {_claim_text(value)} %, "
                                f"measured {measured[metric]:.2f} % ({diff:+.2f} pp, tolerance {tolerance_pp} pp; "
                                f"{under} protocol, {kernels} kernels)" + ("" if ok else "; correct the claim or the file"),
                                claimed=value.get("value", [low, high]), measured=round(measured[metric], 4), protocol=under,
                                kernels=kernels, record=i))
    return checks


def _half_step(claimed: float) -> float:
    """Half a unit of the claim's last printed digit: what rounding to that precision can hide.

    >>> _half_step(88.91), _half_step(92.0)
    (0.005, 0.05)
    """
    text = repr(float(claimed))
    digits = 0 if "e" in text else len(text.split(".")[1])
    return round(0.5 * 10.0 ** -digits, digits + 1)


def _claimed_interval(value: dict[str, Any]) -> tuple[float | None, float | None]:
    """What a claim allows: its number as a one-point interval, a ``low``..``high`` range, or nothing (text)."""
    number = figure_number(value)
    if number is not None:
        return number, number
    if isinstance(value.get("low"), (int, float)) and isinstance(value.get("high"), (int, float)):
        return float(value["low"]), float(value["high"])
    return None, None


def _claim_text(value: dict[str, Any]) -> str:
    return str(value["value"]) if "value" in value else f"{value.get('low')}-{value.get('high')}"

