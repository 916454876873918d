from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from xlr.stats.paired import PairedComparison, Verdict, compare_directions, compare_ranks, verdict
from xlr.stats.significance import holm, mcnemar_exact, paired_bootstrap, permutation_test


def _hits(b: int, c: int, both: int = 3, neither: int = 2) -> tuple[np.ndarray, np.ndarray]:
    a = [1] * b + [0] * c + [1] * both + [0] * neither
    bb = [0] * b + [1] * c + [1] * both + [0] * neither
    return np.array(a, dtype=bool), np.array(bb, dtype=bool)


# --------------------------------------------------------------------------- McNemar


@pytest.mark.parametrize("b,c", [(0, 5), (1, 9), (3, 3), (7, 2), (12, 30), (1, 0), (20, 21)])
def test_mcnemar_matches_binomtest(b: int, c: int) -> None:
    a_hit, b_hit = _hits(b, c)
    p, bb, cc = mcnemar_exact(a_hit, b_hit)
    assert (bb, cc) == (b, c)
    assert p == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-12)


def test_mcnemar_no_discordant_pairs() -> None:
    a_hit, b_hit = _hits(0, 0)
    assert mcnemar_exact(a_hit, b_hit) == (1.0, 0, 0)


def test_mcnemar_rejects_non_binary() -> None:
    with pytest.raises(ValueError, match="a_hit must be boolean"):
        mcnemar_exact(np.array([0, 2]), np.array([0, 1]))


# --------------------------------------------------------------------------- Holm


def test_holm_hand_example() -> None:
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06])
    np.testing.assert_allclose(holm([0.5, 0.6]), [1.0, 1.0])
    assert holm([]).shape == (0,)


def test_holm_rejects_bad_p() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])
    with pytest.raises(ValueError, match="NaN"):
        holm([np.nan])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20))
def test_holm_properties(ps: list[float]) -> None:
    p = np.array(ps)
    adj = holm(p)
    assert adj.shape == p.shape
    assert np.all(adj >= p - 1e-15)  # never smaller than raw p
    assert np.all(adj <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adj[order]) >= 0)  # monotone in the order of raw p
    assert np.all(adj <= np.minimum(1.0, len(p) * p) + 1e-15)  # never above Bonferroni


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_contains_delta_and_is_reproducible() -> None:
    rng = np.random.default_rng(0)
    a = (rng.random(300) < 0.6).astype(float)
    b = (rng.random(300) < 0.7).astype(float)
    delta = b.mean() - a.mean()
    lo, hi = paired_bootstrap(a, b, n_resamples=2000, random_state=7)
    assert lo <= delta <= hi
    assert (lo, hi) == paired_bootstrap(a, b, n_resamples=2000, random_state=7)
    assert (lo, hi) != paired_bootstrap(a, b, n_resamples=2000, random_state=8)
    lo2, hi2 = paired_bootstrap(a, b, n_resamples=2000, confidence=0.5, random_state=7)
    assert lo <= lo2 <= hi2 <= hi


def test_bootstrap_shrinks_with_n() -> None:
    rng = np.random.default_rng(1)
    widths = []
    for n in (100, 2500):
        a = 1.0 / rng.integers(1, 10, n)
        b = 1.0 / rng.integers(1, 8, n)
        lo, hi = paired_bootstrap(a, b, n_resamples=2000, random_state=0)
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 3  # ~ 1/sqrt(25) = 1/5


def test_bootstrap_multinomial_path_matches_index_path() -> None:
    rng = np.random.default_rng(2)
    a = (rng.random(400) < 0.5).astype(float)
    b = (rng.random(400) < 0.6).astype(float)
    fast = paired_bootstrap(a, b, n_resamples=20_000, random_state=0)  # 3 distinct d: multinomial
    jitter = np.arange(400) * 1e-12  # all d distinct: index resampling
    slow = paired_bootstrap(a, b + jitter, n_resamples=20_000, random_state=0)
    np.testing.assert_allclose(fast, slow, atol=0.006)


def test_bootstrap_degenerate_and_validation() -> None:
    assert paired_bootstrap(np.ones(5), np.ones(5), random_state=0) == (0.0, 0.0)
    assert paired_bootstrap([0.0], [1.0], random_state=0) == (1.0, 1.0)
    with pytest.raises(ValueError, match="same queries"):
        paired_bootstrap(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="confidence"):
        paired_bootstrap(np.ones(3), np.ones(3), confidence=1.0)
    with pytest.raises(ValueError, match="n_resamples"):
        paired_bootstrap(np.ones(3), np.ones(3), n_resamples=0)
    with pytest.raises(ValueError, match="random_state"):
        paired_bootstrap(np.ones(3), np.ones(3), random_state="x")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- permutation


