"""Quantized vectors cached separately (issue 20, item 2): int8/ubinary codes stored in their own
namespace of the embedding cache, reused by a second run (no quantization computed), verified like
the float32 shards, and giving the same ranks as quantizing on the fly."""

from __future__ import annotations

import json

import numpy as np
import pytest
from strategy_fakes import synthetic_corpus

from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval import quantized
from xlr.retrieval.code_cache import codes_key
from xlr.retrieval.directions import parse_directions
from xlr.retrieval.evaluate import EvalSpec, evaluate, vector_calibration
from xlr.retrieval.quantized import VectorSpec, quantized_key, quantized_ranker


def _run(corpus, enc, root, vectors: VectorSpec):
    pairs = "de-en,zh-en,en-de" if "zh" in corpus.languages else "de-en,en-de"
    spec = EvalSpec(directions=tuple(parse_directions(pairs)), vectors=vectors)
    emb = CorpusEmbeddings(corpus, enc, EmbeddingCache(root))
    return evaluate(corpus, emb, spec), emb, spec


def _code_folders(root):
    return sorted(p for p in root.iterdir() if p.is_dir() and "codes_of" in (p / "identity.json").read_text())


@pytest.mark.parametrize("precision", ["int8", "ubinary", "cbinary"])
def test_codes_are_stored_and_a_second_run_quantizes_nothing(tmp_path, monkeypatch, precision):
    corpus, (enc,) = synthetic_corpus(40, langs=("de", "en", "zh"), rotate=(), noise=0.6, encoders=1)
    first, emb, spec = _run(corpus, enc, tmp_path, VectorSpec(precision))
    # the same ranks as quantizing on the fly (the kernel and its tie rule unchanged)
    plain = quantized_ranker(spec.vectors, vector_calibration(corpus, emb, spec))
    for r in first:
        q, p = emb.vectors(r.query_positions, "query"), emb.vectors(r.pool_positions, "document")
        assert np.array_equal(r.ranks, plain(q, p, r.gold))
    (folder,) = _code_folders(tmp_path)
    desc = json.loads((folder / "identity.json").read_text())
    assert desc["precision"] == precision and desc["codes_of"].startswith(enc.identity.cache_key("query"))
    calibration = vector_calibration(corpus, emb, spec)
    key = "|".join(enc.identity.cache_key(role) for role in ("query", "document"))
    assert (
        folder.name
        == quantized_key(key, VectorSpec(precision), calibration)
        == codes_key(enc.identity, precision, calibration)
    )
    vecs = [np.load(f, allow_pickle=False) for f in folder.glob("*.vecs.npy")]
    assert vecs and all(v.dtype == (np.int8 if precision == "int8" else np.uint8) for v in vecs)
    assert sum(len(v) for v in vecs) == 80 + 40  # one row per distinct vector: de, zh queries + en pool; en queries

    def refuse(*args, **kwargs):
        raise AssertionError("quantized again instead of read from the cache")

    monkeypatch.setattr(quantized, "quantize", refuse)
    second, _, _ = _run(corpus, enc, tmp_path, VectorSpec(precision))  # a fresh cache object: from disk
    assert all(np.array_equal(a.ranks, b.ranks) for a, b in zip(first, second))
    assert len(_code_folders(tmp_path)) == 1


def test_other_calibrations_and_precisions_get_their_own_codes(tmp_path):
    corpus, (enc,) = synthetic_corpus(30, langs=("de", "en"), rotate=(), encoders=1)
    _run(corpus, enc, tmp_path, VectorSpec("int8"))
    _run(corpus, enc, tmp_path, VectorSpec("ubinary"))
    _run(corpus, enc, tmp_path, VectorSpec("ubinary", rescore=5))  # rescoring reads the same codes
    assert len(_code_folders(tmp_path)) == 2
    spec = EvalSpec(directions=tuple(parse_directions("de-en")), first=10, vectors=VectorSpec("int8"))
    evaluate(corpus, CorpusEmbeddings(corpus, enc, EmbeddingCache(tmp_path)), spec)  # another pool: calibration
    assert len(_code_folders(tmp_path)) == 3


def test_a_damaged_code_shard_is_rebuilt_not_trusted(tmp_path):
    corpus, (enc,) = synthetic_corpus(30, langs=("de", "en"), rotate=(), encoders=1)
    first, _, _ = _run(corpus, enc, tmp_path, VectorSpec("ubinary"))
    (folder,) = _code_folders(tmp_path)
    for f in folder.glob("*.vecs.npy"):
        data = np.load(f, allow_pickle=False)
        np.save(f, np.zeros_like(data), allow_pickle=False)  # all ties if trusted; its checksum no longer matches
    second, _, _ = _run(corpus, enc, tmp_path, VectorSpec("ubinary"))
    assert all(np.array_equal(a.ranks, b.ranks) for a, b in zip(first, second))


def test_the_quantizer_of_the_ranker_is_what_ranks(tmp_path):
    rng = np.random.default_rng(0)
    q, p = rng.standard_normal((6, 16)).astype(np.float32), rng.standard_normal((9, 16)).astype(np.float32)
    gold = np.arange(6)
    calls = []

    def spy(x, precision, ranges=None, *, center=None):
        calls.append(len(x))
        return quantized.quantize(x, precision, ranges, center=center)

    ranks = quantized_ranker(VectorSpec("ubinary"), None, spy)(q, p, gold)
    assert calls == [6, 9] and np.array_equal(ranks, quantized_ranker(VectorSpec("ubinary"), None)(q, p, gold))
