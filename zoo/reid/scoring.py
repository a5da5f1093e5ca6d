"""How a protocol scores ranks: which gallery items count, which queries, and how ranks become figures.

Each evaluation protocol (``zoo.reid.protocols``, the one registry of them) names its scoring here. Both
scorings rank the same way (``zoo.reid.ranking``: stable order, ties to the smaller gallery index)
and stream over blocks of queries; they differ in what they remove, which queries they count, and how
their figures are rounded.

- ``market1501`` (torchreid / fast-reid, the literature's): items with the query's person id AND camera
  are removed; queries left without a true match are skipped; mAP, CMC (cut at ``max_rank``) and mINP
  over the remaining queries; no rounding.
- ``st-modelzoo`` (the ST model zoo services' ``re_identification/tf/src/utils/metrics.py``): no
  camera filtering; rank-k = the query's label among the first k items, over ALL queries, for
  k = 1 .. min(100, gallery // 2); mAP over the queries with at least one relevant item; figures in %
  rounded to 2 decimals the way the services round float32 values; no mINP (NaN). Gallery labels absent
  from the query set (the services' -1) can never equal a query label, so they never match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from zoo.reid.ranking import GalleryIndex, match_ranks, per_query

_ST_MAX_RANK = 100  # the services compute rank-k for k = 1 .. min(100, gallery // 2)
_ST_SQRT_EPSILON = 1e-12  # their euclidean: sqrt(max(|q|^2 - 2 q.g + |g|^2, 0) + 1e-12)


@dataclass(frozen=True)
class RankResult:
    """Fractions in 0..1 under ``protocol``; ``percent()`` gives the figures as that protocol publishes them.

    ``cmc[k]`` is the fraction of the counted queries (``market1501``: those with a true match;
    ``st-modelzoo``: all) whose first true match ranks within the top ``k + 1``. ``num_valid_queries``
    have at least one true match; mAP and mINP are means over them, NaN when there is none.
    """

    mAP: float
    cmc: np.ndarray
    mINP: float
    num_valid_queries: int
    num_skipped_queries: int
    protocol: str = "market1501"  # the scoring's name

    def percent(self) -> dict[str, float | list[float]]:
        """``{"mAP", "cmc", "mINP"}`` in %, rounded as the protocol rounds its published figures.

        >>> r = RankResult(2 / 3, np.array([1 / 3, 2 / 3]), float("nan"), 3, 0, "st-modelzoo")
        >>> r.percent()["mAP"], r.percent()["cmc"]
        (66.67, [33.33, 66.67])
        """
        return SCORINGS[self.protocol].percent(self)


@dataclass
class BlockFigures:
    """What one block of queries contributes: per-query values, joined in query order at the end."""

    ap: np.ndarray
    inp: np.ndarray
    first: np.ndarray  # 1-based rank of the first true match, for the queries that have one
    num_queries: int


@dataclass(frozen=True)
class Scoring:
    """A scoring's rules; ``block`` runs on any worker thread, ``finish`` once over all blocks in order."""

    name: str
    remove_same_camera: bool  # drop gallery items with the query's person id and camera
    cmc_over_all_queries: bool  # CMC counts queries without any match as misses (else they are skipped)
    reports_minp: bool
    sqrt_epsilon: float = 0.0  # added under the root of the euclidean distance

    def block(
        self, dist: np.ndarray, q_pids: np.ndarray, q_camids: np.ndarray | None,
        index: GalleryIndex, g_camids: np.ndarray | None,
    ) -> BlockFigures:
        """Per-query AP, INP and first-match rank of the rows of ``dist`` (queries x whole gallery)."""
        rows, cols = index.pairs(q_pids)
        if self.remove_same_camera:
            removed = q_camids[rows] == g_camids[cols]
            rows, cols, removed_rows, removed_cols = rows[~removed], cols[~removed], rows[removed], cols[removed]
        else:
            removed_rows = removed_cols = rows[:0]
        ranks = match_ranks(dist, rows, cols, removed_rows, removed_cols)
        _, ap, first, last, counts = per_query(rows, ranks, len(q_pids))
        return BlockFigures(ap, counts / last, first, len(q_pids))

    def cmc_length(self, num_gallery: int, max_rank: int) -> int:
        return min(max_rank, num_gallery)

    def finish(self, blocks: list[BlockFigures], num_gallery: int, max_rank: int) -> RankResult:
        """Figures from the blocks' per-query values (exact sums: independent of the block size)."""
        ap, inp, first = (np.concatenate([np.zeros(0), *(getattr(b, k) for b in blocks)]) for k in ("ap", "inp", "first"))
        num_q = sum(b.num_queries for b in blocks)
        num_valid = len(ap)
        length = self.cmc_length(num_gallery, max_rank)
        first_at = np.bincount(np.minimum(first.astype(np.int64), length + 1), minlength=length + 2)
        hits = np.cumsum(first_at[1 : length + 1])  # queries whose first match is within the top k
        counted = num_q if self.cmc_over_all_queries else num_valid
        cmc = hits / counted if counted else np.full(length, np.nan)
        mean = (lambda v: math.fsum(v) / num_valid) if num_valid else (lambda v: float("nan"))
        mINP = mean(inp) if self.reports_minp else float("nan")
        return RankResult(mean(ap), cmc, mINP, num_valid, num_q - num_valid, self.name)

    def percent(self, result: RankResult) -> dict[str, float | list[float]]:
        return {"mAP": 100 * result.mAP, "cmc": [100 * float(v) for v in result.cmc], "mINP": 100 * result.mINP}


@dataclass(frozen=True)
class STScoring(Scoring):
    """The ST services' figures: rank-k over all queries up to min(100, gallery // 2), float32 rounding."""

    def cmc_length(self, num_gallery: int, max_rank: int) -> int:
        return min(_ST_MAX_RANK, num_gallery // 2)

    def percent(self, result: RankResult) -> dict[str, float | list[float]]:
        """``round(float32 value * 100, 2)`` as the services apply it to their float32 figures.

        Rank-k is ``float32(hits) / float32(queries)`` (``tf.reduce_mean`` of 0/1 values); mAP is
        computed exactly and then rounded the same way.
        """
        num_q = result.num_valid_queries + result.num_skipped_queries
        hits = np.rint(np.asarray(result.cmc, np.float64) * num_q).astype(np.float32)
        cmc = _st_round(hits / np.float32(num_q)) if num_q else np.full(len(result.cmc), np.nan)
        return {"mAP": float(_st_round(np.float32(result.mAP))), "cmc": [float(v) for v in cmc], "mINP": float("nan")}


def _st_round(fraction: np.ndarray | np.float32) -> np.ndarray:
    """``round(x * 100, 2)`` on float32 values, as Python's ``round`` does on a numpy float32, then as the
    decimal the services print (the float32 83.33 is 83.33000183...; its decimal is 83.33)."""
    rounded = np.round(np.asarray(fraction, np.float32) * np.float32(100), 2)
    return np.round(rounded.astype(np.float64), 2)


SCORINGS: dict[str, Scoring] = {  # by the name a protocol's ``scoring`` gives
    "market1501": Scoring("market1501", remove_same_camera=True, cmc_over_all_queries=False, reports_minp=True),
    "st-modelzoo": STScoring(
        "st-modelzoo", remove_same_camera=False, cmc_over_all_queries=True, reports_minp=False,
        sqrt_epsilon=_ST_SQRT_EPSILON,
    ),
}
