"""Re-identification metrics (mAP, CMC, mINP) from features or distances: pure functions over arrays.

The protocols (``zoo.reid.scoring``) are torchreid's / Market-1501's, so figures can be checked against
those projects' own code, and the ST model zoo services' own (see ``benchmarks/bench_reid_metrics.py``
and the tests). No I/O, no models here.

Why it scales: queries are cut into blocks of rows; each block's distances are computed, ranked and
reduced to per-query figures, then dropped, so the query x gallery matrix never exists whole (at MSMT17
size it would take 3.8 GB). Blocks run on a thread pool: numpy's matmul, sort and element-wise work
release the GIL, so every core is busy. Figures do not depend on the block size or the number of threads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from zoo.reid.distances import (
    CHUNK_ROWS, DISTANCES, check_metric, l2_normalize, normalized_distance, one_blas_thread, pairwise_distance,
)
from zoo.reid.protocols import PROTOCOLS, get_protocol
from zoo.reid.scoring import SCORINGS, BlockFigures, RankResult, Scoring
from zoo.reid.ranking import GalleryIndex

__all__ = [
    "DISTANCES", "PROTOCOLS", "RankResult", "evaluate_features", "evaluate_rank", "l2_normalize", "pairwise_distance",
]

_BLOCK_ELEMENTS = 1 << 22  # distances per block (16 MiB of float32); a few blocks per worker are alive


def evaluate_rank(
    distmat: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray | None,
    g_camids: np.ndarray | None,
    max_rank: int = 50,
    protocol: str = "market1501",
    *,
    workers: int | None = None,
    block_rows: int | None = None,
) -> RankResult:
    """mAP, CMC and mINP of a query x gallery distance matrix (smaller = more similar).

    Protocol ``market1501`` (torchreid / Market-1501): for each query, gallery items with the same person
    id AND the same camera id are removed; the true matches are the remaining items with the query's
    person id. A query with no true match left is skipped and counted in ``num_skipped_queries``. AP is
    the mean of the precision at each true match; INP is ``number of matches / rank of the last match``;
    CMC is cut at ``max_rank`` (or the gallery size when that is smaller, as the peers do). For
    ``st-modelzoo`` see ``zoo.reid.scoring`` (camera ids are not used and may be None). Rows are
    ranked in blocks on ``workers`` threads, as ``evaluate_features`` does.

    Ties: items at equal distance are ranked by gallery index (the order of a stable sort), so a true
    match tied with a non-match ranks before it when its index is smaller. NaN distances are refused.

    >>> d = np.array([[0.1, 0.3, 0.2]])
    >>> r = evaluate_rank(d, np.array([1]), np.array([1, 1, 2]), np.array([0]), np.array([1, 1, 1]))
    >>> r.mAP, r.cmc[:3].tolist(), r.mINP
    (0.8333333333333333, [1.0, 1.0, 1.0], 0.6666666666666666)
    """
    strategy = SCORINGS[get_protocol(protocol).scoring]
    distmat = np.asarray(distmat)
    ids = _check_ids(strategy, q_pids, g_pids, q_camids, g_camids)
    if distmat.ndim != 2 or distmat.shape != (len(ids[0]), len(ids[1])):
        raise ValueError(f"distmat has shape {distmat.shape}; expected ({len(ids[0])}, {len(ids[1])}) from the ids")

    def block(rows: slice) -> np.ndarray:
        dist = distmat[rows]
        if not np.issubdtype(dist.dtype, np.floating):
            dist = dist.astype(np.float64)  # integer distances: exact in float64, and +inf can mark removals
        if np.isnan(dist).any():
            raise ValueError("distmat contains NaN")
        return dist

    return _stream(strategy, block, ids, max_rank, workers, block_rows)


def evaluate_features(
    q_feats: np.ndarray,
    g_feats: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray | None,
    g_camids: np.ndarray | None,
    metric: str = "cosine",
    max_rank: int = 50,
    protocol: str = "market1501",
    *,
    workers: int | None = None,
    block_rows: int | None = None,
) -> RankResult:
    """``evaluate_rank(pairwise_distance(q_feats, g_feats, metric), ...)`` without the whole matrix.

    Features are cast to float32 and L2-normalised once; each block of queries gets its distances
    from one matrix product and is ranked at once. Memory: the features plus a few blocks of 16 MiB
    per worker. ``workers`` defaults to the cores this process may use; ``block_rows`` (queries per
    block) to 16 MiB of distances.

    >>> q, g = np.array([[1.0, 0.0]]), np.array([[0.9, 0.1], [0.0, 1.0], [1.0, 0.2]])
    >>> r = evaluate_features(q, g, [1], [1, 2, 1], [0], [1, 1, 1], protocol="market1501")
    >>> r.mAP, r.cmc.tolist()
    (1.0, [1.0, 1.0, 1.0])
    """
    strategy = SCORINGS[get_protocol(protocol).scoring]
    check_metric(metric)
    q, g = l2_normalize(_features(q_feats, "q_feats")), l2_normalize(_features(g_feats, "g_feats"))
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"query features have {q.shape[1]} values, gallery features {g.shape[1]}")
    ids = _check_ids(strategy, q_pids, g_pids, q_camids, g_camids)
    if (len(q), len(g)) != (len(ids[0]), len(ids[1])):
        raise ValueError(f"{len(q)} query and {len(g)} gallery features for {len(ids[0])} and {len(ids[1])} ids")
    g_squared = np.sum(g * g, axis=1)

    def block(rows: slice) -> np.ndarray:
        stop = min(rows.stop, len(q))
        epsilon = strategy.sqrt_epsilon
        return normalized_distance(q, rows.start, stop, g, metric, sqrt_epsilon=epsilon, g_squared=g_squared)

    return _stream(strategy, block, ids, max_rank, workers, block_rows)


def _stream(
    strategy: Scoring,
    distances: Callable[[slice], np.ndarray],
    ids: tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None],
    max_rank: int,
    workers: int | None,
    block_rows: int | None,
) -> RankResult:
    """Run ``strategy`` over blocks of query rows on a thread pool, then join the blocks in order."""
    q_pids, g_pids, q_camids, g_camids = ids
    num_q, num_g = len(q_pids), len(g_pids)
    index = GalleryIndex(g_pids)
    step = block_rows or CHUNK_ROWS * max(1, _BLOCK_ELEMENTS // max(num_g * CHUNK_ROWS, 1))

    def run(start: int) -> BlockFigures:
        rows = slice(start, start + step)
        cams = None if q_camids is None else q_camids[rows]
        return strategy.block(distances(rows), q_pids[rows], cams, index, g_camids)

    starts = range(0, num_q, step)
    workers = min(workers or _usable_cores(), len(starts)) or 1
    with one_blas_thread():
        if workers == 1:
            blocks = [run(start) for start in starts]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="zoo-reid") as pool:
                blocks = list(pool.map(run, starts))
    return strategy.finish(blocks, num_g, max_rank)


def _usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _features(features: np.ndarray, name: str) -> np.ndarray:
    features = np.asarray(features)
    if features.ndim != 2:
        raise ValueError(f"{name} must be 2-D (items x values), got shape {features.shape}")
    if not np.isfinite(features).all():
        raise ValueError(f"{name} contains NaN or infinity")
    return features


def _check_ids(
    strategy: Scoring, q_pids, g_pids, q_camids, g_camids
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Ids as flat arrays, checked against each other; camera ids only where the protocol uses them."""
    q_pids, g_pids = np.asarray(q_pids).ravel(), np.asarray(g_pids).ravel()
    if not strategy.remove_same_camera:
        return q_pids, g_pids, None, None
    if q_camids is None or g_camids is None:
        raise ValueError(f"protocol {strategy.name} needs camera ids")
    q_camids, g_camids = np.asarray(q_camids).ravel(), np.asarray(g_camids).ravel()
    if len(q_camids) != len(q_pids) or len(g_camids) != len(g_pids):
        raise ValueError("camera ids and person ids differ in length")
    return q_pids, g_pids, q_camids, g_camids
