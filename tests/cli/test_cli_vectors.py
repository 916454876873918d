"""``xlr eval --vectors int8|ubinary [--rescore N]``: quantized after encoding, ranked by the one kernel."""

from __future__ import annotations

import json

import numpy as np
import pytest
from strategy_fakes import install_synthetic, synthetic_corpus

from xlr.cli.main import main
from xlr.retrieval.quantized import VectorSpec, calibrate, quantized_ranker


@pytest.fixture()
def fake_data(tmp_path, monkeypatch):
    return install_synthetic(tmp_path, monkeypatch, 60), tmp_path


def _run(path, tmp, *extra: str) -> dict:
    out = tmp / f"r{len(list(tmp.glob('r*.json')))}.json"
    rc = main(["eval", "--dataset", str(path), "--model", "fake0", "--directions", "de-en,zh-en", "--k", "1",
               "--no-progress", "--cache-dir", str(tmp / "c"), "--json", str(out), *extra])  # fmt: skip
    assert rc == 0
    return json.loads(out.read_text())


def test_vectors_change_the_label_and_the_manifest_says_how(fake_data, capsys):
    path, tmp = fake_data
    plain = _run(path, tmp)
    int8 = _run(path, tmp, "--vectors", "int8")
    binary = _run(path, tmp, "--vectors", "ubinary", "--rescore", "5")
    models = [{r["model"] for r in doc["rows"]} for doc in (plain, int8, binary)]
    assert models == [{"fake0"}, {"fake0+int8"}, {"fake0+ubinary-rescore5"}]
    v = int8["manifest"]["vectors"][0]
    assert v["precision"] == "int8" and v["bytes_per_vector"] == 16 and len(v["calibration_sha256"]) == 64
    b = binary["manifest"]["vectors"][0]
    assert b["bytes_per_vector"] == 2 and b["calibration_sha256"] is None and b["key"] != v["key"]
    assert v["codes"] != b["codes"] and (tmp / "c" / v["codes"]).is_dir()
    assert "vectors" not in plain["manifest"]
    centred = _run(path, tmp, "--vectors", "cbinary")
    c = centred["manifest"]["vectors"][0]
    assert {r["model"] for r in centred["rows"]} == {"fake0+cbinary"}
    assert c["bytes_per_vector"] == 2 and c["calibration_sha256"] == v["calibration_sha256"] and c["key"] != b["key"]
    # the second and third runs encoded nothing: quantization is applied to the cached float vectors
    assert "0 texts encoded" in capsys.readouterr().err.splitlines()[-1]


def test_quantized_recall_equals_the_kernel_on_the_same_vectors(fake_data):
    path, tmp = fake_data
    doc = _run(path, tmp, "--vectors", "int8")
    corpus, (enc, _) = synthetic_corpus(60, rotate=("zh",), offset=0.5, encoders=2, titles=True)
    vec = {d.lang + d.id: enc.encode([d.text])[0] for d in corpus.documents}
    ids = sorted({d.id for d in corpus.documents})
    pool = np.stack([vec["en" + i] for i in ids])
    every_pool = pool  # both directions share the English pool: the calibration set
    ranker = quantized_ranker(VectorSpec("int8"), calibrate(every_pool))
    for lang in ("de", "zh"):
        q = np.stack([vec[lang + i] for i in ids])
        r1 = float((ranker(q, pool, np.arange(len(ids))) == 1).mean())
        row = next(r for r in doc["rows"] if r["source"] == lang and r["metric"] == "recall@1")
        assert row["value"] == pytest.approx(r1)


def test_bad_vector_options_are_one_sentence(fake_data, capsys):
    path, tmp = fake_data
    rc = main(["eval", "--dataset", str(path), "--model", "fake0", "--no-progress", "--cache-dir", str(tmp / "c"),
               "--rescore", "5"])  # fmt: skip
    assert rc != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "rescoring applies to int8 or ubinary" in err[0]


def test_price_prints_the_sentence_and_writes_json(fake_data, capsys):
    path, tmp = fake_data
    out = tmp / "price.json"
    rc = main(["price", "--dataset", str(path), "--model", "fake0", "--candidate-setting", "torch/fp32/ubinary",
               "--directions", "de-en,zh-en", "--no-progress", "--cache-dir", str(tmp / "c"), "--resamples", "200",
               "--timing-texts", "10", "--json", str(out)])  # fmt: skip
    printed = capsys.readouterr().out
    assert rc == 0
    doc = json.loads(out.read_text())
    assert printed.splitlines()[0] == doc["sentence"] + "."
    assert doc["candidate"] == "fake0+ubinary" and [r["source"] for r in doc["directions"]] == ["de", "zh"]
    assert [r["setting"] for r in doc["speed"]] == ["torch fp32", "torch fp32 ubinary"]
    assert "Per language" in printed and "only the stored vectors differ: speed not timed" in printed
    assert "the speed of" not in printed.splitlines()[0]  # one engine: no speed-up to report
    memory = printed.split("speed not timed):")[1]
    assert "None" not in memory and "texts/s" not in memory  # memory only, no column of Nones


def test_price_help_states_its_one_metric(capsys):
    """``xlr price --help`` said "--metric: repeatable; default recall@1 and mrr"; price tests one metric,
    recall@1 by default, and refuses a second."""
    with pytest.raises(SystemExit):
        main(["price", "--help"])
    helptext = " ".join(capsys.readouterr().out.split())
    assert "repeatable" not in helptext.split("--metric METRIC")[-1].split("--alpha")[0]
    assert "one metric to test (default recall@1)" in helptext


def test_price_refuses_backend_flags(fake_data, capsys):
    path, tmp = fake_data
    rc = main(["price", "--dataset", str(path), "--model", "fake0", "--candidate-setting", "onnx/int8",
               "--backend", "onnx", "--no-progress"])  # fmt: skip
    assert rc != 0 and "--candidate-setting, not --backend" in capsys.readouterr().err


@pytest.mark.parametrize("flags", [["--pool", "all"], ["--query-pool", "en"]])
def test_vectors_refuse_the_views_they_do_not_apply_to(fake_data, capsys, flags):
    path, tmp = fake_data
    rc = main(["eval", "--dataset", str(path), "--model", "fake0", "--no-progress", "--vectors", "int8", *flags])
    assert rc != 0 and "not to --query-pool or --pool all" in capsys.readouterr().err


def test_finetune_refuses_an_exported_backend(fake_data, capsys):
    path, tmp = fake_data
    rc = main(["finetune", "--dataset", str(path), "--model", "fake0", "--backend", "onnx", "--no-progress",
               "--output", str(tmp / "ft")])  # fmt: skip
    assert rc != 0 and "finetune trains with torch" in capsys.readouterr().err
