"""What each performance metric measures, which units fit it, and how derived figures are computed.

This is the one place that knows metrics: card validation checks units with it, rendering takes column
labels and derived columns from it, importing maps table headers back to metric names, and verification
compares like with like. A metric the catalog does not know may still appear in a card (with a ``label``)
as long as its unit is one of the known units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Units accepted for each quantity, with the factor that converts them to the first (canonical) unit.
UNITS: dict[str, dict[str, float]] = {
    "memory": {"KiB": 1.0, "B": 1 / 1024, "MiB": 1024.0, "kB": 1000 / 1024, "KB": 1.0},  # KB: JEDEC, 1024 bytes
    "time": {"ms": 1.0, "us": 0.001, "s": 1000.0},
    "accuracy": {"%": 1.0},
    "score": {"1": 1.0},  # a figure without unit: PESQ, STOI
    "level": {"dB": 1.0},  # signal-to-noise figures (SI-SNR)
    "rate": {"inf/s": 1.0},
}
#: Other spellings of the units above, as published cards write them.
UNIT_SPELLINGS = {"msec": "ms", "msecs": "ms", "sec": "s", "µs": "us", "μs": "us", "MB": "MiB"}
#: ``kB`` (1000 bytes) and ``KB`` stay as a card writes them: rewriting them as KiB would change what the card says.
#: Quantities that say how good a model is (accuracy tables), as opposed to what it costs (memory, time).
QUALITY = ("accuracy", "score", "level")


@dataclass(frozen=True)
class Metric:
    name: str
    quantity: str
    label: str
    aliases: tuple[str, ...] = ()
    derived: bool = False  # computed from other values when rendering; never stored in a card


_METRICS = (
    Metric("internal_ram", "memory", "Internal RAM", ("internal ram", "activations ram", "ram")),
    Metric("external_ram", "memory", "External RAM", ("external ram",)),
    Metric("weights_flash", "memory", "Weights Flash", ("weights flash", "flash", "weights")),
    Metric("inference_time", "time", "Inference time", ("inference time", "latency")),
    Metric("inferences_per_second", "rate", "Inf / sec", ("inf sec", "inf s", "fps"), derived=True),
    Metric("mAP", "accuracy", "mAP", ("map",)),
    Metric("rank1", "accuracy", "rank-1 accuracy", ("rank 1 accuracy", "rank 1")),
    Metric("rank5", "accuracy", "rank-5 accuracy", ("rank 5 accuracy", "rank 5")),
    Metric("rank10", "accuracy", "rank-10 accuracy", ("rank 10 accuracy", "rank 10")),
    Metric("mINP", "accuracy", "mINP", ("minp",)),
    Metric("top1", "accuracy", "Top 1 Accuracy", ("top 1 accuracy", "top 1", "top1")),  # "Accuracy" alone may be pixel accuracy
    Metric("top5", "accuracy", "Top 5 Accuracy", ("top 5 accuracy", "top 5")),
    Metric("AP", "accuracy", "AP", ("ap",)),
    Metric("AP50", "accuracy", "AP50", ("ap50", "ap 50", "map 50", "map50")),
    Metric("AP50_95", "accuracy", "AP50-95", ("ap50 95", "ap 50 95", "map 50 95", "map50 95")),
    Metric("OKS_AP", "accuracy", "OKS AP", ("oks ap", "oks map")),
    Metric("f1", "accuracy", "F1", ("f1", "f1 score")),
    Metric("mIoU", "accuracy", "mIoU", ("miou", "mean iou")),
    Metric("OKS", "accuracy", "OKS", ("oks",)),
    Metric("PCK", "accuracy", "PCK", ("pck",)),
    Metric("PESQ", "score", "PESQ", ("pesq",)),
    Metric("STOI", "score", "STOI", ("stoi",)),
    Metric("SI_SNR", "level", "SI-SNR", ("si snr", "sisnr", "si sdr")),
)
METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}
_BY_ALIAS = {alias: m for m in _METRICS for alias in m.aliases}


def _normal(label: str) -> str:
    """``Inference time (ms)`` -> ``inference time``: headers are matched without units, case or punctuation."""
    label = re.sub(r"\(.*?\)", " ", label.lower())
    return " ".join(re.findall(r"[a-z0-9]+", label))


def metric_for_label(label: str) -> Metric | None:
    """The known metric a table header names, if any."""
    return _BY_ALIAS.get(_normal(label))


def unit_in_header(label: str) -> str | None:
    """``Inference time (ms)`` -> ``ms``: the unit a header states in parentheses, if it is a known one."""
    found = re.search(r"\(([^)]*)\)", label)
    unit = UNIT_SPELLINGS.get(found.group(1).strip(), found.group(1).strip()) if found else None
    return unit if unit is not None and quantity_of_unit(unit) else None


def quantity_of_unit(unit: str) -> str | None:
    for quantity, units in UNITS.items():
        if unit in units:
            return quantity
    return None


def quantity_of(metric: str, unit: str) -> str | None:
    """What ``metric`` measures: the catalog's word for a known metric, else what its unit measures."""
    known = METRICS.get(metric)
    return known.quantity if known else quantity_of_unit(unit)


def unit_problem(metric: str, unit: str) -> str | None:
    """Why ``unit`` does not fit ``metric`` (None when it does); derived metrics may not be stored at all."""
    known = METRICS.get(metric)
    if known is not None and known.derived:
        return f"{metric} is derived when the card is rendered; store what it is derived from instead"
    quantity = quantity_of(metric, unit)
    if quantity is None:
        every = sorted({u for units in UNITS.values() for u in units})
        return f"unknown unit {unit!r} (known units: {', '.join(every)})"
    if unit not in UNITS[quantity]:
        return f"unit {unit!r} does not fit {metric} ({quantity}: {', '.join(UNITS[quantity])})"
    return None


def to_canonical(value: float, unit: str) -> float:
    """``value`` in the canonical unit of its quantity (KiB, ms, %)."""
    quantity = quantity_of_unit(unit)
    if quantity is None:
        raise ValueError(f"unknown unit {unit!r}")
    return value * UNITS[quantity][unit]


def inferences_per_second(time_value: float, unit: str = "ms") -> float:
    """Throughput implied by one inference taking ``time_value``."""
    return 1000.0 / to_canonical(time_value, unit)


def format_rate(rate: float) -> str:
    """Inferences/s as the upstream cards print them: 1 decimal from 10 up, 2 below, trailing zeros dropped.

    Applied to 1000/ms this gives 283.3, 74.4, 2.02, 0.26, 241, 1.37 and 74.8 for the published 3.53, 13.44,
    495.13, 3894.82, 4.15, 729.45 and 13.37 ms; the published 5.3 for 190.3 ms comes out as 5.25 (upstream
    rounded that one figure to 1 decimal; no single rule reproduces all eight).
    """
    text = f"{rate:.1f}" if rate >= 10 else f"{rate:.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
