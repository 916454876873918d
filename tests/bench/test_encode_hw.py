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


def test_backends_section_runs_every_cpu_setting(tmp_path, shared_data):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "b.json"
    args = ["--only", "backends", "--device", "cpu", "--n", "8", "--repeats", "1", "--data", str(shared_data)]
    assert main([*args, "--out", str(out)]) == 0
    sec = json.loads(out.read_text())["sections"]["backends"]
    figures = {f["name"]: f for f in sec["figures"]}
    assert figures["torch fp16"]["skipped"] == "needs a GPU"
    assert figures["torch fp32"]["ratio_to_torch_fp32"] == 1.0 and figures["torch fp32"]["attention"]
    assert figures["onnx fp32 (cpu)"]["max_abs_diff_vs_torch_fp32"] < 1e-4
    assert figures["onnx int8 (cpu)"]["min_cosine_vs_torch_fp32"] > 0.9
