from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group

from xlr.strategies.transforms import (
    mean_center,
    procrustes_align,
    reciprocal_rank_fusion,
    row_ranks,
    zscore_fusion,
)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _corpus(n_ids: int = 40, d: int = 8, seed: int = 0):
    """Three languages; 'de' and 'fr' are exact rotations of 'en' (+ offset)."""
    rng = np.random.default_rng(seed)
    en = _unit(rng.normal(size=(n_ids, d)))
    qs = {
        "de": ortho_group.rvs(d, random_state=1),
        "fr": ortho_group.rvs(d, random_state=2),
    }
    emb = np.vstack([en, en @ qs["de"].T, en @ qs["fr"].T])
    langs = np.repeat(["en", "de", "fr"], n_ids)
    ids = np.tile(np.arange(n_ids), 3)
    return emb, langs, ids, qs


# --------------------------------------------------------------------------- mean_center


def test_mean_center_zero_means_on_fit_rows() -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(30, 5)) + np.array([3.0, 0, 0, 0, 0])
    langs = np.repeat(["en", "de", "ar"], 10)
    fit = np.tile(np.arange(10) >= 4, 3)  # first 4 ids of every language are "evaluated"
    out = mean_center(emb, langs, fit, renormalize=False)
    for lang in ("en", "de", "ar"):
        np.testing.assert_allclose(out[(langs == lang) & fit].mean(axis=0), 0.0, atol=1e-12)
        mu = emb[(langs == lang) & fit].mean(axis=0)
        np.testing.assert_allclose(out[langs == lang], emb[langs == lang] - mu)
    normed = mean_center(emb, langs, fit)
    np.testing.assert_allclose(np.linalg.norm(normed, axis=1), 1.0)
    np.testing.assert_allclose(normed, _unit(out))
    assert emb[0, 0] != out[0, 0]  # input untouched, a copy is returned


def test_mean_center_keeps_float32_and_validates() -> None:
    emb = np.ones((4, 3), dtype=np.float32) + np.arange(4, dtype=np.float32)[:, None]
    langs = np.array(["en", "en", "de", "de"])
    assert mean_center(emb, langs, np.array([True, True, True, False])).dtype == np.float32
    with pytest.raises(ValueError, match=r"no fit rows .* \['de'\]"):
        mean_center(emb, langs, np.array([True, True, False, False]))
    with pytest.raises(ValueError, match="fit_mask must be a boolean"):
        mean_center(emb, langs, np.array([1, 1, 1, 1]))
    with pytest.raises(ValueError, match=r"langs must have shape \(4,\)"):
        mean_center(emb, langs[:3], np.ones(4, bool))
    with pytest.raises(ValueError, match="2-D"):
        mean_center(emb[0], langs, np.ones(4, bool))


# --------------------------------------------------------------------------- Procrustes


def test_procrustes_recovers_rotation() -> None:
    emb, langs, ids, qs = _corpus()
    fit = ids >= 10
    out, ws = procrustes_align(emb, langs, ids, fit, target_lang="en")
    assert set(ws) == {"de", "fr"}
    for lang, q in qs.items():
        w = ws[lang]
        np.testing.assert_allclose(w.T @ w, np.eye(w.shape[0]), atol=1e-10)
        np.testing.assert_allclose(w, q, atol=1e-10)  # (en @ Q^T) @ Q = en
        np.testing.assert_allclose(out[langs == lang], emb[langs == "en"], atol=1e-10)
    np.testing.assert_allclose(out[langs == "en"], emb[langs == "en"], rtol=1e-15)  # renormalised only


def test_procrustes_exact_known_rotation_unnormalized() -> None:
    rng = np.random.default_rng(5)
    d = 6
    x = rng.normal(size=(20, d))
    q = ortho_group.rvs(d, random_state=3)
    emb = np.vstack([x @ q, x])  # target rows Y = X @ Q
    langs = np.repeat(["en", "sw"], 20)
    ids = np.tile(np.arange(20), 2)
    out, ws = procrustes_align(emb, langs, ids, np.ones(40, bool), renormalize=False)
    np.testing.assert_allclose(ws["sw"], q, atol=1e-10)
    np.testing.assert_allclose(out[20:], x @ q, atol=1e-10)
    np.testing.assert_array_equal(out[:20], emb[:20])  # target rows unchanged


def test_procrustes_uses_only_fit_rows() -> None:
    emb, langs, ids, _ = _corpus()
    rng = np.random.default_rng(9)
    emb = emb + 0.05 * rng.normal(size=emb.shape)  # noisy so W depends on the data
    fit = ids >= 10
    _, w1 = procrustes_align(emb, langs, ids, fit)
    changed = emb.copy()
    changed[(langs == "en") & ~fit] = rng.normal(size=(10, emb.shape[1]))
    changed[(langs == "de") & ~fit] *= -3.0
    _, w2 = procrustes_align(changed, langs, ids, fit)
    for lang in w1:
        np.testing.assert_array_equal(w1[lang], w2[lang])
    changed[(langs == "en") & fit] += 0.5  # a fit row does matter
    _, w3 = procrustes_align(changed, langs, ids, fit)
    assert not np.allclose(w1["de"], w3["de"])


