"""Ranks of the true matches in a block of distance rows: the step every re-ID protocol shares.

A true match's rank is 1 + the number of kept gallery items closer than it, ties going to the smaller
gallery index (the order of a stable argsort: numpy's ``kind="stable"``, ``tf.argsort``). So no row is
argsorted: only the items that can be closer than a match (those no farther than the row's farthest
match) are sorted, by value only (numpy's SIMD sort, several times faster than argsort), and the few
matches of every query are located among them by one binary search run for all of them at once.
Matches and removed items come from a gallery index by person id, so no query x gallery boolean matrix
of ids is ever built.
"""

from __future__ import annotations

import numpy as np


class GalleryIndex:
    """Gallery positions grouped by person id (gallery order within an id).

    >>> index = GalleryIndex(np.array([7, 3, 7, 5]))
    >>> rows, cols = index.pairs(np.array([7, 9, 3]))
    >>> rows.tolist(), cols.tolist()
    ([0, 0, 2], [0, 2, 1])
    """

    def __init__(self, g_pids: np.ndarray) -> None:
        self.order = np.argsort(g_pids, kind="stable")
        self.pids, self.starts, self.counts = np.unique(g_pids[self.order], return_index=True, return_counts=True)

    def pairs(self, q_pids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query row, gallery column) of every pair sharing a person id, grouped by query row."""
        if len(self.pids) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        pos = np.minimum(np.searchsorted(self.pids, q_pids), len(self.pids) - 1)
        counts = np.where(self.pids[pos] == q_pids, self.counts[pos], 0)
        rows = np.repeat(np.arange(len(q_pids)), counts)
        within = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
        return rows, self.order[np.repeat(self.starts[pos], counts) + within]


def match_ranks(
    dist: np.ndarray, rows: np.ndarray, cols: np.ndarray, removed_rows: np.ndarray, removed_cols: np.ndarray
) -> np.ndarray:
    """1-based rank of each true match ``dist[rows, cols]`` among the items of its row not removed.

    Removed items (``removed_rows``, ``removed_cols``) neither count as closer nor break ties. Only the
    items no farther than a row's farthest match can be closer than one of its matches: a row with few
    of them (a good model's rows) has just those sorted, the others are sorted whole.
    """
    values = dist[rows, cols]
    closer = np.zeros(len(rows), np.int64)
    if len(rows) == 0:
        return closer + 1
    limit = np.full(dist.shape[0], -np.inf, dist.dtype)
    np.maximum.at(limit, rows, values)
    candidate = dist <= limit[:, None]
    candidate[removed_rows, removed_cols] = False
    per_row = np.add.reduce(candidate.view(np.uint8), axis=1, dtype=np.int64)
    dense = per_row > dist.shape[1] // _DENSE_SHARE
    at_most = closer.copy()
    tables = (_sparse_table(dist, candidate, per_row, dense), _dense_table(dist, dense, removed_rows, removed_cols))
    for table, table_rows, of_table in tables:
        picked = of_table[rows]
        closer[picked] = _count_before(table, table_rows[rows[picked]], values[picked], strict=True)
        at_most[picked] = _count_before(table, table_rows[rows[picked]], values[picked], strict=False)
    for i in np.flatnonzero(at_most - closer > 1):  # rare: another item has exactly this distance: by index
        r, c = rows[i], cols[i]
        equal = dist[r, :c] == values[i]
        equal[removed_cols[(removed_rows == r) & (removed_cols < c)]] = False
        closer[i] += np.count_nonzero(equal)
    return closer + 1


_DENSE_SHARE = 8  # a row with more than 1/8 of its items as candidates is cheaper to sort whole


def _sparse_table(
    dist: np.ndarray, candidate: np.ndarray, per_row: np.ndarray, dense: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted candidate values of the rows not ``dense``, one padded (+inf) row each; row map; rows held."""
    candidate[dense] = False
    counts = np.where(dense, 0, per_row)
    flat = np.flatnonzero(candidate)
    where = flat // dist.shape[1]
    table = np.full((dist.shape[0], max(1, int(counts.max(initial=0)))), np.inf, dist.dtype)
    table[where, np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)] = dist.ravel()[flat]
    table.sort(axis=1)
    return table, np.arange(dist.shape[0]), ~dense


def _dense_table(
    dist: np.ndarray, dense: np.ndarray, removed_rows: np.ndarray, removed_cols: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``dense`` rows sorted whole, removed items set to +inf (last, never closer); row map; rows held."""
    local = np.cumsum(dense) - 1
    table = dist[dense]
    keep = dense[removed_rows]
    table[local[removed_rows[keep]], removed_cols[keep]] = np.inf
    table.sort(axis=1)
    return table, local, dense


def per_query(rows: np.ndarray, ranks: np.ndarray, num_rows: int) -> tuple[np.ndarray, ...]:
    """``(has_match, AP, first rank, last rank, number of matches)`` of the queries that have a match.

    AP is the mean over the matches of ``matches so far / rank``, summed in rank order for every
    query, so a query's AP does not depend on how the queries were cut into blocks.
    """
    order = np.lexsort((ranks, rows))
    rows, ranks = rows[order], ranks[order]
    counts = np.bincount(rows, minlength=num_rows)
    has_match = counts > 0
    starts = np.cumsum(counts) - counts
    hit_number = np.arange(len(ranks)) - np.repeat(starts, counts) + 1
    ap = np.bincount(rows, weights=hit_number / ranks, minlength=num_rows)[has_match] / counts[has_match]
    first = ranks[starts[has_match]]
    last = ranks[starts[has_match] + counts[has_match] - 1]
    return has_match, ap, first, last, counts[has_match]


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