def _naive_exact(a: np.ndarray, b: np.ndarray) -> float:
    d = b - a
    t = abs(d.sum())
    hits = total = 0
    for signs in itertools.product((1, -1), repeat=len(d)):
        total += 1
        hits += abs(np.dot(signs, d)) >= t - 1e-12
    return hits / total


@pytest.mark.parametrize("seed", range(6))
def test_permutation_exact_matches_naive_loop(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 9
    a = 1.0 / rng.integers(1, 4, n)
    b = 1.0 / rng.integers(1, 4, n)
    p = permutation_test(a, b, n_resamples=2**n, random_state=0)
    assert p == pytest.approx(_naive_exact(a, b), abs=1e-12)


def test_permutation_monte_carlo() -> None:
    rng = np.random.default_rng(3)
    a = 1.0 / rng.integers(1, 20, 400)
    b = a.copy()
    assert permutation_test(a, b, random_state=0) == 1.0
    p1 = permutation_test(a, 1.0 / rng.integers(1, 20, 400), n_resamples=999, random_state=5)
    assert 0.0 < p1 <= 1.0
    strong = permutation_test(a, np.ones(400), n_resamples=999, random_state=5)
    assert strong == pytest.approx(1 / 1000)  # +1 correction: never 0
    c = 1.0 / rng.integers(1, 20, 400)
    assert permutation_test(a, c, n_resamples=500, random_state=9) == permutation_test(
        a, c, n_resamples=500, random_state=9
    )


# --------------------------------------------------------------------------- compare_ranks


def test_identical_systems() -> None:
    r = np.array([1, 2, 1, 5, 3, 1, 8])
    for metric, test in (("recall@1", "mcnemar-exact"), ("mrr", "permutation")):
        res = compare_ranks(r, r, metric=metric, random_state=0, n_resamples=500)
        assert isinstance(res, PairedComparison)
        assert res.delta == 0.0 and res.p_value == 1.0 and res.test == test
        assert (res.ci_low, res.ci_high) == (0.0, 0.0)
    df = compare_directions({"ar->en": (r, r), "de->en": (r, r)}, metric="recall@1", random_state=0)
    assert (df["effect"] == "no significant change").all()
    assert df["p_holm"].tolist() == [1.0, 1.0]


def test_compare_ranks_values() -> None:
    ra = np.array([1, 3, 2, 1, 10])
    rb = np.array([1, 1, 2, 4, 1])
    res = compare_ranks(ra, rb, metric="Recall@1", random_state=0, n_resamples=500)
    assert res.metric == "recall@1"
    assert res.baseline == pytest.approx(2 / 5) and res.candidate == pytest.approx(3 / 5)
    assert res.delta == pytest.approx(1 / 5)
    assert (res.b, res.c, res.n_queries) == (1, 2, 5)
    mrr = compare_ranks(ra, rb, metric="mrr", random_state=0, n_resamples=500)
    assert mrr.baseline == pytest.approx(np.mean(1 / ra))
    assert mrr.b is None and mrr.c is None
    r5 = compare_ranks(ra, rb, metric="recall@5", random_state=0)
    assert r5.delta == pytest.approx(1 / 5)
    again = compare_ranks(ra, rb, metric="mrr", random_state=0, n_resamples=500)
    assert again == mrr


@pytest.mark.parametrize(
    "ra,rb,kw,msg",
    [
        ([1, 2], [1, 2, 3], {}, r"same queries: shapes \(2,\) != \(3,\)"),
        ([], [], {}, "empty"),
        ([1, 0], [1, 1], {}, "ranks_a ranks must be >= 1; query 1 has rank 0"),
        ([1, 1], [1, 1.5], {}, "ranks_b must hold integer ranks; query 1"),
        ([[1]], [[1]], {}, "1-D"),
        (["1"], ["1"], {}, "dtype"),
        ([1, 2], [1, 2], {"metric": "ndcg"}, "unknown metric 'ndcg'"),
        ([1, 2], [1, 2], {"metric": "recall@0"}, "unknown metric"),
    ],
)
def test_compare_ranks_validation(ra, rb, kw, msg) -> None:
    kw = {"metric": "recall@1", **kw}
    with pytest.raises(ValueError, match=msg):
        compare_ranks(np.array(ra), np.array(rb), **kw)


def test_float_integer_ranks_accepted() -> None:
    res = compare_ranks(np.array([1.0, 2.0]), np.array([1, 1]), metric="mrr", random_state=0)
    assert res.delta == pytest.approx(0.25)


# --------------------------------------------------------------------------- directions + verdict


def _strong_table(seed: int = 0, n: int = 300) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    base = rng.integers(1, 6, n)
    better = np.where(rng.random(n) < 0.5, 1, base)  # many queries move to rank 1
    worse = np.where(rng.random(n) < 0.5, base + 5, base)
    noise = np.where(rng.random(n) < 0.05, rng.integers(1, 6, n), base)
    return {"ar->en": (base, better), "de->en": (base, noise), "zh->en": (base, worse)}


def test_compare_directions_effects_and_columns() -> None:
    table = _strong_table()
    for metric in ("recall@1", "mrr"):
        df = compare_directions(table, metric=metric, random_state=0)
        assert list(df["direction"]) == ["ar->en", "de->en", "zh->en"]
        assert {
            "direction",
            "metric",
            "baseline",
            "candidate",
            "delta",
            "ci_low",
            "ci_high",
            "p_value",
            "p_holm",
            "test",
            "n_queries",
            "significant",
            "effect",
        } <= set(df.columns)
        eff = dict(zip(df["direction"], df["effect"]))
        assert eff["ar->en"] == "improved"
        assert eff["de->en"] == "no significant change"
        assert eff["zh->en"] == "degraded"
        np.testing.assert_allclose(df["p_holm"], holm(df["p_value"]))
        assert df.attrs["alpha"] == 0.05
        if metric == "recall@1":
            assert df.loc[0, "test"] == "mcnemar-exact" and df.loc[2, "c"] == 0
        else:
            assert df.loc[0, "test"] == "permutation" and pd.isna(df.loc[0, "b"])
    a = compare_directions(table, metric="mrr", random_state=3)
    b = compare_directions(table, metric="mrr", random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_compare_directions_validation() -> None:
    with pytest.raises(ValueError, match="empty"):
        compare_directions({}, metric="mrr")
    with pytest.raises(ValueError, match="alpha"):
        compare_directions(_strong_table(), metric="mrr", alpha=1.5)
    with pytest.raises(ValueError, match=r"direction 'x->en': ranks_a and ranks_b must hold the same"):
        compare_directions({"x->en": (np.ones(3, int), np.ones(4, int))}, metric="mrr")


def _df(effects: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "direction": list(effects),
            "metric": "recall@1",
            "effect": list(effects.values()),
        }
    )


def test_verdict_cases() -> None:
    v = verdict(_df({"ar->en": "improved", "de->en": "no significant change"}))
    assert isinstance(v, Verdict)
    assert v.ok and v.improves == ("ar->en",) and v.degrades == ()
    assert "ar->en" in v.sentence
    v = verdict(_df({"ar->en": "improved", "zh->en": "degraded"}))
    assert not v.ok and v.degrades == ("zh->en",)
    assert "zh->en" in v.sentence and "ar->en" in v.sentence
    v = verdict(_df({"ar->en": "no significant change", "de->en": "no significant change"}))
    assert not v.ok and v.improves == () and "No significant change" in v.sentence
    assert not verdict(_df({})).ok
    with pytest.raises(ValueError, match="missing columns"):
        verdict(pd.DataFrame({"direction": ["a->b"]}))


def test_verdict_from_compare_directions() -> None:
    v = verdict(compare_directions(_strong_table(), metric="mrr", random_state=0))
    assert not v.ok and v.improves == ("ar->en",) and v.degrades == ("zh->en",)
    assert "p < 0.05" in v.sentence


@pytest.mark.parametrize("k,n", [(0, 1), (3, 10), (50, 100), (999, 2000), (9000, 20000), (24000, 50000), (10, 60000)])
def test_binomial_tail_matches_scipy_without_needing_it(k: int, n: int) -> None:
    from scipy.stats import binom

    from xlr.stats.significance import binom_half_cdf

    assert binom_half_cdf(k, n) == pytest.approx(float(binom.cdf(k, n, 0.5)), rel=1e-9, abs=1e-300)
