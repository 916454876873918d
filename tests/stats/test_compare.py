from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from xlr.report.comparison import compare_files, comparison_frame, format_comparison, read_rank_records
from xlr.stats.compare import RankRecord, compare_results, pair_ranks


def rec(direction, ids, ranks):
    return RankRecord(direction, tuple(ids), np.asarray(ranks, dtype=np.int64))


def results_file(path, per_query):
    rows = [
        {
            "model": m,
            "source": d.split("->")[0],
            "target": d.split("->")[1],
            "metric": "mrr",
            "value": 0.5,
            "n_queries": len(r["query_ids"]),
        }
        for m, dirs in per_query.items()
        for d, r in dirs.items()
    ]
    path.write_text(
        json.dumps({"rows": rows, "manifest": {}, "per_query": per_query}),
        encoding="utf-8",
    )
    return path


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
    frame = comparison_frame(comp)
    assert len(frame) == 4 and frame.iloc[0]["delta (pts)"].startswith("+")
    text = format_comparison(comp)
    assert "verdict (recall@1): YES" in text and "baseline:  A" in text
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


def test_compare_files_and_model_selection(tmp_path):
    ids = ["q1", "q2", "q3", "q4"]
    base = results_file(
        tmp_path / "a.json",
        {"m": {"de->en": {"query_ids": ids, "ranks": [1, 2, 3, 1]}}},
    )
    cand = results_file(
        tmp_path / "b.json",
        {
            "m+csls": {"de->en": {"query_ids": ids[::-1], "ranks": [1, 1, 1, 1]}},
            "other": {"de->en": {"query_ids": ids, "ranks": [1, 1, 1, 1]}},
        },
    )
    with pytest.raises(ValueError, match=r"b.json holds 2 models \(m\+csls, other\); choose one"):
        compare_files(base, cand)
    with pytest.raises(ValueError, match=r"no model 'nope' \(models: m\+csls, other\)"):
        compare_files(base, cand, candidate_model="nope")
    comp = compare_files(base, cand, candidate_model="m+csls", n_resamples=500)
    assert comp.baseline == "m" and comp.candidate == "m+csls"
    row = comp.table("recall@1").iloc[0]
    assert row.baseline == 0.5 and row.candidate == 1.0
    wrong = results_file(
        tmp_path / "c.json",
        {"m": {"zh->en": {"query_ids": ids, "ranks": [1, 1, 1, 1]}}},
    )
    with pytest.raises(
        ValueError,
        match=r"m vs m: the directions do not match \(only in baseline .*a.json: de->en",
    ):
        compare_files(base, wrong)
    with pytest.raises(ValueError, match="same model"):
        compare_files(base, base)
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps({"rows": [], "manifest": {}}), encoding="utf-8")
    with pytest.raises(ValueError, match="no per-query ranks"):
        read_rank_records(bare)
    broken = results_file(tmp_path / "d.json", {"m": {"de->en": {"query_ids": ids}}})
    with pytest.raises(ValueError, match="direction de->en: needs 'query_ids' and integer 'ranks'"):
        read_rank_records(broken)
