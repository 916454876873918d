"""Smoke run of ``bench.backends_bench`` (the vectors section): the kernels agree. No timed assertion."""

from __future__ import annotations

import json

import pytest

from bench.backends_bench import main

pytestmark = pytest.mark.slow


def test_vectors_section_runs_and_the_two_binary_kernels_agree(tmp_path, shared_data):
    out = tmp_path / "v.json"
    assert main(["--only", "vectors", "--data", str(shared_data), "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["sections"]["vectors"]["rows"]
    assert [r["bytes_per_vector"] for r in rows.values()] == [1536, 384, 48, 48]
    assert rows["ubinary (kernel on ±1)"]["recall@1"] == rows["ubinary (popcount, packed)"]["recall@1"]
    assert out.with_suffix(".md").read_text().startswith("# Backends and precisions")
