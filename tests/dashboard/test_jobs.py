"""Background encoding jobs (fast tier): progress, cancel at a batch, resume from the cache, per-object locks.

The encoder is a small deterministic :class:`BatchEncoder` whose batches wait on an event,
so the test decides when each batch may finish (no timing assumptions).
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from xlr.dashboard.jobs import JobBoard, missing_texts
from xlr.dashboard.rates import RateBook, bucket
from xlr.dashboard.state import Settings, encoder_from_key, ids_phrase, initial_settings, settings_params
from xlr.data.records import Corpus, Document
from xlr.encoders.base import BatchEncoder, EncoderIdentity
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings


class GatedEncoder(BatchEncoder):
    """Encodes a text as its length one-hot; each batch waits until ``gate`` is set."""

    def __init__(self) -> None:
        self.identity = EncoderIdentity("gated", "test", "1", "none", True, 8)
        self.gate = threading.Event()
        self.entered = threading.Event()  # set when a batch starts waiting at the gate
        self.batches = 0

    def _encode_batch(self, texts: list[str], role: str) -> np.ndarray:
        self.entered.set()
        assert self.gate.wait(30), "the test never opened the gate"
        self.batches += 1
        out = np.zeros((len(texts), 8), dtype=np.float32)
        out[np.arange(len(texts)), [len(t) % 8 for t in texts]] = 1
        return out


def corpus(n: int = 40) -> Corpus:
    return Corpus("c", [Document(f"i{i}", "en", "", "x" * (i + 1)) for i in range(n)])


def test_job_reports_progress_and_finishes(tmp_path):
    enc = GatedEncoder()
    emb = CorpusEmbeddings(corpus(), enc, EmbeddingCache(tmp_path), batch_size=4)
    board = JobBoard()
    enc.gate.set()
    job = board.submit("k", "Encoding", emb, [(np.arange(40), "document")])
    job.thread.join(30)
    snap = job.snapshot()
    assert (snap.state, snap.done, snap.total, snap.fraction) == ("done", 40, 40, 1.0)
    assert "40 of 40 texts" in snap.text()
    assert board.submit("k", "Encoding", emb, [(np.arange(40), "document")]) is job  # one job per key
    rebuilt = CorpusEmbeddings(corpus(), enc, EmbeddingCache(tmp_path), batch_size=4)  # e.g. after an eviction
    fresh = board.submit("k", "Encoding", rebuilt, [(np.arange(40), "document")])
    fresh.thread.join(30)
    assert fresh is not job and fresh.state == "done" and enc.batches == 10  # read back from the cache


def test_cancel_stops_at_the_next_batch_and_resume_reuses_the_cache(tmp_path):
    enc = GatedEncoder()
    cache = EmbeddingCache(tmp_path)
    emb = CorpusEmbeddings(corpus(), enc, cache, batch_size=4)
    board = JobBoard()
    job = board.submit("k", "Encoding", emb, [(np.arange(40), "document")])
    assert enc.entered.wait(30)  # the first batch is under way
    job.cancel()
    enc.gate.set()  # the first batch finishes and is committed; its progress callback sees the cancel
    job.thread.join(30)
    assert job.state == "cancelled" and job.done == 4 and enc.batches == 1
    kept = 40 - len(missing_texts(emb, emb.corpus.texts(np.arange(40)), "document"))
    assert kept == 4
    enc.gate.clear()  # the resumed job waits at its first batch: what does its bar say before it?
    again = board.restart(job)
    assert again is not job and board.current(job) is again
    deadline = time.monotonic() + 30
    while again.snapshot().done < kept and time.monotonic() < deadline:
        again.thread.join(0.01)
    assert again.snapshot().done == kept and again.state == "running"  # it starts from the kept texts, not 0
    enc.gate.set()
    again.thread.join(30)
    assert again.snapshot().done == 40
    assert again.state == "done"
    expected = CorpusEmbeddings(corpus(), GatedEncoder(), EmbeddingCache(tmp_path / "ref"))
    expected.encoder.gate.set()
    np.testing.assert_array_equal(emb.vectors(np.arange(40), "document"), expected.vectors(np.arange(40), "document"))


def test_locks_are_per_embeddings_object(tmp_path):
    board = JobBoard()
    a = CorpusEmbeddings(corpus(), GatedEncoder(), EmbeddingCache(tmp_path))
    b = CorpusEmbeddings(corpus(), GatedEncoder(), EmbeddingCache(tmp_path))
    assert board.lock_for(a) is board.lock_for(a) and board.lock_for(a) is not board.lock_for(b)
    # a running job on `a` holds a's lock only: b's lock stays free for readers
    job = board.submit("a", "Encoding", a, [(np.arange(40), "document")])
    assert board.lock_for(b).acquire(timeout=5)
    board.lock_for(b).release()
    a.encoder.gate.set()
    job.thread.join(30)
    assert job.state == "done"


def test_failed_job_says_why(tmp_path):
    class Broken(GatedEncoder):
        def _encode_batch(self, texts, role):
            raise RuntimeError("model file truncated")

    emb = CorpusEmbeddings(corpus(), Broken(), EmbeddingCache(tmp_path))
    job = JobBoard().submit("k", "Encoding", emb, [(np.arange(3), "document")])
    job.thread.join(30)
    assert job.snapshot().state == "failed" and "model file truncated" in job.snapshot().error


def test_a_small_corpus_is_not_described_as_first_n():
    from xlr.retrieval.directions import Direction
    from xlr.retrieval.evaluate import EvalSpec

    docs = [Document(f"i{i}", lang, "", f"{lang} {i}") for i in range(3) for lang in ("en", "de")]
    small = Corpus("small", docs)
    assert ids_phrase(small, EvalSpec((Direction("de", "en"),), (1,), 50)) == "all linked ids"
    assert ids_phrase(small, EvalSpec((Direction("de", "en"),), (1,), 2)) == "first 2 linked ids"


def test_settings_round_trip_through_the_url():
    for s in (
        Settings("tatoeba", ("e5-small", "use-m3"), (1, 10), "all", (), 20, False),
        Settings("xquad", ("use-m3",), (5,), "custom", ("ar->en", "zh->de"), None, True),
        Settings("tatoeba", ("labse",), (1,), "to-en", (), 50, False, "cuda:1", "fp16"),
    ):
        params = settings_params(s)
        back, warnings = initial_settings({}, params, "wiki6")
        assert back == s and warnings == []
    assert "device" not in settings_params(Settings("tatoeba"))  # defaults stay out of the URL


def test_device_and_precision_from_the_url_or_xlr_device():
    s, warnings = initial_settings({"XLR_DEVICE": "CPU"}, {}, "tatoeba")
    assert (s.device, s.precision, warnings) == ("cpu", "fp32", [])
    s, _ = initial_settings({"XLR_DEVICE": "cpu"}, {"device": "mps", "precision": "bf16"}, "tatoeba")
    assert (s.device, s.precision) == ("mps", "bf16")  # the link wins over the environment
    s, warnings = initial_settings({"XLR_DEVICE": "tpu"}, {"precision": "fp8"}, "tatoeba")
    assert (s.device, s.precision) == ("auto", "fp32")
    assert warnings == [
        "XLR_DEVICE must be auto, cpu, cuda, cuda:N or mps, got 'tpu'",
        "query parameter 'precision' must be one of fp32, fp16, bf16, int8, got 'fp8'",  # int8: onnx/openvino
    ]


def test_encoder_keys_carry_the_runtime(monkeypatch):
    from xlr.dashboard.state import encoder_from_key, encoder_key, split_key
    from xlr.encoders.catalogue import CATALOGUE, EncoderCard
    from xlr.encoders.device import DeviceUnavailable, Runtime

    assert encoder_key("e5-small") == "e5-small"  # auto/fp32: the plain name (keys written before stay valid)
    key = encoder_key("st:/models/my model", "cuda:1", "fp16")
    assert key == "st:/models/my model | cuda:1/fp16"
    assert split_key(key) == ("st:/models/my model", Runtime("cuda:1", "fp16"))
    assert split_key("e5-small") == ("e5-small", Runtime())
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        split_key("e5-small | tpu/fp32")
    gated = GatedEncoder()
    monkeypatch.setitem(CATALOGUE, "gated", EncoderCard("gated", "test", lambda _c: gated, needs="bundled"))
    assert encoder_from_key("gated | cpu/fp32") is gated  # an encoder without runtimes accepts the defaults
    with pytest.raises(DeviceUnavailable, match="gated does not take"):
        encoder_from_key("gated | cpu/fp16")
    with pytest.raises(DeviceUnavailable, match="gated does not take"):
        encoder_from_key("gated | cuda/fp32")
    # a CPU-only engine asked for a GPU keeps to the CPU in fp32 (its vectors are the same there) ...
    gated.cpu_only = True
    assert encoder_from_key("gated | cuda/fp32") is gated
    with pytest.raises(DeviceUnavailable, match="gated does not take"):  # ... but never computes in fp16
        encoder_from_key("gated | cuda/fp16")


@pytest.mark.slow
def test_process_job_encodes_in_a_child_and_cancel_kills_it(tmp_path, e5):
    texts = [f"sentence number {i} about the weather in town {i % 7}" for i in range(400)]
    big = Corpus("c", [Document(f"i{i}", "en", "", t) for i, t in enumerate(texts)])
    emb = CorpusEmbeddings(big, e5, EmbeddingCache(tmp_path))
    board = JobBoard(RateBook(tmp_path / "rates.json"))
    job = board.submit("k", "Encoding", emb, [(np.arange(400), "document")], encoder_name="e5-small")
    while job.process is None and job.state == "running":
        job.thread.join(0.05)
    job.cancel()
    job.thread.join(60)
    assert job.state == "cancelled" and job.process.exitcode is not None and job.process.exitcode != 0
    # a job of several batches afterwards: all of it is encoded in the child (the server's own encoder never
    # loads its model), read back through the disk cache, equal to direct encoding
    key = "e5-small | cpu/fp32"  # the sidebar's device and precision travel to the child in the key
    assert encoder_from_key("e5-small | cuda/fp32").identity == encoder_from_key(key).identity  # CPU-only engine
    server_side = encoder_from_key(key)
    emb = CorpusEmbeddings(big, server_side, EmbeddingCache(tmp_path))
    small = board.submit("s", "Encoding", emb, [(np.arange(100), "query")], encoder_name=key)
    small.thread.join(240)
    assert small.state == "done" and small.process is not None and small.process.exitcode == 0
    assert not server_side.loaded
    # the child's start-up (interpreter, imports, model) is booked apart from its encoding (issue 19)
    assert board.rates is not None and board.rates.startup(key) > 0
    assert board.rates.rate(key, bucket(texts[0])) is not None
    np.testing.assert_allclose(emb.vectors(np.arange(100), "query"), e5.encode(texts[:100], role="query"), atol=1e-5)


@pytest.mark.slow
def test_an_encoding_child_does_not_rerun_the_page_script(tmp_path, monkeypatch):
    """Streamlit runs a page as ``__main__`` with a ``__file__``: a spawn child would re-run it (drawing the
    page and starting jobs of its own) unless the job starts it without the main module."""
    import multiprocessing as mp
    import sys
    import types

    from xlr.dashboard.child import start_without_main

    marker = tmp_path / "page-ran"
    page = tmp_path / "page.py"
    page.write_text(f"open({str(marker)!r}, 'w').close()\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    proc = mp.get_context("spawn").Process(target=print, args=("child ran",), daemon=True)
    start_without_main(proc)
    proc.join(60)
    assert proc.exitcode == 0 and not marker.exists()
    assert fake_main.__spec__ is None  # put back


def test_a_job_nobody_watches_stops_after_the_grace_period_unless_kept(tmp_path):
    """Fake clock: a job whose page stopped refreshing (tab closed) is cancelled after ``grace`` seconds,
    resumably (what was encoded stays cached); one started as *keep running* goes on."""
    now = [0.0]
    board = JobBoard(grace=60, clock=lambda: now[0], reaper=False)
    enc = GatedEncoder()
    emb = CorpusEmbeddings(corpus(), enc, EmbeddingCache(tmp_path), batch_size=4)
    job = board.submit("k", "Encoding", emb, [(np.arange(40), "document")])
    kept = board.submit("kept", "Encoding", emb, [(np.arange(20), "query")], keep_running=True)
    assert enc.entered.wait(30)
    now[0] = 50.0
    board.watch(job)  # the page refreshes its progress bar: still watched
    now[0] = 100.0
    assert board.reap() == []
    now[0] = 111.0  # 61 s after the last refresh
    assert board.reap() == [job]
    enc.gate.set()
    job.thread.join(30)
    kept.thread.join(30)
    snap = job.snapshot()
    assert snap.state == "cancelled" and "no page watched it for 60 s" in snap.text() + snap.error
    assert kept.state == "done"
    resumed = board.restart(job)
    resumed.thread.join(30)
    assert resumed.state == "done"


def test_roles_that_share_a_cache_count_and_book_their_texts_once(tmp_path):
    """Issue 19 (bench/strategies_estimate.py): e5-small puts one prefix on both roles, so its queries
    and documents share a cache; a job needing the same texts in both roles encoded them once, yet the
    estimate counted them twice and the rate book booked them twice (the second time in no time), so
    the Strategies estimate came out 2.6 times the measured time."""
    from xlr.dashboard.jobs import texts_to_encode

    enc = GatedEncoder()  # prefix_mode "none": one namespace for both roles
    enc.gate.set()
    emb = CorpusEmbeddings(corpus(), enc, EmbeddingCache(tmp_path), batch_size=4)
    both = [(np.arange(40), "query"), (np.arange(40), "document")]

    def counts(emb):  # (texts needed, missing, processes a job starts)
        needed, missing, starts = texts_to_encode(emb, both)
        return needed, len(missing), starts

    assert counts(emb) == (40, 40, 1)
    board = JobBoard(RateBook(tmp_path / "rates.json"))
    job = board.submit("k", "Encoding", emb, both)
    job.thread.join(30)
    assert job.state == "done" and enc.batches == 10
    assert board.rates is not None and board.rates._data["gated"][bucket("x")][0] == 40
    assert counts(emb) == (40, 0, 0)

    asym = GatedEncoder()
    asym.identity = EncoderIdentity("asym", "test", "1", "asymmetric", True, 8)
    emb2 = CorpusEmbeddings(corpus(), asym, EmbeddingCache(tmp_path), batch_size=4)
    assert counts(emb2) == (80, 80, 2)  # two prefixes: two namespaces
