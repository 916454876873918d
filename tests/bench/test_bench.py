"""Smoke runs of the benchmarks (``bench``): the code works, the methods agree. No timed assertion.

The synthetic sections (metrics, CSLS/margin, scale) run by default; the sections
that encode real data (XQuAD metrics, encoding, latency) are ``slow``.  Results go
to a temporary folder, never to the committed ``bench/results.*``.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pytest

from bench import Config, failures, run
from bench.metrics_bench import TOLERANCE

FIGURE_KEYS = {
    "name",
    "value",
    "unit",
    "baseline",
    "baseline_value",
    "ratio",
    "runs",
    "baseline_runs",
}


def _smoke(tmp_path: Path, only: tuple[str, ...]) -> dict:
    cfg = replace(
        Config.smoke_config(),
        only=only,
        cache_dir=tmp_path / "cache",
        work_dir=tmp_path,
    )
    results = run(cfg, tmp_path / "out", log=lambda _msg: None)
    assert failures(results) == {}, failures(results)
    on_disk = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert on_disk["smoke"] is True
    assert set(on_disk["benchmarks"]) == set(only)
    md = (tmp_path / "out" / "results.md").read_text(encoding="utf-8")
    assert md.startswith("## Benchmarks") and "| measure |" in md
    return on_disk


def _check_figures(section: dict) -> None:
    assert section["figures"], section.get("title")
    for fig in section["figures"]:
        assert FIGURE_KEYS <= set(fig), fig
        assert fig["value"] >= 0 and fig["baseline_value"] > 0, fig
        assert math.isclose(fig["ratio"], fig["value"] / fig["baseline_value"], rel_tol=1e-12)


def _check_metrics_agree(section: dict) -> None:
    agree = section["agreement"]
    assert agree["tolerance"] == TOLERANCE
    assert agree["ties_with_gold"] == 0
    assert set(agree["max_abs_diff"]) == {
        "seed_argsort (recall@k, mrr)",
        "sentence-transformers (recall@k, mrr@10)",
        "ranx (recall@k, mrr)",
    }
    assert all(v <= TOLERANCE for v in agree["max_abs_diff"].values())
    assert agree["evaluate_vectors_equals_gold_ranks"] and agree["prototype_symmetric_equals_gold_ranks"]


@pytest.mark.slow
def test_bench_smoke_synthetic(tmp_path):
    results = _smoke(tmp_path, ("metrics", "scoring", "scale"))
    machine = results["machine"]
    assert machine["cores"] and machine["memory_gib"] and machine["cpu_model"] and machine["numpy_blas"]
    sections = results["benchmarks"]
    for section in sections.values():
        _check_figures(section)
    _check_metrics_agree(sections["metrics"])
    assert sections["scoring"]["agreement"]["cosine: prototype ranks differing from gold_ranks"] == 0
    scale = sections["scale"]["agreement"]
    for name in ("stream-disk", "xlr-topk-few", "legacy-topk", "stream-memory"):
        assert scale[f"{name} lists identical to xlr.retrieval.ranks.top_k"], name
    for mode, r in sections["scale"]["runs"].items():
        assert "error" not in r, (mode, r)
        assert r["peak_rss_bytes"] > 0


@pytest.mark.slow
def test_bench_smoke_real_encoders(tmp_path):
    results = _smoke(tmp_path, ("xquad", "encoding", "latency"))
    sections = results["benchmarks"]
    for section in sections.values():
        _check_figures(section)
    _check_metrics_agree(sections["xquad"])
    for info in sections["encoding"]["info"].values():
        assert info["max_abs_diff_vs_engine_normalised"] < 1e-5
    assert {f["unit"] for f in sections["latency"]["figures"]} == {"ms"}


def test_legacy_top_k_matches_core_with_ties():
    """The benchmark's old query-chunked kernel (the scale baseline) returns xlr.retrieval.ranks.top_k's lists."""
    import numpy as np

    from bench.scale_worker import _legacy_top_k
    from xlr.retrieval.ranks import top_k

    rng = np.random.default_rng(3)
    q = np.round(rng.standard_normal((37, 4))).astype(np.float32)  # coarse: many exact ties
    p = np.round(rng.standard_normal((301, 4))).astype(np.float32)
    want = top_k(q, p, 7)[0]
    for chunk in (1, 5, 64):
        assert (_legacy_top_k(q, p, 7, chunk) == want).all()
