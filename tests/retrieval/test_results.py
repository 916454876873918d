"""EvalResults: one object from xlr.evaluate, its tables, its files and the formats of other tools."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from strategy_fakes import install_synthetic, synthetic_corpus

import xlr
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import EvalSpec, evaluate, results_table
from xlr.retrieval.metrics import per_query
from xlr.retrieval.results import EvalResults
from xlr.retrieval.results_io import ResultsFileError, read_results

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture()
def results(tmp_path) -> EvalResults:
    corpus, (a, b) = synthetic_corpus(n_ids=30, langs=("de", "el", "en", "zh"), encoders=2, noise=1.0)
    spec = EvalSpec(
        directions=(Direction("de", "en"), Direction("el", "en"), Direction("zh", "en")), ks=(1, 5), first=25
    )
    cache = EmbeddingCache(tmp_path / "cache")
    return evaluate(CorpusEmbeddings(corpus, a, cache), spec) + evaluate(CorpusEmbeddings(corpus, b, cache), spec)


def test_evaluate_returns_one_object_with_spec_encoders_and_manifest(results):
    assert isinstance(results, EvalResults) and len(results) == 6
    assert results.models == ["fake0", "fake1"] and results.metrics == ["recall@1", "recall@5", "mrr"]
    assert [e["name"] for e in results.encoders] == ["fake0", "fake1"]
    assert results.manifest["corpus"]["name"] == "synthetic" and results.spec.first == 25
    (first, *_) = results  # a sequence of direction results, as before
    assert first.direction.label == "de->en" and results[-1].model == "fake1"


def test_one_mean_in_every_table(results):
    long = results.to_frame()
    assert long.equals(results_table(list(results), results.spec.ks))
    for r in results:
        rows = long[(long.model == r.model) & (long.source == r.direction.source)]
        by_metric = dict(zip(rows.metric, rows.value))
        assert by_metric == r.summary(results.spec.ks)
        assert by_metric["mrr"] == pytest.approx(per_query(r.ranks, "mrr").mean())
    wide = results.to_frame("wide")
    assert list(wide.columns) == ["model", "direction", "n_queries", "recall@1", "recall@5", "mrr"]
    assert len(wide) == 6
    with pytest.raises(ValueError, match="layout"):
        results.to_frame("tall")


def test_notebook_html_is_the_escaped_wide_table(results):
    page = results._repr_html_()
    assert "<table" in page and "recall@5" in page and "fake1" in page and "ties count against the gold" in page
    hostile = EvalResults(results.results, results.spec, ({"name": "<script>x</script>"},))
    assert "<script>" not in hostile._repr_html_()


def test_json_round_trip_is_equal(results, tmp_path):
    path = tmp_path / "r.json"
    text = results.to_json(path)
    back = read_results(path)
    assert back == results and read_results(text) == results
    assert xlr.read_results(path) == results
    assert back.to_frame().equals(results.to_frame())
    # the file keeps what `xlr compare` reads
    doc = json.loads(text)
    assert doc["per_query"]["fake0"]["de->en"]["ranks"] == results[0].ranks.tolist()
    changed = EvalResults(results.results[:-1], results.spec, results.encoders, results.manifest)
    assert changed != results


@pytest.mark.parametrize(
    "content, message",
    [
        ("{oops", r"not valid JSON \(line 1"),
        ('{"rows": []}', "not an xlr results file"),
        ('{"format": "xlr-results/1", "spec": {"directions": ["de-en"]}, "encoders": []}', "field manifest"),
        (
            '{"format": "xlr-results/1", "spec": {"directions": ["de-en"]}, "encoders": [], "manifest": {},'
            ' "directions": [{"model": "m", "direction": "de->en", "query_ids": ["a"], "query_positions": [0],'
            ' "pool_positions": [1], "gold": [0], "ranks": [1.5], "n_dropped": 0}]}',
            r"directions\[0\].*integer rank",
        ),
    ],
)
def test_a_bad_results_file_is_one_sentence(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(ResultsFileError, match=message) as err:
        read_results(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)


def test_cli_json_is_read_back_as_eval_results(tmp_path, monkeypatch):
    from xlr.cli.main import main

    path = install_synthetic(tmp_path, monkeypatch, 20)
    out = tmp_path / "r.json"
    args = ["eval", "--dataset", str(path), "--model", "fake0", "--model", "fake1", "--json", str(out)]
    assert main([*args, "--cache-dir", str(tmp_path / "c"), "--no-progress", "--k", "1", "3"]) == 0
    back = read_results(out)
    assert back.models == ["fake0", "fake1"] and back.spec.ks == (1, 3)
    assert "packages" in back.manifest and back.manifest["dataset"]["name"]  # the CLI's full manifest
    assert back.to_frame().to_dict("records") == json.loads(out.read_text())["rows"]


def _parse_trec(text: str, fields: int) -> list[list[str]]:
    rows = [line.split() for line in text.splitlines()]
    assert all(len(r) == fields for r in rows)
    return rows


def test_trec_run_gives_each_gold_its_rank(results):
    run = _parse_trec(results.to_trec_run("fake0"), 6)
    qrels = _parse_trec(results.to_trec_qrels(), 4)
    gold = {(q, d) for q, _, d, _ in qrels}
    assert len(qrels) == 75  # 3 directions x 25 queries, shared by both models
    for r in results[:3]:
        for qid, rank in zip(r.query_ids, r.ranks):
            q = f"{r.direction.label}:{qid}"
            lines = [row for row in run if row[0] == q]
            assert len(lines) == rank  # the documents above the gold, then the gold
            ordered = sorted(lines, key=lambda row: -float(row[4]))
            assert (ordered[-1][0], ordered[-1][2]) in gold and int(ordered[-1][3]) == rank
            assert all((row[0], row[2]) not in gold for row in ordered[:-1])
    with pytest.raises(ValueError, match="2 models"):
        results.to_trec_run()
    assert "~above-1" not in results.to_trec_run("fake0").split(" Q0 ", 1)[0]


def test_mteb_json_has_mteb_results_layout(results):
    """Against tests/fixtures/mteb/Tatoeba.json: three entries of
    embeddings-benchmark/results results/intfloat__multilingual-e5-small/fd1525a.../Tatoeba.json."""
    want = json.loads((FIXTURES / "mteb" / "Tatoeba.json").read_text())
    mine = json.loads(
        results.to_mteb_json(
            "fake0",
            dataset_revision=want["dataset_revision"],
            bitext_scores=lambda r: {"precision": 0.5, "recall": 0.6, "f1": 0.55},
        )
    )
    assert set(mine) == set(want)
    assert set(mine["scores"]) == {"test"}
    for key in ("dataset_revision", "task_name"):
        assert mine[key] == want[key]
    entries = {e["hf_subset"]: e for e in mine["scores"]["test"]}
    for ref in want["scores"]["test"]:
        got = entries[ref["hf_subset"]]  # deu-eng, ell-eng, cmn-eng: xlr's de->en, el->en, zh->en
        assert set(got) == set(ref)
        assert got["languages"] == ref["languages"]
        assert all(type(got[k]) is type(ref[k]) for k in ref)
        assert got["main_score"] == got["f1"] == 0.55
    de = next(r for r in results if r.model == "fake0" and r.direction.label == "de->en")
    assert entries["deu-eng"]["accuracy"] == round(float(np.mean(de.ranks <= 1)), 6)
    plain = json.loads(results.to_mteb_json("fake0"))["scores"]["test"][0]
    assert "f1" not in plain and plain["main_score"] == plain["accuracy"]
    assert re.fullmatch(r"[a-z]{3}-[a-z]{3}", plain["hf_subset"])


def test_mteb_json_takes_f1_from_the_bitext_table(results, tmp_path):
    from xlr.retrieval.bitext import bitext_table

    corpus, (a, _) = synthetic_corpus(n_ids=30, langs=("de", "el", "en", "zh"), encoders=2, noise=1.0)
    emb = CorpusEmbeddings(corpus, a, EmbeddingCache(tmp_path / "cache"))
    table = bitext_table(corpus, emb.vectors, results.spec.directions, "fake0", first=25)
    doc = json.loads(results.to_mteb_json("fake0", bitext_scores=table))
    for entry in doc["scores"]["test"]:
        rows = table[table.source == {"deu": "de", "ell": "el", "cmn": "zh"}[entry["hf_subset"][:3]]]
        f1 = float(rows[rows.metric == "bitext_f1"].value.iloc[0])
        assert entry["f1"] == round(f1, 6) == entry["main_score"]
        acc = float(rows[rows.metric == "bitext_accuracy"].value.iloc[0])
        assert entry["accuracy"] == round(acc, 6) == entry["recall"]  # MTEB's accuracy is xlr's recall@1


def test_cli_writes_trec_run_qrels_and_mteb_json(tmp_path, monkeypatch):
    from xlr.cli.main import main

    path = install_synthetic(tmp_path, monkeypatch, 20)
    common = ["eval", "--dataset", str(path), "--cache-dir", str(tmp_path / "c"), "--no-progress"]
    out = {name: tmp_path / name for name in ("r.json", "run.txt", "qrels.txt", "mteb.json")}
    flags = ["--json", out["r.json"], "--trec-run", out["run.txt"], "--trec-qrels", out["qrels.txt"]]
    args = [*common, "--model", "fake0", "--bitext", *map(str, flags), "--mteb-json", str(out["mteb.json"])]
    assert main(args) == 0
    results = read_results(out["r.json"])
    assert out["run.txt"].read_text() == results.to_trec_run()
    assert out["qrels.txt"].read_text() == results.to_trec_qrels()
    mteb = json.loads(out["mteb.json"].read_text())
    assert {e["hf_subset"] for e in mteb["scores"]["test"]} == {"deu-eng", "cmn-eng"}
    assert all("f1" in e and e["main_score"] == e["f1"] for e in mteb["scores"]["test"])
    two = [*common, "--model", "fake0", "--model", "fake1", "--trec-run", str(tmp_path / "two.txt")]
    assert main(two) == 2 and not (tmp_path / "two.txt").exists()
