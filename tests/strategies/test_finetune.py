from __future__ import annotations

import json

import numpy as np
import pytest
from strategy_fakes import synthetic_corpus

from xlr.data.registry import resolve_dataset
from xlr.encoders.base import EncoderUnavailable
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.catalogue import CATALOGUE, EncoderCard
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.registry import load_encoder
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import EvalSpec, evaluate
from xlr.strategies.finetune import (
    FinetuneSpec,
    _batches,
    finetune,
    resolve_device,
    training_pairs,
)
from xlr.strategies.split import Split, plan_split

DIRS = (Direction("de", "en"), Direction("zh", "en"))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps must be a positive integer"),
        ({"batch_size": 1}, "at least 2"),
        ({"learning_rate": 0}, "learning_rate"),
        ({"warmup_steps": -1}, "warmup_steps"),
        ({"max_pairs": 1}, "max_pairs"),
        ({"device": "tpu"}, "device must be"),
        ({"text_field": "title"}, "text_field"),
        ({"output_dir": " "}, "output_dir is empty"),
    ],
)
def test_spec_validation(kwargs, message):
    base = {"base_model": "minilm-en", "output_dir": "/tmp/x"} | kwargs
    with pytest.raises(ValueError, match=message):
        FinetuneSpec(**base)


def test_training_pairs_come_from_fit_ids_only():
    corpus, _ = synthetic_corpus(30)
    plan = plan_split(corpus, DIRS, Split(first=10))
    pairs = training_pairs(corpus, plan)
    assert len(pairs) == 2 * 20
    evaluated = {f"{lang} {int(i[2:])}" for ids in plan.evaluated for i in ids for lang in ("de", "zh", "en")}
    assert not {t for p in pairs for t in p} & evaluated
    assert pairs[0] == ("de 10", "en 10") and pairs[20] == ("zh 10", "en 10")
    sub = training_pairs(corpus, plan, max_pairs=5, random_state=3)
    assert len(sub) == 5 and sub == training_pairs(corpus, plan, max_pairs=5, random_state=3)
    with pytest.raises(ValueError, match="0 training pair\\(s\\) outside the evaluated ids"):
        training_pairs(corpus, plan_split(corpus, DIRS, Split()))


def test_batches_never_repeat_a_text():
    # the English side repeats across directions (like XQuAD): a batch must not hold it twice
    pairs = [(f"{lang} {i}", f"en {i}") for lang in ("de", "zh") for i in range(10)]
    batches = _batches(pairs, 8, 12, np.random.default_rng(0))
    assert len(batches) == 12
    for b in batches:
        texts = [t for i in b for t in pairs[i]]
        assert len(texts) == len(set(texts)) and 2 <= len(b) <= 8
    with pytest.raises(ValueError, match="fewer than 2 pairs"):
        _batches([("a", "b"), ("a", "c")], 4, 1, np.random.default_rng(0))


def test_device_and_untrainable_encoders(monkeypatch, tmp_path):
    assert resolve_device("cpu") == "cpu"
    corpus, (enc,) = synthetic_corpus(20)
    monkeypatch.setitem(CATALOGUE, "fake0", EncoderCard("fake0", "lookup", lambda _c: enc, needs="bundled"))
    plan = plan_split(corpus, DIRS, Split(first=10))
    with pytest.raises(
        EncoderUnavailable,
        match="fake0 is a lookup encoder, not a sentence-transformers model",
    ):
        finetune(corpus, plan, FinetuneSpec("fake0", str(tmp_path / "m")))


@pytest.mark.slow
def test_minilm_loss_falls_and_the_saved_model_reloads_and_evaluates(minilm, tmp_path):
    data = resolve_dataset("tatoeba")
    corpus = data.corpus
    plan = plan_split(corpus, [Direction("de", "en")], Split(first=50))
    out = tmp_path / "minilm-ft"
    seen = []
    spec = FinetuneSpec(
        "minilm-en",
        str(out),
        steps=9,
        batch_size=16,
        learning_rate=1e-4,
        warmup_steps=1,
        max_pairs=48,
        max_seq_length=32,
        device="cpu",
        random_state=0,
    )
    res = finetune(corpus, plan, spec, callback=lambda i, n, loss: seen.append((i, n, loss)))
    assert [s[0] for s in seen] == list(range(1, 10)) and len(res.losses) == 9
    assert np.mean(res.losses[-3:]) < np.mean(res.losses[:3]), res.losses  # 3 epochs over 48 pairs
    assert res.n_pairs == 48 and res.device == "cpu" and res.encoder == f"st:{out}"
    record = json.loads((out / "xlr-finetune.json").read_text())
    assert record["losses"] == list(res.losses) and "first 50 linked ids" in record["split"]
    tuned = load_encoder(res.encoder)
    assert tuned.identity.version.startswith("local:")
    assert tuned.identity.cache_key("query") != minilm.identity.cache_key("query")
    spec_eval = EvalSpec((Direction("de", "en"),), first=50)
    cache = EmbeddingCache(tmp_path / "cache")
    (r,) = evaluate(corpus, CorpusEmbeddings(corpus, tuned, cache), spec_eval)
    (b,) = evaluate(corpus, CorpusEmbeddings(corpus, minilm, cache), spec_eval)
    assert r.model == f"st:{out}" and r.n_queries == 50 and r.query_ids == b.query_ids
    assert not np.array_equal(r.ranks, b.ranks) or (r.ranks == 1).all()


def test_output_folder_checked_before_loading_the_base_model(monkeypatch, tmp_path):
    """The library refuses a used output folder before any work, like the CLI (issue 17)."""
    corpus, (enc,) = synthetic_corpus(20)
    loaded: list[str] = []
    monkeypatch.setitem(
        CATALOGUE, "fake0", EncoderCard("fake0", "lookup", lambda _c: loaded.append("x") or enc, needs="bundled")
    )
    plan = plan_split(corpus, DIRS, Split(first=10))
    used = tmp_path / "used"
    used.mkdir()
    (used / "config.json").write_text("{}")
    afile = tmp_path / "file"
    afile.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    for out, why in ((used, "is not empty"), (afile, "is a file"), (link, "is a symbolic link")):
        with pytest.raises(ValueError, match=f"^{out} {why}"):
            finetune(corpus, plan, FinetuneSpec("fake0", str(out)))
    assert not loaded and (used / "config.json").read_text() == "{}" and afile.read_text() == "x"
