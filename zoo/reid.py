"""Re-identification metrics (mAP, CMC, mINP) and feature distances: pure functions over arrays.

The protocol is torchreid's / Market-1501's, so figures can be compared with the literature and checked
against those projects' own code (see ``benchmarks/bench_reid_metrics.py``). No I/O, no models here.

Why it is fast: a full argsort of every distance row is what the peers pay for. AP, CMC and mINP only need
the rank of each *true match*, and a match's rank is the number of kept gallery items closer than it. So
each row is sorted by value only (numpy's SIMD sort, several times faster than argsort), and the few
matches per query are located in their sorted rows by one binary search run for all queries at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zoo.reid_distances import DISTANCES, l2_normalize, pairwise_distance
from zoo.reid_ranking import _chunk_metrics

__all__ = ["DISTANCES", "RankResult", "evaluate_rank", "l2_normalize", "pairwise_distance"]

_CHUNK_ELEMENTS = 1 << 23  # distances per chunk (32 MiB of float32): bounds memory on big problems


@dataclass(frozen=True)
class RankResult:
    """Metrics over the queries that have at least one true match (``num_valid_queries``).

    ``cmc[k]`` is the fraction of those queries whose first true match ranks within the top ``k + 1``.
    With no valid query at all, every metric is NaN.
    """

    mAP: float
    cmc: np.ndarray
    mINP: float
    num_valid_queries: int
    num_skipped_queries: int


def evaluate_rank(
    distmat: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray,
    g_camids: np.ndarray,
    max_rank: int = 50,
) -> RankResult:
    """mAP, CMC and mINP of a query x gallery distance matrix (smaller = more similar).

    Protocol (torchreid / Market-1501): for each query, gallery items with the same person id AND the
    same camera id are removed; the true matches are the remaining items with the query's person id.
    A query with no true match left is skipped and counted in ``num_skipped_queries``. AP is the mean of
    the precision at each true match; INP is ``number of matches / rank of the last match``; CMC is
    cut at ``max_rank`` (or the gallery size when that is smaller, as the peers do).

    Ties: items at equal distance are ranked by gallery index (the order of a stable sort), so a true
    match tied with a non-match ranks before it when its index is smaller. NaN distances are refused.

    >>> d = np.array([[0.1, 0.3, 0.2]])
    >>> r = evaluate_rank(d, np.array([1]), np.array([1, 1, 2]), np.array([0]), np.array([1, 1, 1]))
    >>> r.mAP, r.cmc[:3].tolist(), r.mINP
    (0.8333333333333333, [1.0, 1.0, 1.0], 0.6666666666666666)
    """
    distmat = np.asarray(distmat)
    q_pids, g_pids, q_camids, g_camids = (np.asarray(a).ravel() for a in (q_pids, g_pids, q_camids, g_camids))
    if distmat.ndim != 2 or distmat.shape != (len(q_pids), len(g_pids)):
        raise ValueError(f"distmat has shape {distmat.shape}; expected ({len(q_pids)}, {len(g_pids)}) from the ids")
    if len(q_camids) != len(q_pids) or len(g_camids) != len(g_pids):
        raise ValueError("camera ids and person ids differ in length")
    if np.isnan(distmat).any():
        raise ValueError("distmat contains NaN")
    num_g = distmat.shape[1]
    max_rank = min(max_rank, num_g)
    first_hits = np.zeros(max_rank + 1, np.int64)  # first-match rank (0-based), capped at max_rank
    ap_sum = inp_sum = 0.0
    num_valid = 0
    step = max(1, _CHUNK_ELEMENTS // max(num_g, 1))
    for start in range(0, distmat.shape[0], step):
        rows = slice(start, start + step)
        ap, inp, first = _chunk_metrics(distmat[rows], q_pids[rows], g_pids, q_camids[rows], g_camids)
        ap_sum += float(ap.sum())
        inp_sum += float(inp.sum())
        num_valid += len(ap)
        first_hits += np.bincount(np.minimum(first, max_rank), minlength=max_rank + 1)
    num_q = distmat.shape[0]
    if num_valid == 0:
        return RankResult(float("nan"), np.full(max_rank, np.nan), float("nan"), 0, num_q)
    cmc = np.cumsum(first_hits[:max_rank]) / num_valid
    return RankResult(ap_sum / num_valid, cmc, inp_sum / num_valid, num_valid, num_q - num_valid)
