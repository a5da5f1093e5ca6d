"""Re-ID accuracy of one model file on one dataset, computed the way the card's recipe defines it.

dataset layout -> decode + resize exactly as the recipe -> invoke -> dequantize -> L2-normalise ->
cosine (or euclidean) distances -> mAP / CMC / mINP under the Market-1501 protocol. It needs a dataset,
so the example is not a doctest (tests/test_evaluate.py runs it)::

    result = evaluate(Path("osnet.tflite"), Path("cuhk03-reid-sample"), preprocessing=card.preprocessing)
    result.as_percent()["rank1"]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zoo.datasets import load_dataset
from zoo.errors import DatasetError, UsageError
from zoo.features import extract_features
from zoo.inspection import read_model
from zoo.preprocessing import Preprocessing
from zoo.reid import DISTANCES, evaluate_features

RANKS = (1, 5, 10)


@dataclass(frozen=True)
class EvaluationResult:
    """Fractions in 0..1; ``as_percent`` gives the % figures cards store."""

    mAP: float
    cmc: np.ndarray
    mINP: float
    num_valid_queries: int
    num_queries: int
    num_gallery: int
    layout: str
    distance: str
    elapsed: float

    @property
    def num_skipped_queries(self) -> int:
        return self.num_queries - self.num_valid_queries

    def rank(self, k: int) -> float:
        """CMC at rank ``k`` (a gallery smaller than ``k`` ranks every match within it)."""
        return float(self.cmc[min(k, len(self.cmc)) - 1])

    @property
    def rank1(self) -> float:
        return self.rank(1)

    @property
    def rank5(self) -> float:
        return self.rank(5)

    @property
    def rank10(self) -> float:
        return self.rank(10)

    def as_percent(self, ndigits: int | None = 2) -> dict[str, float]:
        """``{"mAP", "rank1", "rank5", "rank10", "mINP"}`` in %, the keys the card's ``values`` use."""
        values = {"mAP": self.mAP, **{f"rank{k}": self.rank(k) for k in RANKS}, "mINP": self.mINP}
        return {key: round(100 * v, ndigits) if ndigits is not None else 100 * v for key, v in values.items()}

    def to_json(self) -> dict[str, Any]:
        """A stable, JSON-ready shape (fractions, counts, and the settings used)."""
        return {
            "mAP": self.mAP,
            **{f"rank{k}": self.rank(k) for k in RANKS},
            "mINP": self.mINP,
            "percent": self.as_percent(),
            "cmc": [float(v) for v in self.cmc],
            "num_queries": self.num_queries,
            "num_valid_queries": self.num_valid_queries,
            "num_skipped_queries": self.num_skipped_queries,
            "num_gallery": self.num_gallery,
            "layout": self.layout,
            "distance": self.distance,
            "elapsed_seconds": self.elapsed,
        }


def evaluate(
    model_file: Path,
    dataset: Path,
    *,
    preprocessing: dict,
    layout: str | None = None,
    distance: str = "cosine",
    limit_queries: int | None = None,
    progress: bool = False,
) -> EvaluationResult:
    """Measure mAP, CMC and mINP of ``model_file`` on ``dataset`` (``preprocessing``: the card's block).

    ``limit_queries`` keeps the first N queries (sorted by path) against the full gallery: a quick check.
    Raises ``DatasetError`` for an unusable dataset or one where no query has a match in the gallery.
    """
    if distance not in DISTANCES:
        raise UsageError(f"unknown distance {distance!r} (choose from {', '.join(DISTANCES)})")
    if limit_queries is not None and limit_queries < 1:
        raise UsageError(f"--limit-queries must be at least 1, got {limit_queries}")
    read_model(model_file)  # a broken file is a one-line ModelFileError here, before the interpreter sees it
    started = time.perf_counter()
    prep = Preprocessing.from_card(preprocessing)
    data = load_dataset(dataset, layout)
    queries = data.query[:limit_queries]
    features = extract_features(model_file, [i.path for i in queries + data.gallery], prep, progress=progress)
    q_feat, g_feat = features[: len(queries)], features[len(queries) :]
    pids, cams = (np.array([getattr(i, key) for i in queries + data.gallery]) for key in ("pid", "camid"))
    n = len(queries)
    ranked = evaluate_features(q_feat, g_feat, pids[:n], pids[n:], cams[:n], cams[n:], metric=distance)
    if ranked.num_valid_queries == 0:
        raise DatasetError(["no query identity has a match in the gallery (from another camera)"], path=dataset)
    return EvaluationResult(
        mAP=ranked.mAP,
        cmc=ranked.cmc,
        mINP=ranked.mINP,
        num_valid_queries=ranked.num_valid_queries,
        num_queries=len(queries),
        num_gallery=len(data.gallery),
        layout=data.layout,
        distance=distance,
        elapsed=time.perf_counter() - started,
    )
