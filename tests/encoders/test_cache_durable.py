"""The cache commits each batch, can be cancelled, sweeps orphans and repairs itself (fast tier).

The encoder here is ``HashEncoder`` (a deterministic vector per text): what is tested is the
cache's bookkeeping on real files, not a model.  Real processes and kill -9 are in
``test_cache_processes.py`` (slow tier).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from strategy_fakes import HashEncoder

from xlr.encoders.base import EncodingCancelled
from xlr.encoders.cache import CacheRepairWarning, EmbeddingCache

TEXTS = [f"sentence number {i} " + "x" * (i % 7) for i in range(50)]


class Counting(HashEncoder):
    def __init__(self) -> None:
        super().__init__("hash", 8)
        self.n = 0

    def _encode_batch(self, texts, role):
        self.n += len(texts)
        return super()._encode_batch(texts, role)


def _namespace(root):
    (ns,) = [p for p in root.iterdir() if p.is_dir()]
    return ns


def test_each_batch_is_committed_and_a_cancel_keeps_them(tmp_path):
    enc = Counting()
    seen = []

    def progress(done, total):
        seen.append(done)
        if done >= 20:
            raise EncodingCancelled

    with pytest.raises(EncodingCancelled):
        EmbeddingCache(tmp_path).embed(enc, TEXTS, batch_size=10, progress=progress)
    assert seen == [10, 20] and enc.n == 20
    assert len(list(_namespace(tmp_path).glob("*.json"))) == 1 + 2  # identity + one shard per batch
    again = Counting()
    vecs, stats = EmbeddingCache(tmp_path).embed(again, TEXTS, batch_size=10)
    assert (stats.encoded, stats.cached, again.n) == (30, 20, 30)
    np.testing.assert_array_equal(vecs, HashEncoder("hash", 8).encode(TEXTS))


def test_many_batches_compact_without_losing_a_vector(tmp_path):
    enc = Counting()
    vecs, _ = EmbeddingCache(tmp_path).embed(enc, TEXTS, batch_size=1)  # 50 one-text shards
    shards = list(_namespace(tmp_path).glob("*.vecs.npy"))
    assert len(shards) < 16
    fresh, stats = EmbeddingCache(tmp_path).embed(Counting(), TEXTS)
    assert stats.encoded == 0
    np.testing.assert_array_equal(fresh, vecs)


def test_orphans_of_a_killed_writer_are_swept(tmp_path):
    EmbeddingCache(tmp_path).embed(Counting(), TEXTS[:5])
    ns = _namespace(tmp_path)
    stem = "deadbeef" * 4  # names the cache writes (uuid4 hex); others are never deleted (test_cache_safety.py)
    orphans = [ns / f".{stem}.vecs.npy.123.tmp", ns / f"{stem}.keys.npy", ns / f"{stem}.vecs.npy"]
    for p in orphans:
        p.write_bytes(b"half written")
    _, stats = EmbeddingCache(tmp_path).embed(Counting(), TEXTS[:6])
    assert stats.encoded == 1 and stats.cached == 5
    assert not any(p.exists() for p in orphans)


def test_a_shard_json_that_is_a_directory_is_removed(tmp_path):
    EmbeddingCache(tmp_path).embed(Counting(), TEXTS[:5])
    ns = _namespace(tmp_path)
    (shard,) = [p for p in ns.glob("*.json") if p.name != "identity.json"]
    shard.unlink()
    shard.mkdir()
    (shard / "inside").write_text("junk")
    with pytest.warns(CacheRepairWarning, match="is a folder where a shard description"):
        vecs, stats = EmbeddingCache(tmp_path).embed(Counting(), TEXTS[:5])
    assert stats.encoded == 5 and not shard.is_dir()
    np.testing.assert_array_equal(vecs, HashEncoder("hash", 8).encode(TEXTS[:5]))


def test_a_cache_root_that_is_a_file_is_bypassed_and_kept(tmp_path):
    root = tmp_path / "cache"
    root.write_text("the user's file")
    with pytest.warns(CacheRepairWarning, match=f"cache root {root} is a file"):
        vecs, stats = EmbeddingCache(root).embed(Counting(), TEXTS[:4])
    assert stats.encoded == 4 and stats.written is False
    assert root.read_text() == "the user's file"  # nothing the user had is lost
    np.testing.assert_array_equal(vecs, HashEncoder("hash", 8).encode(TEXTS[:4]))
    assert "not written" in stats.summary()


def test_a_namespace_that_is_a_file_is_replaced(tmp_path):
    enc = Counting()
    (tmp_path / enc.identity.cache_key("document")).write_text("junk")
    with pytest.warns(CacheRepairWarning, match="where a cache folder belongs"):
        _, stats = EmbeddingCache(tmp_path).embed(enc, TEXTS[:3])
    assert stats.written and _namespace(tmp_path).is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions; the slow tier mounts it read-only")
def test_a_read_only_cache_encodes_in_memory(tmp_path):
    EmbeddingCache(tmp_path).embed(Counting(), TEXTS[:3])
    ns = _namespace(tmp_path)
    before = sorted(p.name for p in ns.iterdir())
    ns.chmod(0o555)
    try:
        with pytest.warns(CacheRepairWarning, match=f"{ns} is read-only"):
            vecs, stats = EmbeddingCache(tmp_path).embed(Counting(), TEXTS[:5])
    finally:
        ns.chmod(0o755)
    assert (stats.encoded, stats.cached, stats.written) == (2, 3, False)
    assert sorted(p.name for p in ns.iterdir()) == before
    np.testing.assert_array_equal(vecs, HashEncoder("hash", 8).encode(TEXTS[:5]))


def test_threads_sharing_one_cache_encode_each_text_once(tmp_path):
    """Dashboard jobs are threads sharing one EmbeddingCache: they take turns per namespace."""
    import threading

    enc = Counting()
    cache = EmbeddingCache(tmp_path)
    out: list[np.ndarray] = []

    def job(texts):
        out.append(cache.embed(enc, texts, batch_size=5)[0])

    threads = [threading.Thread(target=job, args=(TEXTS[i:] + TEXTS[:i],)) for i in (0, 10, 20, 30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert enc.n == len(TEXTS) and len(out) == 4


def test_missing_lists_every_uncached_text_as_given(tmp_path):
    """``missing`` names what ``embed`` would encode: all of it (not one batch), each text once, as given."""

    class Cutting(Counting):
        def _cut(self, text):
            return text[:30]

    enc = Cutting()
    tail = TEXTS[0] + " and a tail past the cut" * 3
    texts = TEXTS + TEXTS[:5] + [tail, tail[:30]]
    EmbeddingCache(tmp_path).embed(enc, TEXTS[:10], batch_size=4)
    missing = EmbeddingCache(tmp_path).missing(enc, texts)
    cached, expect, seen = {t[:30] for t in TEXTS[:10]}, [], set()  # naive reference
    for t in texts:
        if t[:30] not in cached and t[:30] not in seen:
            seen.add(t[:30])
            expect.append(t)
    assert missing == expect and tail in missing and tail[:30] not in missing
    assert len(missing) == 41 > 32  # more than one batch of the default size
    assert enc.n == 10  # looking up encodes nothing
    EmbeddingCache(tmp_path).embed(enc, missing)
    assert EmbeddingCache(tmp_path).missing(enc, texts) == []


def test_a_waiting_writer_gets_the_lock_before_one_that_asks_again(tmp_path):
    """Fair hand-over: a long job releasing the lock after each batch and asking again at once queues
    behind a short job that was already waiting (else the short job can wait for the whole long one)."""
    import threading

    from xlr.encoders.cache_store import Namespace

    ns = Namespace(tmp_path, 8, True)
    order: list[str] = []
    at_lock = threading.Event()

    def short_job() -> None:
        token = ns.acquire(waiting=at_lock.set, poll=0.01)
        order.append("short")
        ns.release(token)

    long_job = ns.acquire()
    thread = threading.Thread(target=short_job)
    thread.start()
    assert at_lock.wait(10)  # the short job waits for the lock (and holds the gate)
    ns.release(long_job)
    token = ns.acquire(poll=0.01)  # the long job's next batch
    order.append("long")
    ns.release(token)
    thread.join(10)
    assert order == ["short", "long"]
