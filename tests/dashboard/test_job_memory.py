"""Dashboard memory: finished jobs release their arrays, the board forgets old jobs, and one cache
index per namespace serves every question (no re-hashing of every shard)."""

from __future__ import annotations

import gc
import weakref

import numpy as np
from test_jobs import GatedEncoder, corpus

from xlr.dashboard.jobs import JobBoard, missing_texts
from xlr.encoders import cache_store
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings


def _finished(board: JobBoard, key: str, emb: CorpusEmbeddings):
    job = board.submit(key, "Encoding", emb, [(np.arange(len(emb.corpus)), "document")])
    job.thread.join(30)
    assert job.state == "done"
    return job


def test_a_finished_job_releases_its_embeddings_and_arrays(tmp_path):
    enc = GatedEncoder()
    enc.gate.set()
    emb = CorpusEmbeddings(corpus(), enc, EmbeddingCache(tmp_path), batch_size=8)
    board = JobBoard(reaper=False)
    job = _finished(board, "k", emb)
    assert job.needs == [] and job.emb is None  # nothing pinned by a finished job
    assert board.submit("k", "Encoding", emb, [(np.arange(40), "document")]) is job  # still one job per key
    alive = weakref.ref(emb)
    del emb
    gc.collect()
    assert alive() is None  # evicted from Streamlit's cache, the vectors can go


def test_the_board_keeps_a_bounded_number_of_finished_jobs(tmp_path):
    enc = GatedEncoder()
    enc.gate.set()
    board = JobBoard(reaper=False, max_finished=3)
    cache = EmbeddingCache(tmp_path)
    embs = [CorpusEmbeddings(corpus(5 + i), enc, cache, batch_size=8) for i in range(6)]
    jobs = [_finished(board, f"k{i}", e) for i, e in enumerate(embs)]
    assert len(board) <= 3
    assert board.get("k5") is jobs[5] and board.get("k0") is None  # the oldest finished are forgotten


def test_missing_texts_reads_each_shard_once(tmp_path, monkeypatch):
    enc = GatedEncoder()
    enc.gate.set()
    cache = EmbeddingCache(tmp_path)
    emb = CorpusEmbeddings(corpus(), enc, cache, batch_size=8)
    texts = emb.corpus.texts(np.arange(40))
    child = EmbeddingCache(tmp_path)  # another process's cache object, say
    child.embed(enc, texts[:20], role="document", batch_size=8)  # 3 shards
    reads = []
    real = cache_store.Namespace._read
    monkeypatch.setattr(cache_store.Namespace, "_read", lambda self, *a: reads.append(a[0]) or real(self, *a))
    assert len(missing_texts(emb, texts, "document")) == 20
    first = len(reads)
    assert len(missing_texts(emb, texts, "document")) == 20
    assert len(reads) == first  # asked again: no shard read (or hashed) again
    child.embed(enc, texts[20:28], role="document", batch_size=8)  # the child commits one more shard
    assert len(missing_texts(emb, texts, "document")) == 12  # seen ...
    assert len(reads) == first + 1  # ... by reading only the new shard
    assert first == 3
