"""The options of one ``zoo verify`` run, checked before anything is fetched or measured.

A run that would compare nothing is a usage error, not a green report: an unknown ``--dataset-id``, a
folder no card claims accuracy on, a tolerance that is negative or not a number.

>>> Options(tolerance_pp=-1)
Traceback (most recent call last):
...
zoo.core.errors.UsageError: --tolerance-pp -1: give a finite number of percentage points >= 0
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zoo.cards.card import Card
from zoo.core.errors import UsageError
from zoo.reid.protocols import get_protocol
from zoo.verification.rules.base import TOLERANCE_PP
from zoo.model.runtime import KERNELS
from zoo.verification.targets import Target

ACCURACY_METRICS = ("mAP", "rank1", "rank5", "rank10", "mINP")  # what an evaluation measures, in %


@dataclass(frozen=True)
class Options:
    """What one run measures besides the rules (cog's habit: one small dataclass, not a dict of strings)."""

    dataset: Path | None = None
    dataset_id: str | None = None  # the card dataset the folder holds; default: matched by folder name
    tolerance_pp: float = TOLERANCE_PP
    latency: bool = False
    threads: int = 1
    write: bool = False  # measurements are recorded in the cards, so measuring without a claim is the point
    protocol: str | None = None  # measure under this protocol only; default: the protocols the card's claims use
    kernels: str = "optimized"  # a kernel set of zoo.model.runtime.KERNELS, or "both"
    progress: bool = False  # a bar while features are extracted (reference kernels take minutes)

    def __post_init__(self) -> None:
        check_tolerance(self.tolerance_pp, "--tolerance-pp")
        if self.protocol is not None:
            get_protocol(self.protocol)
        if self.kernels not in (*KERNELS, "both"):
            raise UsageError(f"--kernels {self.kernels}: choose from {', '.join(KERNELS)}, both")
        if self.threads < 1:
            raise UsageError(f"--threads {self.threads}: give at least 1")
        if self.dataset_id is not None and self.dataset is None:
            raise UsageError("--dataset-id names the card dataset that --dataset DIR holds; give --dataset too")

    @property
    def kernel_sets(self) -> tuple[str, ...]:
        """The kernel sets to measure with, optimized first."""
        return KERNELS if self.kernels == "both" else (self.kernels,)


def check_tolerance(value: float, option: str) -> float:
    """A tolerance in percentage points: finite and not negative (a claim is compared at its printed precision)."""
    if not (math.isfinite(value) and value >= 0):
        raise UsageError(f"{option} {value:g}: give a finite number of percentage points >= 0")
    return value


def dataset_id_for(card: Card, options: Options) -> str | None:
    """The card dataset ``options.dataset`` holds: ``--dataset-id``, else the one named like the folder."""
    if options.dataset_id:
        return options.dataset_id if card.dataset(options.dataset_id) else None
    name = options.dataset.name.lower() if options.dataset else ""
    return next((str(d["id"]) for d in card.datasets
                 if name in (str(d.get("id", "")).lower(), str(d.get("name", "")).lower())), None)


def claims_accuracy(card: Card, variant: str, dataset_id: str) -> bool:
    """Whether the card holds an accuracy figure of ``variant`` on ``dataset_id`` to compare a measurement with."""
    return any(r.get("dataset") == dataset_id and set(ACCURACY_METRICS) & set(r.get("values") or {})
               for r in card.records(variant))


def check_dataset_options(targets: Sequence[Target], options: Options) -> None:
    """Refuse a dataset run that could compare nothing, before any model is fetched or evaluated."""
    if options.dataset is None:
        return
    if not options.dataset.is_dir():
        what = "not a folder" if options.dataset.exists() else "no such folder"
        raise UsageError(f"--dataset {options.dataset}: {what}")
    cards = [(t, t.card) for t in targets if t.card is not None and t.model_id]
    known = sorted({str(d.get("id")) for _, card in cards for d in card.datasets})
    matched = [(t, card, dataset_id_for(card, options)) for t, card in cards]
    matched = [(t, card, ds) for t, card, ds in matched if ds is not None]
    if not matched:
        what = f"--dataset-id {options.dataset_id!r}" if options.dataset_id else \
            f"--dataset {options.dataset} (matched by its folder name)"
        raise UsageError(f"{what} names no dataset of these models' cards (they have: {', '.join(known) or 'none'}); "
                         "pass --dataset-id with one of them")
    if not options.write and not any(claims_accuracy(card, t.model_id, ds) for t, card, ds in matched):
        raise UsageError(f"--dataset {options.dataset}: no card claims accuracy on "
                         f"{', '.join(sorted({ds for _, _, ds in matched}))} for these models, so nothing would be "
                         "compared (add --write to record a measurement)")
