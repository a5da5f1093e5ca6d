"""Re-ID accuracy of one model file on one dataset, computed the way a named protocol defines it.

dataset layout -> decode + resize exactly as the recipe -> quantize the input and take the output as the
protocol says (``zoo.reid.protocols``) -> invoke with the chosen kernel set -> labels as the protocol says ->
L2-normalise, cosine (or euclidean) distances, rank-k / mAP (/ mINP) under the protocol's metrics
(``zoo.reid.metrics.evaluate_features``). It needs a dataset, so the example is not a doctest
(tests/test_evaluate.py and tests/test_protocol_figures.py run it)::

    result = evaluate(Path("osnet.tflite"), Path("cuhk03-reid-sample"), preprocessing=card.preprocessing,
                      protocol="st-modelzoo", kernels="reference")
    result.as_percent()["rank1"]
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.reid.datasets import Image, load_dataset
from zoo.core.errors import DatasetError, UsageError
from zoo.reid.features import extract_features
from zoo.model.formats import check_model_file
from zoo.reid.preprocessing import Preprocessing
from zoo.cards.protocol import DEFAULT_PROTOCOL
from zoo.reid.protocols import Protocol, file_name_labels, get_protocol
from zoo.reid.metrics import DISTANCES, evaluate_features

RANKS = (1, 5, 10)


@dataclass(frozen=True)
class EvaluationResult:
    """Fractions in 0..1 (mINP NaN where the protocol has none); ``as_percent`` gives the % figures cards store."""

    mAP: float
    cmc: np.ndarray
    mINP: float
    num_valid_queries: int
    num_queries: int
    num_gallery: int
    layout: str
    distance: str
    protocol: str
    kernels: str
    elapsed: float
    percent: dict[str, Any]  # the protocol's own % figures (``RankResult.percent``: ST rounds them itself)

    @property
    def num_skipped_queries(self) -> int:
        return self.num_queries - self.num_valid_queries

    def rank(self, k: int) -> float:
        """CMC at rank ``k`` (a gallery smaller than ``k`` ranks every match within it; NaN when the protocol
        ranks nothing, as st-modelzoo on a gallery of fewer than two images)."""
        return float(self.cmc[min(k, len(self.cmc)) - 1]) if len(self.cmc) else math.nan

    def as_percent(self, ndigits: int | None = 2) -> dict[str, float]:
        """``{"mAP", "rank1", "rank5", "rank10"[, "mINP"]}`` in %, the keys the card's ``values`` use.

        The protocol's figures (already rounded where the protocol rounds them), then rounded to
        ``ndigits``; mINP only where the protocol defines it.
        """
        cmc = self.percent["cmc"]
        values = {"mAP": self.percent["mAP"], **{f"rank{k}": cmc[min(k, len(cmc)) - 1] for k in RANKS if cmc}}
        if not math.isnan(self.percent["mINP"]):
            values["mINP"] = self.percent["mINP"]
        return {key: round(v, ndigits) if ndigits is not None else v for key, v in values.items()}

    def to_json(self) -> dict[str, Any]:
        """A stable, JSON-ready shape (fractions, counts, and the settings used; no NaN: null)."""
        return {
            "mAP": self.mAP,
            **{f"rank{k}": None if math.isnan(self.rank(k)) else self.rank(k) for k in RANKS},
            "mINP": None if math.isnan(self.mINP) else self.mINP,
            "percent": self.as_percent(),
            "cmc": [float(v) for v in self.cmc],
            "num_queries": self.num_queries,
            "num_valid_queries": self.num_valid_queries,
            "num_skipped_queries": self.num_skipped_queries,
            "num_gallery": self.num_gallery,
            "layout": self.layout,
            "distance": self.distance,
            "protocol": self.protocol,
            "kernels": self.kernels,
            "elapsed_seconds": self.elapsed,
        }


def _identities(protocol: Protocol, queries: Sequence[Image], gallery: Sequence[Image]
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Query and gallery labels, then cameras, as the protocol reads them (the ST protocols: no cameras)."""
    if protocol.file_name_labels:
        q_labels, g_labels = file_name_labels([i.path for i in queries], [i.path for i in gallery])
        return np.array(q_labels), np.array(g_labels), None, None
    return (np.array([i.pid for i in queries]), np.array([i.pid for i in gallery]),
            np.array([i.camid for i in queries]), np.array([i.camid for i in gallery]))


def evaluate(
    model_file: Path,
    dataset: Path,
    *,
    preprocessing: dict,
    card: Path | None = None,
    protocol: str = DEFAULT_PROTOCOL,
    kernels: str = "optimized",
    layout: str | None = None,
    distance: str = "cosine",
    limit_queries: int | None = None,
    progress: bool = False,
) -> EvaluationResult:
    """Measure the re-ID figures of ``model_file`` on ``dataset`` (``preprocessing``: the block of ``card``)
    under ``protocol`` (``zoo.reid.protocols``) with the ``kernels`` set (``zoo.model.runtime.KERNELS``).

    ``limit_queries`` keeps the first N queries (sorted by path) against the full gallery: a quick check.
    Raises ``DatasetError`` for an unusable dataset or one where no query has a match in the gallery.
    """
    strategy = get_protocol(protocol)
    if distance not in DISTANCES:
        raise UsageError(f"unknown distance {distance!r} (choose from {', '.join(DISTANCES)})")
    if limit_queries is not None and limit_queries < 1:
        raise UsageError(f"--limit-queries must be at least 1, got {limit_queries}")
    check_model_file(model_file)  # a broken file is a one-line ModelFileError here, before the interpreter sees it
    started = time.perf_counter()
    prep = Preprocessing.from_card(preprocessing, source=card)  # a card that lacks a value is named
    data = load_dataset(dataset, layout)
    queries = data.query[:limit_queries]
    features = extract_features(model_file, [i.path for i in queries + data.gallery], prep, protocol=strategy,
                                kernels=kernels, progress=progress)
    q_feat, g_feat = features[: len(queries)], features[len(queries) :]
    q_ids, g_ids, q_cams, g_cams = _identities(strategy, queries, data.gallery)
    ranked = evaluate_features(q_feat, g_feat, q_ids, g_ids, q_cams, g_cams, metric=distance, protocol=strategy.name)
    if ranked.num_valid_queries == 0:
        where = "" if strategy.file_name_labels else " (from another camera)"
        raise DatasetError([f"no query identity has a match in the gallery{where}"], path=dataset)
    return EvaluationResult(
        mAP=ranked.mAP,
        cmc=ranked.cmc,
        mINP=ranked.mINP,
        num_valid_queries=ranked.num_valid_queries,
        num_queries=len(queries),
        num_gallery=len(data.gallery),
        layout=data.layout,
        distance=distance,
        protocol=strategy.name,
        kernels=kernels,
        elapsed=time.perf_counter() - started,
        percent=ranked.percent(),
    )
