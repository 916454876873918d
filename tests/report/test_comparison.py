"""Comparison files and text (fast tier): reading results JSON, choosing models, the frame and the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from xlr.report.comparison import compare_files, comparison_frame, format_comparison, read_rank_records
from xlr.stats.compare import RankRecord, compare_results


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


def test_comparison_frame_and_text():
    ids = [f"q{i}" for i in range(300)]
    base = np.random.default_rng(0).integers(1, 4, size=300)
    cand = base.copy()
    cand[np.flatnonzero(base > 1)[:40]] = 1
    a = {"de->en": rec("de->en", ids, base), "zh->en": rec("zh->en", ids, base)}
    b = {"de->en": rec("de->en", ids, cand), "zh->en": rec("zh->en", ids, base)}
    comp = compare_results(a, b, baseline_label="A", candidate_label="B", n_resamples=2000)
    frame = comparison_frame(comp)
    assert len(frame) == 4 and frame.iloc[0]["delta (pts)"].startswith("+")
    text = format_comparison(comp)
    assert "verdict (recall@1): YES" in text and "baseline:  A" in text


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
