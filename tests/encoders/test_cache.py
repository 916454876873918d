from __future__ import annotations

import numpy as np
import pytest

from xlr.encoders.cache import EmbeddingCache


class Counting:
    """A real encoder, with every text it is asked to encode recorded."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.identity = encoder.identity
        self.seen: list[str] = []

    def encode(self, texts, **kw):
        self.seen.extend(texts)
        return self.encoder.encode(texts, **kw)


TEXTS = [
    "The cat sleeps.",
    "Le chat dort.",
    "Η γάτα κοιμάται.",
    "猫在睡觉。",
    "القط نائم.",
]


@pytest.fixture
def enc(use_m3):
    return Counting(use_m3)


def test_incremental_and_persistent(tmp_path, enc):
    cache = EmbeddingCache(tmp_path)
    v1, s1 = cache.embed(enc, TEXTS[:3] + TEXTS[:1])
    assert (s1.encoded, s1.cached) == (3, 0)
    assert sorted(enc.seen) == sorted(TEXTS[:3])  # the duplicate is encoded once (longest first)
    np.testing.assert_array_equal(v1[0], v1[3])
    np.testing.assert_allclose(v1[:3], enc.encoder.encode(TEXTS[:3]), atol=1e-5)

    v2, s2 = cache.embed(enc, TEXTS)
    assert (s2.encoded, s2.cached) == (2, 3)
    assert sorted(enc.seen[3:]) == sorted(TEXTS[3:])  # only the new texts
    np.testing.assert_array_equal(v2[:3], v1[:3])

    fresh = Counting(enc.encoder)  # a new process: everything from disk
    v3, s3 = EmbeddingCache(tmp_path).embed(fresh, list(reversed(TEXTS)))
    assert (s3.encoded, s3.cached) == (0, 5) and fresh.seen == []
    np.testing.assert_array_equal(v3, v2[::-1])
    assert v3.dtype == np.float32


def test_files_are_plain_npy_without_pickle(tmp_path, enc):
    EmbeddingCache(tmp_path).embed(enc, TEXTS)
    (ns,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    vecs = list(ns.glob("*.vecs.npy"))
    assert len(vecs) == 1 and not list(ns.glob(".*.tmp"))
    arr = np.load(vecs[0], allow_pickle=False)
    assert arr.dtype == np.float32 and arr.shape == (5, 512)
    assert (ns / "identity.json").read_text().count('"use-m3"') == 1


@pytest.mark.parametrize("damage", ["truncate", "flip", "drop-meta", "garbage-meta"])
def test_corrupt_shard_is_detected_and_rebuilt(tmp_path, enc, damage):
    good, _ = EmbeddingCache(tmp_path).embed(enc, TEXTS)
    (ns,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (vec_file,) = ns.glob("*.vecs.npy")
    meta = vec_file.with_name(vec_file.name.replace(".vecs.npy", ".json"))
    raw = vec_file.read_bytes()
    if damage == "truncate":
        vec_file.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        vec_file.write_bytes(raw[:-7] + bytes([raw[-7] ^ 0xFF]) + raw[-6:])
    elif damage == "drop-meta":
        meta.unlink()  # a crash before the shard was committed
    else:
        meta.write_text("{not json")
    fresh = Counting(enc.encoder)
    vecs, stats = EmbeddingCache(tmp_path).embed(fresh, TEXTS)
    assert stats.encoded == 5 and sorted(fresh.seen) == sorted(TEXTS)
    assert stats.rebuilt_shards == (0 if damage == "drop-meta" else 1)
    np.testing.assert_allclose(vecs, good, atol=1e-5)
    # the rebuilt cache serves the next run entirely
    again, s = EmbeddingCache(tmp_path).embed(Counting(enc.encoder), TEXTS)
    assert s.encoded == 0 and s.rebuilt_shards == 0


def test_compaction_keeps_every_vector(tmp_path, enc):
    cache = EmbeddingCache(tmp_path)
    words = [f"word number {i}" for i in range(40)]
    for i in range(0, 40, 2):  # 20 writes -> compacted at 16 shards
        cache.embed(enc, words[i : i + 2])
    (ns,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(list(ns.glob("*.vecs.npy"))) < 16
    vecs, stats = EmbeddingCache(tmp_path).embed(Counting(enc.encoder), words)
    assert stats.encoded == 0
    np.testing.assert_allclose(vecs, enc.encoder.encode(words), atol=1e-5)


def test_identity_separates_prefix_modes(tmp_path, e5):
    from xlr.encoders.registry import load_encoder

    asym = load_encoder("e5-small-asym")
    # symmetric e5: queries and documents share one namespace; asymmetric: two
    assert e5.identity.cache_key("query") == e5.identity.cache_key("document")
    assert asym.identity.cache_key("query") != asym.identity.cache_key("document")
    assert asym.identity.cache_key("query") != e5.identity.cache_key("query")
    cache = EmbeddingCache(tmp_path)
    q, _ = cache.embed(asym, ["How tall is the tower?"], role="query")
    d, s = cache.embed(asym, ["How tall is the tower?"], role="document")
    assert s.encoded == 1 and not np.allclose(q, d)
