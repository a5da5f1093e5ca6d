"""Accuracy claims of a card against figures measured here."""

from __future__ import annotations

from zoo.cards import Card
from zoo.rules.base import Check, check


def accuracy_claim_checks(card: Card, variant_id: str, dataset_id: str, measured: dict[str, float],
                          tolerance_pp: float) -> list[Check]:
    """Each accuracy figure (%) the card claims for ``variant_id`` on ``dataset_id``, against ``measured`` (%).

    Measured records count as claims too: ``--write`` put them there, and a re-measure must reproduce them.
    Both sides are compared at the claim's printed precision plus the tolerance, so 88.91 claimed and
    88.9149 measured agree at tolerance 0.
    """
    checks = []
    for i, record in enumerate(card.performance):
        if record.get("variant") != variant_id or record.get("dataset") != dataset_id:
            continue
        for metric, value in (record.get("values") or {}).items():
            if metric not in measured or not isinstance(value, dict):
                continue
            diff = measured[metric] - float(value["value"])
            ok = abs(diff) <= tolerance_pp + _half_step(value["value"])
            checks.append(check(f"accuracy.{metric}", ok, f"performance[{i}]: {metric} claimed {value['value']} %, "
                                f"measured {measured[metric]:.2f} % ({diff:+.2f} pp, tolerance {tolerance_pp} pp)"
                                + ("" if ok else "; correct the claim or the file"), claimed=value["value"],
                                measured=round(measured[metric], 4)))
    return checks


def _half_step(claimed: float) -> float:
    """Half a unit of the claim's last printed digit: what rounding to that precision can hide.

    >>> _half_step(88.91), _half_step(92.0)
    (0.005, 0.05)
    """
    text = repr(float(claimed))
    digits = 0 if "e" in text else len(text.split(".")[1])
    return round(0.5 * 10.0 ** -digits, digits + 1)