def test_procrustes_validation() -> None:
    emb, langs, ids, _ = _corpus(n_ids=5)
    fit = np.ones(len(ids), bool)
    with pytest.raises(ValueError, match="target language 'xx' has no rows"):
        procrustes_align(emb, langs, ids, fit, target_lang="xx")
    only_one = fit & ~((langs == "fr") & (ids >= 1))
    with pytest.raises(ValueError, match="language 'fr' has 1 fit pair"):
        procrustes_align(emb, langs, ids, only_one)
    dup = ids.copy()
    dup[1] = 0
    with pytest.raises(ValueError, match="id 0 occurs twice among the fit rows of 'en'"):
        procrustes_align(emb, langs, dup, fit)
    with pytest.raises(ValueError, match=r"ids must have shape \(15,\)"):
        procrustes_align(emb, langs, ids[:3], fit)


# --------------------------------------------------------------------------- RRF


def test_row_ranks_min_ties() -> None:
    np.testing.assert_array_equal(row_ranks(np.array([[0.9, 0.5, 0.9, 0.1]])), [[1, 3, 1, 4]])


def test_rrf_hand_example() -> None:
    s1 = np.array([[0.9, 0.1, 0.5]])  # ranks 1, 3, 2
    s2 = np.array([[0.2, 0.8, 0.8]])  # ranks 3, 1, 1 (tie -> min rank)
    got = reciprocal_rank_fusion([s1, s2], k=1)
    expected = [[1 / 2 + 1 / 4, 1 / 4 + 1 / 2, 1 / 3 + 1 / 2]]
    np.testing.assert_allclose(got, expected)
    assert got.dtype == np.float64
    np.testing.assert_allclose(
        reciprocal_rank_fusion([s1, s2]),
        [[1 / 61 + 1 / 63, 1 / 63 + 1 / 61, 1 / 62 + 1 / 61]],
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 6), st.integers(1, 12))
def test_rrf_single_matrix_same_order(seed: int, nq: int, npool: int) -> None:
    rng = np.random.default_rng(seed)
    s = rng.integers(0, 4, size=(nq, npool)).astype(float)  # many ties
    fused = reciprocal_rank_fusion([s])
    np.testing.assert_array_equal(np.argsort(-fused, axis=1, kind="stable"), np.argsort(-s, axis=1, kind="stable"))
    np.testing.assert_array_equal(fused[:, :, None] == fused[:, None, :], s[:, :, None] == s[:, None, :])


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 8), st.integers(1, 10), st.integers(1, 3))
def test_rrf_query_order_invariance(seed: int, nq: int, npool: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    mats = [rng.integers(0, 5, size=(nq, npool)).astype(float) for _ in range(m)]
    perm = rng.permutation(nq)
    np.testing.assert_array_equal(
        reciprocal_rank_fusion([s[perm] for s in mats]),
        reciprocal_rank_fusion(mats)[perm],
    )


# --------------------------------------------------------------------------- z-score


def test_zscore_hand_and_constant_rows() -> None:
    s1 = np.array([[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]])
    s2 = np.array([[3.0, 2.0, 1.0], [0.0, 0.0, 3.0]])
    z = np.sqrt(1.5)
    np.testing.assert_allclose(zscore_fusion([s1]), [[-z, 0, z], [0, 0, 0]])
    np.testing.assert_allclose(zscore_fusion([s1, s2]), [[0, 0, 0], [-np.sqrt(0.5) / 2] * 2 + [np.sqrt(2) / 2]])
    np.testing.assert_allclose(
        zscore_fusion([s1, s2], weights=[3, 1]),
        0.75 * zscore_fusion([s1]) + 0.25 * zscore_fusion([s2]),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 2**32 - 1),
    st.floats(1e-3, 1e3),
    st.floats(-1e3, 1e3),
    st.integers(0, 2),
)
def test_zscore_affine_invariance(seed: int, a: float, b: float, which: int) -> None:
    rng = np.random.default_rng(seed)
    mats = [rng.normal(size=(4, 7)) for _ in range(3)]
    mats[0][1] = 0.25  # a constant row stays zero after rescaling
    changed = list(mats)
    changed[which] = a * mats[which] + b
    np.testing.assert_allclose(zscore_fusion(changed), zscore_fusion(mats), atol=1e-7)


def test_fusion_validation() -> None:
    s = np.zeros((2, 3))
    for fn in (reciprocal_rank_fusion, zscore_fusion):
        with pytest.raises(ValueError, match="score_mats is empty"):
            fn([])
        with pytest.raises(ValueError, match=r"score_mats\[1\] has shape \(2, 4\), expected \(2, 3\)"):
            fn([s, np.zeros((2, 4))])
        with pytest.raises(ValueError, match="one 2-D array; wrap it in a list"):
            fn(s)
        with pytest.raises(ValueError, match=r"score_mats\[0\] must be 2-D"):
            fn([np.zeros(3)])
        with pytest.raises(ValueError, match=r"score_mats\[1\] contains NaN"):
            fn([s, np.full((2, 3), np.nan)])
        with pytest.raises(ValueError, match="empty: shape"):
            fn([np.zeros((0, 3))])
    with pytest.raises(ValueError, match="k must be"):
        reciprocal_rank_fusion([s], k=-1)
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        zscore_fusion([s, s], weights=[1.0])
    with pytest.raises(ValueError, match="not all zero"):
        zscore_fusion([s, s], weights=[0.0, 0.0])
