"""Metrics: hand-checkable cases, then random problems against a plain per-query loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from zoo.reid.metrics import evaluate_features, evaluate_rank, pairwise_distance


def assert_same(a, b):
    """Every figure equal to the last bit (NaN equal to NaN)."""
    assert (a.protocol, a.num_valid_queries, a.num_skipped_queries) == (b.protocol, b.num_valid_queries, b.num_skipped_queries)
    np.testing.assert_array_equal([a.mAP, a.mINP], [b.mAP, b.mINP])
    np.testing.assert_array_equal(a.cmc, b.cmc)


def one_query(distances, g_pids, g_cams, q_pid=1, q_cam=0, max_rank=50):
    return evaluate_rank(np.array([distances], float), [q_pid], g_pids, [q_cam], g_cams, max_rank=max_rank)


def test_single_query_by_hand():
    # ranking by distance: match (0.1), non-match (0.2), match (0.3), non-match (0.4)
    r = one_query([0.1, 0.3, 0.2, 0.4], g_pids=[1, 1, 2, 3], g_cams=[1, 1, 1, 1])
    assert r.mAP == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert r.cmc.tolist() == [1.0, 1.0, 1.0, 1.0]  # cut at the gallery size, like the peers
    assert r.mINP == pytest.approx(2 / 3)  # 2 matches, the last one at rank 3
    assert (r.num_valid_queries, r.num_skipped_queries) == (1, 0)


def test_first_match_late_gives_cmc_step():
    r = one_query([0.5, 0.1, 0.2], g_pids=[1, 2, 3], g_cams=[1, 1, 1])
    assert r.cmc.tolist() == [0.0, 0.0, 1.0]
    assert r.mAP == pytest.approx(1 / 3) and r.mINP == pytest.approx(1 / 3)


def test_same_pid_same_camera_is_removed_not_counted():
    # the closest item is the query's identity seen by the query's own camera: it must vanish from
    # the ranking, so the other-camera match is rank 1 (not rank 2 and not a hit at rank 1 by itself)
    r = one_query([0.0, 0.5, 0.3], g_pids=[1, 1, 2], g_cams=[0, 1, 1])
    assert r.cmc[0] == 0.0 and r.cmc[1] == 1.0  # kept ranking: pid 2 (0.3), then the match (0.5)
    assert r.mAP == pytest.approx(1 / 2)
    # a different camera for the same identity is a real match
    assert one_query([0.0, 0.5, 0.3], g_pids=[1, 1, 2], g_cams=[2, 1, 1]).cmc[0] == 1.0


def test_same_camera_other_identity_is_kept():
    r = one_query([0.1, 0.2], g_pids=[2, 1], g_cams=[0, 1])  # pid 2 seen by the query's camera stays
    assert r.cmc.tolist() == [0.0, 1.0]


def test_queries_without_a_valid_match_are_skipped_and_counted():
    dist = np.array([[0.1, 0.2], [0.3, 0.4], [0.2, 0.1]])
    # query 0 matches gallery 0; query 1 (pid 5) is absent; query 2's only match shares its camera
    r = evaluate_rank(dist, [1, 5, 2], [1, 2], [0, 0, 1], [1, 1])
    assert (r.num_valid_queries, r.num_skipped_queries) == (1, 2)
    assert r.mAP == 1.0


def test_no_valid_query_gives_nan_not_an_exception():
    r = evaluate_rank(np.zeros((1, 2)), [9], [1, 2], [0], [1, 1])
    assert r.num_valid_queries == 0 and r.num_skipped_queries == 1 and np.isnan(r.mAP)


def test_ties_are_broken_by_gallery_index():
    # match and non-match at the same distance: the smaller gallery index ranks first
    match_first = one_query([0.2, 0.2], g_pids=[1, 2], g_cams=[1, 1])
    match_second = one_query([0.2, 0.2], g_pids=[2, 1], g_cams=[1, 1])
    assert match_first.mAP == 1.0 and match_first.cmc[0] == 1.0
    assert match_second.mAP == 0.5 and match_second.cmc[0] == 0.0
    # a removed item tied with the match does not push it down
    assert one_query([0.2, 0.2], g_pids=[1, 1], g_cams=[0, 1]).mAP == 1.0


def test_integer_distances_rank_like_floats():
    dist = np.array([[3, 1, 2, 1]])
    as_int = evaluate_rank(dist, [1], [1, 1, 2, 1], [0], [1, 1, 1, 0])
    assert_same(as_int, evaluate_rank(dist.astype(float), [1], [1, 1, 2, 1], [0], [1, 1, 1, 0]))
    assert as_int.mAP == pytest.approx((1 / 1 + 2 / 3) / 2)  # the same-camera match (index 3) is removed


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="shape"):
        evaluate_rank(np.zeros((2, 3)), [1], [1, 2, 3], [0], [1, 1, 1])
    with pytest.raises(ValueError, match="NaN"):
        evaluate_rank(np.array([[np.nan, 1.0]]), [1], [1, 2], [0], [1, 1])


def loop_reference(distmat, q_pids, g_pids, q_cams, g_cams, max_rank):
    """The protocol written the obvious way: stable argsort per query, then the torchreid steps."""
    max_rank = min(max_rank, distmat.shape[1])
    aps, inps, cmcs = [], [], []
    for i in range(distmat.shape[0]):
        order = np.argsort(distmat[i], kind="stable")
        keep = ~((g_pids[order] == q_pids[i]) & (g_cams[order] == q_cams[i]))
        hits = (g_pids[order] == q_pids[i])[keep]
        if not hits.any():
            continue
        found = np.cumsum(hits)
        positions = np.flatnonzero(hits)
        aps.append(np.mean(found[positions] / (positions + 1)))
        inps.append(found[-1] / (positions[-1] + 1))
        cmc = np.ones(max_rank)
        cmc[: positions[0]] = 0
        cmcs.append(cmc)
    return aps, inps, cmcs


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 12), st.integers(1, 30), st.integers(1, 6), st.integers(1, 3),
    st.booleans(), st.integers(1, 20), st.integers(0, 2**32 - 1),
)
def test_matches_a_plain_loop(num_q, num_g, num_ids, num_cams, coarse, max_rank, seed):
    rng = np.random.default_rng(seed)
    # coarse distances (a few levels) force many ties; fine ones are nearly tie-free
    dist = rng.integers(0, 4, (num_q, num_g)).astype(np.float32) if coarse else rng.random((num_q, num_g))
    ids = [rng.integers(0, k, n) for k, n in ((num_ids, num_q), (num_ids, num_g), (num_cams, num_q), (num_cams, num_g))]
    r = evaluate_rank(dist, *ids, max_rank=max_rank)
    aps, inps, cmcs = loop_reference(dist, *ids, max_rank)
    assert r.num_valid_queries == len(aps) and r.num_skipped_queries == num_q - len(aps)
    if aps:
        assert r.mAP == pytest.approx(np.mean(aps), abs=1e-12)
        assert r.mINP == pytest.approx(np.mean(inps), abs=1e-12)
        np.testing.assert_allclose(r.cmc, np.mean(cmcs, axis=0), atol=1e-12)


@pytest.mark.parametrize("workers", [1, 3])
def test_many_queries_span_blocks(workers):
    rng = np.random.default_rng(7)
    dist = rng.random((40, 25))
    ids = (rng.integers(0, 5, 40), rng.integers(0, 5, 25), rng.integers(0, 2, 40), rng.integers(0, 2, 25))
    whole = evaluate_rank(dist, *ids)
    blocked = evaluate_rank(dist, *ids, workers=workers, block_rows=2)
    assert_same(blocked, whole)  # exact sums: not even the last bit depends on the blocks


def test_distances_on_normalised_features():
    q = np.array([[3.0, 0.0], [0.0, 2.0]])
    g = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -5.0]])
    cos = pairwise_distance(q, g, "cosine")
    np.testing.assert_allclose(cos, [[0, 1 - 2**-0.5, 1], [1, 1 - 2**-0.5, 2]], atol=1e-6)
    euc = pairwise_distance(q, g, "euclidean")
    np.testing.assert_allclose(euc, np.sqrt(2 * cos), atol=1e-6)  # |a-b|^2 = 2 - 2 cos for unit vectors
    with pytest.raises(ValueError, match="unknown distance"):
        pairwise_distance(q, g, "manhattan")


# --- streaming from features: the same figures as the full matrix, whatever the blocks and threads ---

def random_features(rng, num, dim, coarse, copies_from=None):
    """Float features, or small integers (like a quantized model's raw outputs: many exact ties),
    with some rows copied from ``copies_from`` so that equal distances are certain."""
    feats = rng.integers(-2, 3, (num, dim)).astype(np.float32) if coarse else rng.normal(size=(num, dim))
    if copies_from is not None and num and len(copies_from):
        picked = rng.random(num) < 0.3
        feats[picked] = copies_from[rng.integers(0, len(copies_from), picked.sum())]
    return feats


@settings(max_examples=120, deadline=None)
@given(
    st.integers(0, 12), st.integers(1, 30), st.integers(1, 8), st.integers(1, 6), st.integers(1, 3),
    st.booleans(), st.sampled_from(["cosine", "euclidean"]), st.sampled_from(["market1501", "st-modelzoo"]),
    st.integers(1, 5), st.integers(1, 3), st.integers(0, 2**32 - 1),
)
def test_features_stream_equals_the_full_matrix(
    num_q, num_g, dim, num_ids, num_cams, coarse, metric, protocol, block, workers, seed
):
    rng = np.random.default_rng(seed)
    g = random_features(rng, num_g, dim, coarse)
    q = random_features(rng, num_q, dim, coarse, copies_from=g)
    g[rng.random(num_g) < 0.2] = 0.0  # all-zero features: distance 1 (cosine) to everything
    ids = (rng.integers(0, num_ids, num_q), rng.integers(0, num_ids, num_g),
           rng.integers(0, num_cams, num_q), rng.integers(0, num_cams, num_g))
    epsilon = 1e-12 if protocol == "st-modelzoo" else 0.0
    full = evaluate_rank(pairwise_distance(q, g, metric, sqrt_epsilon=epsilon), *ids, protocol=protocol)
    streamed = evaluate_features(q, g, *ids, metric=metric, protocol=protocol, workers=workers, block_rows=block)
    assert_same(streamed, full)


def test_streaming_across_chunks_and_threads_equals_the_full_matrix():
    # more queries than a product chunk (64 rows), blocks not aligned on chunks, several threads
    rng = np.random.default_rng(3)
    g = random_features(rng, 300, 32, coarse=True)
    q = random_features(rng, 150, 32, coarse=True, copies_from=g)
    ids = (rng.integers(0, 25, 150), rng.integers(0, 25, 300), rng.integers(0, 3, 150), rng.integers(0, 3, 300))
    for metric in ("cosine", "euclidean"):
        full = evaluate_rank(pairwise_distance(q, g, metric), *ids)
        for block_rows in (None, 1, 37, 64):
            assert_same(evaluate_features(q, g, *ids, metric=metric, workers=2, block_rows=block_rows), full)


# --- st-modelzoo: the ST services' figures ---

def st_loop_reference(distmat, q_pids, g_pids):
    """The services' metrics.py written again in numpy: stable argsort, no cameras, rank-k over all queries."""
    order = np.argsort(distmat, axis=1, kind="stable")
    matches = g_pids[order] == q_pids[:, None]
    ks = range(1, min(100, distmat.shape[1] // 2) + 1)
    rank_k = [np.mean(matches[:, :k].any(axis=1)) for k in ks]
    relevant = matches.sum(axis=1)
    precision = np.cumsum(matches, axis=1) / np.arange(1, distmat.shape[1] + 1)
    ap = (precision * matches).sum(axis=1)[relevant > 0] / relevant[relevant > 0]
    return rank_k, (ap.mean() if len(ap) else np.nan), int((relevant > 0).sum())


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 12), st.integers(1, 40), st.integers(1, 8), st.booleans(), st.integers(0, 2**32 - 1))
def test_st_protocol_matches_a_plain_loop(num_q, num_g, num_ids, coarse, seed):
    rng = np.random.default_rng(seed)
    dist = rng.integers(0, 4, (num_q, num_g)).astype(np.float32) if coarse else rng.random((num_q, num_g))
    q_pids, g_pids = rng.integers(0, num_ids, num_q), rng.integers(0, num_ids + 2, num_g)  # some never match
    r = evaluate_rank(dist, q_pids, g_pids, None, None, protocol="st-modelzoo")
    rank_k, mAP, num_valid = st_loop_reference(dist, q_pids, g_pids)
    assert (r.num_valid_queries, r.num_skipped_queries) == (num_valid, num_q - num_valid)
    np.testing.assert_allclose(r.cmc, rank_k, atol=1e-12)
    np.testing.assert_allclose(r.mAP, mAP, atol=1e-12)
    assert np.isnan(r.mINP)


def test_st_protocol_by_hand():
    # no camera removal: the same-camera match at 0.0 counts; the query with no match is a miss in rank-k
    dist = np.array([[0.0, 0.5, 0.3, 0.9], [0.1, 0.2, 0.3, 0.4]])
    r = evaluate_rank(dist, [1, 7], [1, 1, 2, 3], [0, 0], [0, 1, 1, 1], protocol="st-modelzoo")
    assert r.cmc.tolist() == [0.5, 0.5]  # k = 1 .. 4 // 2; query 7 has no match: counted, never a hit
    assert r.mAP == pytest.approx((1 + 2 / 3) / 2) and (r.num_valid_queries, r.num_skipped_queries) == (1, 1)
    assert r.percent() == {"mAP": 83.33, "cmc": [50.0, 50.0], "mINP": pytest.approx(float("nan"), nan_ok=True)}
    # ties go to the smaller gallery index, as tf.argsort orders them
    assert evaluate_rank([[0.2, 0.2]], [1], [2, 1], None, None, protocol="st-modelzoo").mAP == 0.5


def test_unknown_protocol_and_missing_cameras_are_refused():
    with pytest.raises(ValueError, match="unknown evaluation protocol 'cuhk'"):
        evaluate_rank(np.zeros((1, 2)), [1], [1, 2], [0], [1, 1], protocol="cuhk")
    with pytest.raises(ValueError, match="needs camera ids"):
        evaluate_features(np.ones((1, 2)), np.ones((2, 2)), [1], [1, 2], None, None)
    with pytest.raises(ValueError, match="NaN or infinity"):
        evaluate_features(np.array([[np.nan, 1.0]]), np.ones((2, 2)), [1], [1, 2], [0], [1, 1])


# --- st-modelzoo against an independent TensorFlow implementation of the services' metrics ---

@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


def st_tensorflow_distances(tf, q_feats, g_feats, metric):
    """The services' distances in TensorFlow ops: float32, tf.math.l2_normalize, 1 - q.g clipped, or
    their euclidean with 1e-12 under the root."""
    q = tf.math.l2_normalize(tf.cast(q_feats, tf.float32), axis=1)
    g = tf.math.l2_normalize(tf.cast(g_feats, tf.float32), axis=1)
    inner = tf.matmul(q, g, transpose_b=True)
    if metric == "cosine":
        return tf.clip_by_value(1.0 - inner, 0.0, 2.0).numpy()
    squared = (tf.reduce_sum(q * q, axis=1, keepdims=True) - 2.0 * inner
               + tf.transpose(tf.reduce_sum(g * g, axis=1, keepdims=True)))
    return tf.sqrt(tf.maximum(squared, 0.0) + 1e-12).numpy()


def st_tensorflow_figures(tf, dist, q_labels, g_labels):
    """The services' figures in TensorFlow ops: tf.argsort, rank-k over all queries, float32 means,
    Python's round of the float32 figures in %. Returns (rank-k list, mAP, unrounded mAP)."""
    g_labels = np.where(np.isin(g_labels, q_labels), g_labels, -1)  # identities outside the query set
    ranked = tf.gather(tf.constant(g_labels), tf.argsort(tf.constant(dist), axis=1, direction="ASCENDING"))
    hits = tf.equal(ranked, tf.constant(q_labels)[:, None])
    rank_k = [round(tf.reduce_mean(tf.cast(tf.reduce_any(hits[:, :k], axis=1), tf.float32)).numpy() * 100, 2)
              for k in range(1, min(100, len(g_labels) // 2) + 1)]
    relevant = tf.reduce_sum(tf.cast(hits, tf.float32), axis=1)
    found = tf.cumsum(tf.cast(hits, tf.float32), axis=1)
    precision = found / tf.range(1, len(g_labels) + 1, dtype=tf.float32)
    per_query = tf.reduce_sum(tf.where(hits, precision, 0.0), axis=1)
    with_match = relevant > 0
    mAP = tf.reduce_mean(tf.boolean_mask(per_query, with_match) / tf.boolean_mask(relevant, with_match)).numpy()
    return rank_k, round(mAP * 100, 2), float(mAP)


def assert_st_figures_equal(ours, tf_figures):
    rank_k, mAP, exact_mAP = tf_figures
    figures = ours.percent()
    assert figures["cmc"] == rank_k
    if np.isnan(exact_mAP):
        assert np.isnan(figures["mAP"])
        return
    assert ours.mAP == pytest.approx(exact_mAP, abs=1e-6)  # TensorFlow sums in float32
    near_a_rounding_edge = abs((exact_mAP * 1e4) % 1 - 0.5) < 1e-2
    assert figures["mAP"] == mAP or near_a_rounding_edge


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 20), st.integers(1, 60), st.integers(1, 10), st.integers(1, 5), st.integers(0, 2**32 - 1))
def test_st_ranking_and_figures_equal_tensorflow(tf, num_q, num_g, num_ids, levels, seed):
    # the same distances in both, with few distinct values: many exact ties, ordered as tf.argsort does
    rng = np.random.default_rng(seed)
    dist = rng.integers(0, levels, (num_q, num_g)).astype(np.float32) / levels
    q_labels, g_labels = rng.integers(0, num_ids, num_q), rng.integers(0, num_ids + 3, num_g)
    ours = evaluate_rank(dist, q_labels, g_labels, None, None, protocol="st-modelzoo")
    assert_st_figures_equal(ours, st_tensorflow_figures(tf, dist, q_labels, g_labels))


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 20), st.integers(1, 60), st.integers(8, 64), st.integers(1, 10), st.booleans(),
    st.sampled_from(["cosine", "euclidean"]), st.integers(0, 2**32 - 1),
)
def test_st_protocol_from_features_equals_tensorflow(tf, num_q, num_g, dim, num_ids, quantized, metric, seed):
    """From features: float ones, or an int8 model's raw outputs (what the services rank on the host).

    Distances agree to a few float32 steps, not to the bit: the matrix products sum in different
    orders (TensorFlow's even rounds two copies of one gallery row differently, by their position),
    and TensorFlow's rsqrt is approximate. Items whose distances lie that close may swap, in the
    services' own runs too, so the features here have no such near-ties; exact ties are proven above.
    """
    rng = np.random.default_rng(seed)
    if quantized:
        q, g = (rng.integers(-128, 128, (n, dim)).astype(np.int8) for n in (num_q, num_g))
    else:
        q, g = rng.normal(size=(num_q, dim)), rng.normal(size=(num_g, dim))
    q_labels, g_labels = rng.integers(0, num_ids, num_q), rng.integers(0, num_ids + 3, num_g)
    tf_dist = st_tensorflow_distances(tf, q, g, metric)
    ours_dist = pairwise_distance(q, g, metric, sqrt_epsilon=1e-12)
    np.testing.assert_allclose(ours_dist, tf_dist, rtol=0, atol=4e-7)
    gaps = np.diff(np.sort(tf_dist, axis=1), axis=1)
    assume(not gaps.size or gaps.min() > 1e-6)
    ours = evaluate_features(q, g, q_labels, g_labels, None, None, metric=metric, protocol="st-modelzoo")
    assert_st_figures_equal(ours, st_tensorflow_figures(tf, tf_dist, q_labels, g_labels))


def test_streaming_never_holds_the_query_by_gallery_matrix():
    import tracemalloc

    rng = np.random.default_rng(5)
    num_q, num_g, dim = 1500, 40000, 16
    centres = rng.standard_normal((300, dim), dtype=np.float32)
    q_pids, g_pids = rng.integers(0, 300, num_q), rng.integers(0, 300, num_g)
    q = centres[q_pids] + rng.standard_normal((num_q, dim), dtype=np.float32)
    g = centres[g_pids] + rng.standard_normal((num_g, dim), dtype=np.float32)
    cams = rng.integers(0, 4, num_q), rng.integers(0, 4, num_g)
    tracemalloc.start()
    try:
        result = evaluate_features(q, g, q_pids, g_pids, *cams, workers=2)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.num_valid_queries > 0
    assert peak < num_q * num_g * 4 / 2  # the float32 matrix alone would take 240 MB
