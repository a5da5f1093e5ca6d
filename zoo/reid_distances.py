"""Query x gallery distances between L2-normalised features (moved from zoo.reid)."""

from __future__ import annotations

import numpy as np

_L2_EPSILON = 1e-12  # tf.math.l2_normalize's floor on the squared norm, so all-zero features stay finite

DISTANCES = ("cosine", "euclidean")


def l2_normalize(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, as ``tf.math.l2_normalize`` does (the reference pipeline's step)."""
    features = np.asarray(features, np.float32)
    squared = np.sum(features * features, axis=1, keepdims=True)
    return features / np.sqrt(np.maximum(squared, _L2_EPSILON))


def pairwise_distance(query: np.ndarray, gallery: np.ndarray, metric: str = "cosine") -> np.ndarray:
    """Query x gallery distances between L2-normalised features, with one matrix product.

    ``cosine`` is ``1 - q.g`` clipped to [0, 2]; ``euclidean`` is ``|q - g|`` = ``sqrt(2 - 2 q.g)`` for
    unit vectors, computed from the norms so rounding cannot make it negative. Both follow the
    reference pipeline's float32 arithmetic.
    """
    if metric not in DISTANCES:
        raise ValueError(f"unknown distance {metric!r} (choose from {', '.join(DISTANCES)})")
    q, g = l2_normalize(query), l2_normalize(gallery)
    inner = q @ g.T
    if metric == "cosine":
        return np.clip(1.0 - inner, 0.0, 2.0)
    squared = np.sum(q * q, axis=1)[:, None] - 2.0 * inner + np.sum(g * g, axis=1)[None, :]
    return np.sqrt(np.maximum(squared, 0.0))
