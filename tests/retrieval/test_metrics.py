from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from xlr.retrieval.metrics import (
    average_precision,
    metric_names,
    per_query,
    recall_at_k,
    reciprocal_rank,
    summarize,
)

ranks_st = st.lists(st.integers(1, 50), min_size=1, max_size=60).map(np.array)


def test_known_values():
    r = np.array([1, 2, 3, 10])
    assert recall_at_k(r, 1) == 0.25
    assert recall_at_k(r, 3) == 0.75
    assert reciprocal_rank(r) == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 10) / 4)
    assert summarize(r, [5, 1]) == {
        "recall@1": 0.25,
        "recall@5": 0.75,
        "mrr": pytest.approx(0.4833333),
    }
    assert metric_names([10, 1, 1]) == ["recall@1", "recall@10", "mrr"]


def test_average_precision():
    # relevant at ranks 1 and 3: AP = (1/1 + 2/3) / 2
    ap = average_precision([np.array([3, 1]), np.array([2]), np.array([30])], n=20)
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 2, 0.5, 0.0])


@pytest.mark.parametrize(
    "ranks, match",
    [
        (np.array([]), "empty"),
        (np.array([0, 1]), "1-based"),
        (np.array([1.5]), "integer ranks"),
    ],
)
def test_validation(ranks, match):
    with pytest.raises(ValueError, match=match):
        recall_at_k(ranks, 1)


def test_unknown_metric():
    with pytest.raises(ValueError, match="unknown metric 'ndcg'"):
        per_query(np.array([1]), "ndcg")


@given(ranks_st, st.integers(1, 60), st.integers(1, 60))
def test_recall_in_unit_interval_and_monotone_in_k(ranks, k1, k2):
    lo, hi = sorted((k1, k2))
    a, b = recall_at_k(ranks, lo), recall_at_k(ranks, hi)
    assert 0.0 <= a <= b <= 1.0
    assert 0.0 < reciprocal_rank(ranks) <= 1.0


@given(ranks_st, st.randoms())
def test_invariant_to_query_order(ranks, rnd):
    shuffled = ranks.copy()
    rnd.shuffle(shuffled)
    assert summarize(ranks, [1, 5, 10]) == pytest.approx(summarize(shuffled, [1, 5, 10]))


def test_relevant_documents_tied_with_each_other_do_not_penalise_each_other():
    """Bug: two relevant documents tied at the top got pessimistic ranks [2, 2] and AP 0.75."""
    np.testing.assert_allclose(average_precision([np.array([2, 2])], n=10), [1.0])
    # tied with each other and with one irrelevant document: positions 2 and 3
    np.testing.assert_allclose(average_precision([np.array([3, 3])], n=10), [(1 / 2 + 2 / 3) / 2])
    assert per_query(np.array([2]), "mrr", [np.array([2, 2])]).tolist() == [1.0]


def test_success_and_recall_differ_when_a_query_has_several_relevant_documents():
    """Bug: recall@k was success@k (some relevant document in the top k) for several relevant documents."""
    rel = [np.array([1, 50]), np.array([3, 4, 20, 30])]
    ranks = np.array([1, 3])
    np.testing.assert_allclose(per_query(ranks, "recall@10", rel), [0.5, 0.5])
    np.testing.assert_allclose(per_query(ranks, "success@10", rel), [1.0, 1.0])
    np.testing.assert_allclose(per_query(ranks, "success@2", rel), [1.0, 0.0])
    # one relevant document: the two agree (and the published recall@k figures stay)
    one = np.array([1, 3, 12])
    for k in (1, 5, 10):
        np.testing.assert_array_equal(per_query(one, f"recall@{k}"), per_query(one, f"success@{k}"))
