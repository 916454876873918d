"""Paired comparison of per-query ranks (fast tier): pairing by query id, tests, verdicts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from xlr.stats.compare import RankRecord, compare_results, pair_ranks


def rec(direction, ids, ranks):
    return RankRecord(direction, tuple(ids), np.asarray(ranks, dtype=np.int64))


def test_pair_ranks_reorders_the_candidate_by_query_id():
    a = {"de->en": rec("de->en", ["q1", "q2", "q3"], [1, 2, 3])}
    b = {"de->en": rec("de->en", ["q3", "q1", "q2"], [30, 10, 20])}
    ra, rb = pair_ranks(a, b)["de->en"]
    assert ra.tolist() == [1, 2, 3] and rb.tolist() == [10, 20, 30]


def test_pair_ranks_errors_name_directions_and_ids():
    a = {
        "de->en": rec("de->en", ["q1", "q2"], [1, 2]),
        "zh->en": rec("zh->en", ["q1"], [1]),
    }
    b = {
        "de->en": rec("de->en", ["q1", "q2"], [1, 2]),
        "ar->en": rec("ar->en", ["q1"], [1]),
    }
    with pytest.raises(
        ValueError,
        match=r"directions do not match \(only in baseline: zh->en; only in candidate: ar->en\)",
    ):
        pair_ranks(a, b)
    c = {"de->en": rec("de->en", ["q1", "q9"], [1, 2])}
    with pytest.raises(
        ValueError,
        match=r"direction de->en: the queries differ \(2 in baseline, 2 in candidate; "
        r"1 only in baseline \('q2'\); 1 only in candidate \('q9'\)\)",
    ):
        pair_ranks({"de->en": a["de->en"]}, c)
    with pytest.raises(ValueError, match="repeated query ids"):
        pair_ranks({"x": rec("x", ["q", "q"], [1, 2])}, {"x": rec("x", ["q", "q"], [1, 2])})
    with pytest.raises(ValueError, match="2 query ids but 3 ranks"):
        pair_ranks({"x": rec("x", ["q", "r"], [1, 2, 3])}, {"x": rec("x", ["q", "r"], [1, 2])})


def _records(rng, n, better):
    """Two directions; in 'de->en' the candidate fixes ``better`` misses, in 'zh->en' nothing changes."""
    base = rng.integers(1, 4, size=n)
    cand = base.copy()
    miss = np.flatnonzero(base > 1)[:better]
    cand[miss] = 1
    ids = [f"q{i}" for i in range(n)]
    return (
        {"de->en": rec("de->en", ids, base), "zh->en": rec("zh->en", ids, base)},
        {"de->en": rec("de->en", ids, cand), "zh->en": rec("zh->en", ids, base)},
    )


def test_compare_results_verdict_and_frame():
    a, b = _records(np.random.default_rng(0), 300, 40)
    comp = compare_results(a, b, baseline_label="A", candidate_label="B", n_resamples=2000)
    assert comp.metrics == ("recall@1", "mrr") and comp.ok
    r1 = comp.table("recall@1").set_index("direction")
    assert r1.loc["de->en", "effect"] == "improved" and r1.loc["de->en", "c"] == 40 and r1.loc["de->en", "b"] == 0
    assert r1.loc["zh->en", "effect"] == "no significant change" and r1.loc["zh->en", "p_value"] == 1.0
    assert comp.verdict("mrr").improves == ("de->en",)
    # swapped: the candidate is worse -> NO
    worse = compare_results(b, a, n_resamples=2000)
    assert not worse.ok and worse.verdict("recall@1").degrades == ("de->en",)
    with pytest.raises(ValueError, match="was not compared"):
        comp.table("recall@5")


def test_compare_is_reproducible_with_a_seed():
    a, b = _records(np.random.default_rng(1), 200, 10)
    t1 = compare_results(a, b, random_state=7, n_resamples=1000).table("mrr")
    t2 = compare_results(a, b, random_state=7, n_resamples=1000).table("mrr")
    pd.testing.assert_frame_equal(t1, t2)
