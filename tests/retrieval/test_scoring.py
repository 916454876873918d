from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlr.retrieval.ranks import gold_ranks
from xlr.retrieval.scoring import Scorer, ScoringSpec


def unit(rng, n, d):
    x = rng.standard_normal((n, d)).astype(np.float64)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def naive_scores(q, p, ref, method, k):
    """Formulas from DESIGN.md written out with full sorts."""
    cos = q @ p.T
    r_t = np.array([np.sort(row)[::-1][: min(k, p.shape[0])].mean() for row in cos])
    rc = p @ ref.T
    r_s = np.array([np.sort(row)[::-1][: min(k, ref.shape[0])].mean() for row in rc])
    if method == "cosine":
        return cos
    if method == "csls":
        return 2 * cos - r_t[:, None] - r_s[None, :]
    mean = (r_t[:, None] + r_s[None, :]) / 2
    return cos / np.maximum(np.abs(mean), 1e-6) if method == "margin-ratio" else cos - mean


@pytest.mark.parametrize("method", ["cosine", "csls", "margin-ratio", "margin-distance"])
@pytest.mark.parametrize("k", [1, 4, 1000])
def test_scores_match_formulas(method, k):
    rng = np.random.default_rng(3)
    q, p, ref = unit(rng, 20, 8), unit(rng, 30, 8), unit(rng, 25, 8)
    scorer = Scorer(ScoringSpec(method, k), p, ref)
    np.testing.assert_allclose(
        scorer.transform(q @ p.T),
        naive_scores(q, p, ref, method, k),
        rtol=1e-4,
        atol=1e-6,
    )


def test_csls_demotes_a_hub():
    # document 0 is nearer to both queries than their own golds (a hub)
    def at(deg):
        return np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])

    q = np.stack([at(0), at(60)])
    p = np.stack([at(30), at(-35), at(95)])  # hub, gold of query 0, gold of query 1
    gold = np.array([1, 2])
    assert gold_ranks(q, p, gold, scoring=ScoringSpec("cosine")).tolist() == [2, 2]
    assert gold_ranks(q, p, gold, scoring=ScoringSpec("csls", k=2)).tolist() == [1, 1]


def test_csls_with_full_neighbourhoods_is_cosine_minus_pool_mean_term():
    """With k = pool size and k = number of queries, r_T(x) is constant per query and
    r_S(y) = y . mean(queries): CSLS ranks like 2 cos(x, y) - y . mean(queries).
    That equals the cosine order only when the queries are centred (mean zero), so
    'CSLS with k = pool size ranks like cosine' is not true in general; both facts are checked."""
    rng = np.random.default_rng(5)
    q, p = unit(rng, 15, 6), unit(rng, 40, 6)
    q[:, 0] += 2.0  # queries share a direction: the r_S term matters
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    csls = Scorer(ScoringSpec("csls", k=10_000), p, q).transform(q @ p.T)
    expected_order = np.argsort(-(2 * q @ p.T - (p @ q.mean(0))[None, :]), axis=1, kind="stable")
    np.testing.assert_array_equal(np.argsort(-csls, axis=1, kind="stable"), expected_order)
    assert not np.array_equal(np.argsort(-csls, axis=1), np.argsort(-(q @ p.T), axis=1))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 20), m=st.integers(2, 20), seed=st.integers(0, 2**31))
def test_full_neighbourhood_csls_ranks_like_cosine_for_centred_queries(n, m, seed):
    rng = np.random.default_rng(seed)
    q, p = unit(rng, n, 4), unit(rng, m, 4)
    q = q - q.mean(0)  # centred reference queries: r_S(y) = 0 for every y
    gold = rng.integers(0, m, size=n)
    spec = ScoringSpec("csls", k=max(n, m))
    cos = gold_ranks(q, p, gold)
    csls = gold_ranks(q, p, gold, scoring=spec)
    # equal up to floating-point ties
    s = q @ p.T
    near_tie = np.abs(s - s[np.arange(n), gold][:, None]) < 1e-5
    ok = near_tie.sum(1) == 1
    np.testing.assert_array_equal(csls[ok], cos[ok])


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 20),
    m=st.integers(1, 20),
    seed=st.integers(0, 2**31),
    method=st.sampled_from(["csls", "margin-ratio", "margin-distance"]),
)
def test_invariant_to_query_order(n, m, seed, method):
    rng = np.random.default_rng(seed)
    q, p = unit(rng, n, 4).astype(np.float32), unit(rng, m, 4).astype(np.float32)
    perm = rng.permutation(n)
    a = Scorer(ScoringSpec(method, 3), p, q).transform(q @ p.T)
    b = Scorer(ScoringSpec(method, 3), p, q[perm]).transform(q[perm] @ p.T)
    np.testing.assert_allclose(b, a[perm], rtol=1e-5, atol=1e-6)


def test_spec_validation():
    with pytest.raises(ValueError, match="unknown scoring 'cls'"):
        ScoringSpec("cls")
    with pytest.raises(ValueError, match="positive integer"):
        ScoringSpec("csls", k=0)
    with pytest.raises(ValueError, match="needs reference queries"):
        Scorer(ScoringSpec("csls"), np.eye(3), None)


def test_margin_ratio_never_ranks_a_negative_cosine_above_a_positive_one():
    """Bug: with a negative mean neighbourhood the ratio flipped its sign, and a document at
    cosine -0.5 outranked one at cosine 0.5 (DESIGN: margin-ratio = cos / |mean|, sign kept)."""

    def at(deg):
        return [np.cos(np.radians(deg)), np.sin(np.radians(deg))]

    query = np.array([at(0)], dtype=np.float32)
    # A at cos 0.5, B at cos -0.5, eight documents opposite the query: r_T(x) = -0.8 (k = pool size)
    pool = np.array([at(60), at(-120)] + [at(180)] * 8, dtype=np.float32)
    spec = ScoringSpec("margin-ratio", k=10)
    scores = Scorer(spec, pool, query).transform(query @ pool.T)[0]
    assert scores[0] > scores[1] and np.all(scores[0] > scores[2:])
    assert np.all(np.sign(scores) == np.sign(query @ pool.T)[0])
    assert gold_ranks(query, pool, np.array([0]), scoring=spec).tolist() == [1]
