"""Metrics: hand-checkable cases, then random problems against a plain per-query loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zoo.reid import evaluate_rank, pairwise_distance


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


def test_many_queries_span_chunks(monkeypatch):
    import zoo.reid

    rng = np.random.default_rng(7)
    dist = rng.random((40, 25))
    ids = (rng.integers(0, 5, 40), rng.integers(0, 5, 25), rng.integers(0, 2, 40), rng.integers(0, 2, 25))
    whole = evaluate_rank(dist, *ids)
    monkeypatch.setattr(zoo.reid, "_CHUNK_ELEMENTS", 60)  # 2 rows per chunk
    chunked = evaluate_rank(dist, *ids)
    assert chunked.mAP == pytest.approx(whole.mAP) and np.array_equal(chunked.cmc, whole.cmc)


def test_distances_on_normalised_features():
    q = np.array([[3.0, 0.0], [0.0, 2.0]])
    g = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, -5.0]])
    cos = pairwise_distance(q, g, "cosine")
    np.testing.assert_allclose(cos, [[0, 1 - 2**-0.5, 1], [1, 1 - 2**-0.5, 2]], atol=1e-6)
    euc = pairwise_distance(q, g, "euclidean")
    np.testing.assert_allclose(euc, np.sqrt(2 * cos), atol=1e-6)  # |a-b|^2 = 2 - 2 cos for unit vectors
    with pytest.raises(ValueError, match="unknown distance"):
        pairwise_distance(q, g, "manhattan")
