"""Ranks of the true matches in a block of distance rows (moved from zoo.reid)."""

from __future__ import annotations

import numpy as np


def _chunk_metrics(
    dist: np.ndarray, q_pids: np.ndarray, g_pids: np.ndarray, q_camids: np.ndarray, g_camids: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AP, INP and 0-based first-match rank of every valid query in a block of rows."""
    same_pid = q_pids[:, None] == g_pids[None, :]
    removed = same_pid & (q_camids[:, None] == g_camids[None, :])
    match_rows, match_cols = np.nonzero(same_pid & ~removed)  # row-major: grouped by query
    values = dist[match_rows, match_cols]
    kept_sorted = np.where(removed, np.inf, dist)  # removed items sort last and are never "closer"
    kept_sorted.sort(axis=1)
    closer = _count_before(kept_sorted, match_rows, values, strict=True)
    ties = np.flatnonzero(_count_before(kept_sorted, match_rows, values, strict=False) - closer > 1)
    for i in ties:  # rare: another kept item has exactly this distance; order those by gallery index
        r, c = match_rows[i], match_cols[i]
        closer[i] += np.count_nonzero((dist[r, :c] == values[i]) & ~removed[r, :c])
    ranks = closer + 1  # 1-based rank of each true match among the kept items
    order = np.lexsort((ranks, match_rows))
    match_rows, ranks = match_rows[order], ranks[order]
    counts = np.bincount(match_rows, minlength=dist.shape[0])
    valid = counts > 0
    starts = np.cumsum(counts) - counts
    hit_number = np.arange(len(ranks)) - np.repeat(starts, counts) + 1
    ap = np.bincount(match_rows, weights=hit_number / ranks, minlength=dist.shape[0])[valid] / counts[valid]
    last = ranks[starts[valid] + counts[valid] - 1]
    inp = counts[valid] / last
    return ap, inp, ranks[starts[valid]] - 1


def _count_before(sorted_rows: np.ndarray, rows: np.ndarray, values: np.ndarray, *, strict: bool) -> np.ndarray:
    """For each (row, value): how many entries of that sorted row are < value (<= when not strict).

    A binary search run for all pairs at once: log2(width) vectorised steps instead of one
    ``np.searchsorted`` call per query.
    """
    width = sorted_rows.shape[1]
    flat = sorted_rows.ravel()
    base = rows.astype(np.int64) * width
    lo = np.zeros(len(values), np.int64)
    hi = np.full(len(values), width, np.int64)
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        probe = flat[base + np.minimum(mid, width - 1)]
        right = (probe < values) if strict else (probe <= values)
        lo = np.where(active & right, mid + 1, lo)
        hi = np.where(active & ~right, mid, hi)
