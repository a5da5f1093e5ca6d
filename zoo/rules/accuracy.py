"""Accuracy claims of a card against figures measured here."""

from __future__ import annotations

from typing import Any

from zoo.rules.base import Check, check, records_of


def accuracy_claim_checks(card: dict[str, Any], variant_id: str, dataset_id: str, measured: dict[str, float],
                          tolerance_pp: float) -> list[Check]:
    """Each accuracy figure (%) the card claims for ``variant_id`` on ``dataset_id``, against ``measured`` (%).

    Measured records count as claims too: ``--write`` put them there, and a re-measure must reproduce them.
    """
    checks = []
    for i, record in enumerate(records_of(card, variant_id)):
        if record.get("dataset") != dataset_id:
            continue
        for metric, value in (record.get("values") or {}).items():
            if metric not in measured:
                continue
            diff = measured[metric] - float(value["value"])
            ok = abs(diff) <= tolerance_pp
            checks.append(check(f"accuracy.{metric}", ok, f"performance[{i}]: {metric} claimed {value['value']} %, "
                                f"measured {measured[metric]:.2f} % ({diff:+.2f} pp, tolerance {tolerance_pp} pp)"
                                + ("" if ok else "; correct the claim or the file"), claimed=value["value"],
                                measured=round(measured[metric], 4)))
    return checks
