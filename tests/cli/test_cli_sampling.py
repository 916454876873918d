"""``xlr eval --sample N --sample-seed S``: a seeded random sample of ids, stated in the caption and manifest."""

from __future__ import annotations

import json

from strategy_fakes import install_synthetic

from xlr.cli.main import main


def test_eval_random_sample_is_stated_and_reproducible(tmp_path, monkeypatch, capsys):
    path = install_synthetic(tmp_path, monkeypatch, 60)
    args = ["eval", "--dataset", str(path), "--model", "fake0", "--cache-dir", str(tmp_path / "c"), "--no-progress"]
    out = tmp_path / "r.json"
    assert main([*args, "--sample", "12", "--sample-seed", "5", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "12 linked ids drawn at random (seed 5) per direction" in printed
    spec = json.loads(out.read_text())["manifest"]["spec"]
    assert spec["sample"] == {"n": 12, "seed": 5, "method": "random"}
    assert spec["sampling"] == "12 linked ids drawn at random (seed 5)"
    assert {r["n_queries"] for r in json.loads(out.read_text())["rows"]} == {12}
    again = tmp_path / "again.json"
    assert main([*args, "--sample", "12", "--sample-seed", "5", "--json", str(again)]) == 0
    assert json.loads(again.read_text())["rows"] == json.loads(out.read_text())["rows"]
    first = tmp_path / "first.json"
    assert main([*args, "--first", "12", "--json", str(first)]) == 0
    assert json.loads(first.read_text())["manifest"]["spec"]["sample"]["method"] == "first"
    assert "first 12 linked ids per direction" in capsys.readouterr().out
