"""Query x gallery distances between L2-normalised features, the same bits however the queries are cut.

A BLAS matrix product does not round a row the same way in every call: the result depends on the row's
place in the block, the block's height and the number of BLAS threads. So the products are always taken
over chunks of ``CHUNK_ROWS`` queries aligned on the query index, zero-padded, with one BLAS thread
(parallelism comes from the callers' threads): a query's distances then depend only on its features, its
index modulo ``CHUNK_ROWS`` and the gallery, and streaming gives the bits of the whole matrix.
"""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

CHUNK_ROWS = 64

_L2_EPSILON = 1e-12  # tf.math.l2_normalize's floor on the squared norm, so all-zero features stay finite

DISTANCES = ("cosine", "euclidean")


def l2_normalize(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as ``tf.math.l2_normalize`` does (the reference pipeline's step)."""
    features = np.asarray(features, np.float32)
    squared = np.sum(features * features, axis=1, keepdims=True)
    return features / np.sqrt(np.maximum(squared, _L2_EPSILON))


def pairwise_distance(
    query: np.ndarray, gallery: np.ndarray, metric: str = "cosine", *, sqrt_epsilon: float = 0.0
) -> np.ndarray:
    """Query x gallery distances between L2-normalised features, with one matrix product.

    ``cosine`` is ``1 - q.g`` clipped to [0, 2]; ``euclidean`` is ``|q - g|`` = ``sqrt(2 - 2 q.g)`` for
    unit vectors, computed from the norms so rounding cannot make it negative (``sqrt_epsilon`` is added
    under the root, as the ST services do). Both follow the reference pipeline's float32 arithmetic.
    """
    check_metric(metric)
    q, g = l2_normalize(query), l2_normalize(gallery)
    with one_blas_thread():
        return normalized_distance(q, 0, len(q), g, metric, sqrt_epsilon=sqrt_epsilon)


def one_blas_thread() -> threadpool_limits:
    """A context with one BLAS thread for the whole process, so products round the same in every call."""
    return threadpool_limits(1, user_api="blas")


def check_metric(metric: str) -> None:
    """Refuse an unknown distance name before any work is done."""
    if metric not in DISTANCES:
        raise ValueError(f"unknown distance {metric!r} (choose from {', '.join(DISTANCES)})")


def normalized_distance(
    q: np.ndarray, start: int, stop: int, g: np.ndarray, metric: str, *,
    sqrt_epsilon: float = 0.0, g_squared: np.ndarray | None = None,
) -> np.ndarray:
    """Distances of the L2-normalised queries ``q[start:stop]`` to all of ``g`` (call under ``one_blas_thread``).

    ``g_squared`` (``sum(g * g, axis=1)``) can be passed so that blocks of queries do not recompute it.
    """
    q = q[start:stop]
    inner = _chunked_inner(q, start, g)
    if metric == "cosine":
        np.subtract(np.float32(1.0), inner, out=inner)
        return np.clip(inner, 0.0, 2.0, out=inner)
    if g_squared is None:
        g_squared = np.sum(g * g, axis=1)
    squared = np.sum(q * q, axis=1)[:, None] - 2.0 * inner + g_squared[None, :]
    np.maximum(squared, 0.0, out=squared)
    if sqrt_epsilon:
        squared += np.float32(sqrt_epsilon)
    return np.sqrt(squared, out=squared)


def _chunked_inner(q: np.ndarray, start: int, g: np.ndarray) -> np.ndarray:
    """``q @ g.T`` computed over zero-padded chunks of ``CHUNK_ROWS`` rows aligned on ``start``'s index."""
    inner = np.empty((len(q), len(g)), np.float32)
    first = start - start % CHUNK_ROWS
    for chunk in range(first, start + len(q), CHUNK_ROWS):
        lo, hi = max(chunk, start), min(chunk + CHUNK_ROWS, start + len(q))
        if (lo, hi) == (chunk, chunk + CHUNK_ROWS):
            inner[lo - start : hi - start] = q[lo - start : hi - start] @ g.T
        else:
            padded = np.zeros((CHUNK_ROWS, q.shape[1]), np.float32)
            padded[lo - chunk : hi - chunk] = q[lo - start : hi - start]
            inner[lo - start : hi - start] = (padded @ g.T)[lo - chunk : hi - chunk]
    return inner
