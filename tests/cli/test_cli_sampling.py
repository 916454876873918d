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


def test_eval_bitext_adds_mteb_scores_beside_recall(tmp_path, monkeypatch):
    path = install_synthetic(tmp_path, monkeypatch, 40)
    out = tmp_path / "b.json"
    args = ["eval", "--dataset", str(path), "--model", "fake0", "--cache-dir", str(tmp_path / "c"), "--no-progress"]
    assert main([*args, "--bitext", "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    rows = doc["rows"] + doc["manifest"]["bitext"]["rows"]
    metrics = {r["metric"] for r in rows}
    assert {"bitext_accuracy", "bitext_precision", "bitext_recall", "bitext_f1", "recall@1"} <= metrics
    by = {(r["source"], r["target"], r["metric"]): r["value"] for r in rows}
    for (s, t, m), v in by.items():
        if m == "bitext_accuracy":  # MTEB's accuracy is recall@1 under the same tie rule
            assert v == by[(s, t, "recall@1")]
            assert by[(s, t, "bitext_f1")] <= v + 1e-12


def test_eval_prints_published_mteb_figures_beside_measured(tmp_path, monkeypatch, capsys):
    path = install_synthetic(tmp_path, monkeypatch, 30)
    folder = tmp_path / "results" / "fake0" / "rev7"
    folder.mkdir(parents=True)
    doc = {
        "task_name": "Tatoeba",
        "dataset_revision": "d1",
        "mteb_version": "1.36.32",
        "scores": {
            "test": [{"hf_subset": "deu-eng", "languages": ["deu-Latn", "eng-Latn"], "accuracy": 0.75, "f1": 0.7}]
        },
    }
    (folder / "Tatoeba.json").write_text(json.dumps(doc))
    out = tmp_path / "p.json"
    args = ["eval", "--dataset", str(path), "--model", "fake0", "--cache-dir", str(tmp_path / "c"), "--no-progress"]
    assert main([*args, "--mteb-results", str(tmp_path / "results"), "--mteb-task", "Tatoeba", "--json", str(out)]) == 0
    cap = capsys.readouterr()
    printed = cap.out
    assert "Published (MTEB results repository" in printed and "deu-eng" in printed and "1.36.32" in printed, cap.err
    (row,) = json.loads(out.read_text())["manifest"]["published"]
    assert (row["direction"], row["mteb_accuracy"], row["mteb_f1"], row["model_revision"]) == (
        "de->en",
        0.75,
        0.7,
        "rev7",
    )
