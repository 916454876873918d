"""Smoke run of ``bench.encode_hw`` (the throughput section on the CPU, tiny): the code works and
xlr's vectors equal plain sentence-transformers'.  No timed assertion."""

from __future__ import annotations

import json

import pytest

from bench.encode_hw import main

pytestmark = pytest.mark.slow


def test_throughput_section_runs_and_agrees(tmp_path, shared_data):
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "--only",
                "throughput",
                "--device",
                "cpu",
                "--n",
                "8",
                "--repeats",
                "1",
                "--data",
                str(shared_data),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    sec = json.loads(out.read_text())["sections"]["throughput"]
    assert sec["device"] == "cpu" and sec["n_texts"] == 8
    names = [f["name"] for f in sec["figures"]]
    assert names == ["xlr fp32 batch 32 on cpu", "xlr+cache fp32 batch 32 on cpu"]
    assert all(f["max_abs_diff_vs_plain"] < 1e-5 and f["texts_per_s"] > 0 for f in sec["figures"])
    assert out.with_suffix(".md").read_text().startswith("# Encoding benchmarks")
