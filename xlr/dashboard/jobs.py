"""Background encoding jobs: one thread per (data set, encoder, text field, documents), with progress and cancel.

No streamlit here: the dashboard keeps one :class:`JobBoard` per server process
(``st.cache_resource``) and draws a job's :meth:`Job.snapshot` as a progress bar.

With ``encoder_name`` (the dashboard), the texts the disk cache lacks are encoded in a
*child process* (``spawn``; its own interpreter, so the server's threads never wait for
the GIL), ``chunk`` texts per cache commit; Cancel terminates that process (chunks
already committed stay, so a later job resumes). The job then reads the vectors from
the disk cache into its :class:`~xlr.encoders.corpus_vectors.CorpusEmbeddings` in
chunks under that object's own lock (one lock per embeddings object, never one per
process). Without ``encoder_name`` the encoding happens in the job's thread, where
Cancel stops at the next batch (the progress callback raises :class:`EncodingStopped`).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import threading
import time
import weakref
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

from xlr.dashboard.child import ChildFailed, encode_worker, start_without_main
from xlr.dashboard.rates import RateBook, duration_text, rate_text
from xlr.encoders.base import Progress, Role
from xlr.encoders.corpus_vectors import CorpusEmbeddings

__all__ = ["GRACE", "EncodingStopped", "Job", "JobBoard", "JobSnapshot", "encode_worker"]
__all__ += ["missing_texts", "texts_to_encode"]

_LOG = logging.getLogger(__name__)
CHUNK = 64
LONG = 2000
"""A job with more texts than this to encode runs its child at a lower CPU priority (``nice`` +10): long
encodings yield the cores to the pages and to short jobs of other sessions (measured in
``bench/README.md``: a second session's first table, 10.5 s alone, took 122 s beside a full-Tatoeba job
at equal priority)."""


GRACE = 60.0
"""Seconds a running job goes on after the last page showing it stopped refreshing (a closed tab)."""
REAP_EVERY = 5.0
MAX_FINISHED = 16
"""Finished jobs a board remembers (the most recent; like the dashboard's 16 cached embeddings objects)."""


class EncodingStopped(RuntimeError):
    """Raised inside the encoder's progress callback when the job was cancelled."""


@dataclass(frozen=True)
class JobSnapshot:
    """What a progress bar shows: ``done`` of ``total`` texts, ``rate`` texts/s, ``eta`` s (``None``: unknown).

    ``state``: ``running``, ``done``, ``cancelled`` or ``failed`` (``error`` says why).
    """

    label: str
    state: str
    done: int
    total: int
    rate: float | None
    eta: float | None
    error: str = ""

    @property
    def fraction(self) -> float:
        return min(self.done / self.total, 1.0) if self.total else 1.0

    def text(self) -> str:
        """``Encoding …: 120 of 400 texts · 35 texts/s · about 8 s left``."""
        parts = [f"{self.label}: {self.done} of {self.total} texts", rate_text(self.rate)]
        if self.eta is not None:
            parts.append(f"{duration_text(self.eta)} left")
        return " · ".join(parts)


class Job:
    """One background encoding; created by :meth:`JobBoard.submit`."""

    def __init__(
        self,
        label: str,
        emb: CorpusEmbeddings,
        lock: threading.Lock,
        needs: Sequence[tuple[np.ndarray, Role]],
        chunk: int = CHUNK,
        encoder_name: str = "",
        rates: RateBook | None = None,
        on_finish: Callable[[Job], None] | None = None,
    ) -> None:
        self.label, self.lock, self.chunk = label, lock, chunk
        self.emb: CorpusEmbeddings | None = emb
        """The embeddings it fills; ``None`` once done (a finished job pins no vectors)."""
        self._emb_ref = weakref.ref(emb)
        self._on_finish = on_finish
        self.finished_at = 0.0
        self.encoder_name, self.rates = encoder_name, rates
        self.keep_running = False
        """``True``: the job goes on when no session watches it (:meth:`JobBoard.reap` leaves it alone)."""
        self.watched_at = 0.0
        self.stop_reason = ""
        self.process: mp.process.BaseProcess | None = None
        self.key: Hashable = None
        self.needs = [(np.unique(np.asarray(p, dtype=np.int64)), r) for p, r in needs]
        self.total = int(sum(p.size for p, _ in self.needs))
        self.done, self.state, self.error = 0, "running", ""
        self.cancel_event = threading.Event()
        self._encoded, self._last, self._started = 0, 0, time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"xlr-encode {label}", daemon=True)

    def cancel(self) -> None:
        self.cancel_event.set()

    def embeddings(self) -> CorpusEmbeddings | None:
        """The embeddings this job filled while anything else still holds them (``None`` after)."""
        return self.emb if self.emb is not None else self._emb_ref()

    def _finish(self) -> None:
        """A done job drops its arrays and embeddings (they live on only where a page keeps them); a
        cancelled or failed one keeps them for Resume. The board then forgets the oldest finished jobs."""
        if self.state == "done":
            self.emb, self.needs = None, []
        self.finished_at = time.monotonic()
        if self._on_finish is not None:
            self._on_finish(self)

    def snapshot(self) -> JobSnapshot:
        elapsed = max(time.monotonic() - self._started, 1e-9)
        rate = self._encoded / elapsed if self._encoded else None
        eta = (self.total - self.done) / rate if rate and self.state == "running" else None
        return JobSnapshot(self.label, self.state, self.done, self.total, rate, eta, self.error or self.stop_reason)

    def _progress(self, base: int) -> Progress:
        def progress(done: int, total: int) -> None:
            self.done = max(self.done, min(base + done, self.total))  # never behind the texts found cached
            self._encoded += 0 if done <= self._last else done - self._last
            self._last = done
            if self.cancel_event.is_set():
                raise EncodingStopped(f"{self.label}: cancelled")

        return progress

    def _run(self) -> None:
        emb = self.emb
        assert emb is not None  # a job runs once, before it finishes
        try:
            lacking = 0
            for positions, role in self.needs:
                texts = emb.corpus.texts(positions, field=emb.text_field)
                absent = set(missing_texts(emb, texts, role))
                lacking += sum(t in absent for t in texts)
            self.done = self.total - lacking  # a resumed job starts where the cancelled one stopped
            for positions, role in self.needs:
                began, encoding = time.monotonic(), None
                texts = emb.corpus.texts(positions, field=emb.text_field)
                missing = missing_texts(emb, texts, role)  # not those an earlier role of one namespace encoded
                if missing and self.encoder_name and _loadable(emb):
                    try:
                        encoding = self._encode_elsewhere(emb, missing, role, self.done)
                    except ChildFailed as exc:  # e.g. an encoder registered at run time only: encode here
                        _LOG.warning("%s; encoding in the server process instead", exc)
                    with self.lock:  # the child wrote the disk cache: index its new shards (only those)
                        emb.cache.refresh(emb.encoder, role)
                for start in range(0, positions.size, self.chunk):
                    if self.cancel_event.is_set():
                        raise EncodingStopped(f"{self.label}: cancelled")
                    with self.lock:
                        self._last = 0
                        emb.progress = self._progress(self.done)
                        try:
                            emb.ensure(positions[start : start + self.chunk], role)
                        finally:
                            emb.progress = None
                if missing and self.rates is not None:  # refine the rate of this encoder on such texts
                    took = time.monotonic() - began  # a child's start-up and the read-back are booked apart:
                    rest = None if encoding is None else max(took - encoding, 0.0)
                    self.rates.record(self.encoder_name or emb.encoder.identity.name, missing, encoding or took, rest)
            self.done, self.state = self.total, "done"
        except EncodingStopped:
            self.state = "cancelled"
        except Exception as exc:  # noqa: BLE001 - any failure ends the job; the page shows it, the log has it
            _LOG.exception("encoding job %s failed", self.label)
            self.state, self.error = "failed", " ".join(str(exc).split()) or type(exc).__name__
        finally:
            self._finish()

    def _encode_elsewhere(self, emb: CorpusEmbeddings, texts: list[str], role: Role, base: int) -> float | None:
        """Encode ``texts`` in a child process (its own interpreter: the server's threads keep the GIL),
        committing every ``chunk`` texts to the disk cache; cancel terminates the child. Returns the
        seconds the child encoded (from its encoder loaded to its end), ``None`` if it never said."""
        ctx = mp.get_context("spawn")
        done, ready = ctx.Value("q", 0), ctx.Value("d", 0.0)
        spawned = time.time()  # wall clock: the child's ``ready`` is another process's reading of it
        proc = ctx.Process(
            target=encode_worker,
            args=(self.encoder_name, str(emb.cache.root), texts, role, self.chunk, emb.batch_size, done),
            kwargs={"nice": 10 if len(texts) > LONG else 0, "ready": ready},
            name=f"xlr-encode {self.label}",
            daemon=True,
        )
        start_without_main(proc)
        self.process = proc
        started = time.monotonic()
        while proc.is_alive():
            proc.join(timeout=0.2)
            with done.get_lock():
                n = int(done.value)
            self.done, self._encoded = max(self.done, min(base + n, self.total)), n
            self._started = started
            if self.cancel_event.is_set():
                proc.terminate()
                proc.join(10)
                raise EncodingStopped(f"{self.label}: cancelled")
        if proc.exitcode != 0:
            raise ChildFailed(f"{self.label}: the encoding process exited with code {proc.exitcode}")
        return max(time.time() - ready.value, 0.0) if ready.value >= spawned else None


def _loadable(emb: CorpusEmbeddings) -> bool:
    """Whether a fresh interpreter can load this encoder by name: xlr's own backends can; an encoder object
    made at run time elsewhere (a test double, a notebook class) cannot, and is run in the job's thread."""
    return type(emb.encoder).__module__.startswith("xlr.")


def texts_to_encode(emb: CorpusEmbeddings, needs: Sequence[tuple[np.ndarray, Role]]) -> tuple[int, list[str], int]:
    """(how many distinct texts ``needs`` asks of ``emb``, those the cache lacks, the encoding processes a
    job would start).

    Counted per cache namespace: roles with one prefix (e5-small's ``query:`` on both) share one, so a text
    needed as a query and as a document is one text, encoded once by one process."""
    wanted: dict[str, set[str]] = {}
    lacking: dict[str, dict[str, None]] = {}
    for positions, role in needs:
        texts = emb.corpus.texts(positions, field=emb.text_field)
        ns = emb.encoder.identity.cache_key(role)
        wanted.setdefault(ns, set()).update(texts)
        lacking.setdefault(ns, {}).update(dict.fromkeys(missing_texts(emb, texts, role)))
    missing = [t for m in lacking.values() for t in m]
    return sum(map(len, wanted.values())), missing, sum(1 for m in lacking.values() if m)


def missing_texts(emb: CorpusEmbeddings, texts: list[str], role: Role) -> list[str]:
    """The distinct ``texts`` the disk cache lacks for ``emb``'s encoder and ``role`` (nothing is encoded).

    Asked of ``emb``'s own cache object (the dashboard shares one per cache folder), whose index per
    namespace is brought up to date by reading only the shards published since it last looked."""
    return emb.cache.missing(emb.encoder, texts, role=role)


class JobBoard:
    """The server's jobs by key; at most one live job per key.

    ``submit`` returns the existing job of a key unless it ended cancelled or failed and
    ``restart`` is true, or it filled another embeddings object (evicted from the cache since). Locks are per embeddings object (``lock_for``).
    """

    def __init__(
        self,
        rates: RateBook | None = None,
        *,
        grace: float = GRACE,
        clock: Callable[[], float] = time.monotonic,
        reaper: bool = True,
        max_finished: int = MAX_FINISHED,
    ) -> None:
        self._jobs: dict[Hashable, Job] = {}
        self._locks: weakref.WeakKeyDictionary[CorpusEmbeddings, threading.Lock] = weakref.WeakKeyDictionary()
        self.max_finished = max_finished
        self._guard = threading.Lock()
        self.rates, self.grace, self.clock = rates, grace, clock
        self._reaper: threading.Thread | None = None
        self._want_reaper = reaper

    def watch(self, job: Job) -> None:
        """A session shows ``job`` now (its progress bar refreshes every second): it is not abandoned."""
        job.watched_at = self.clock()

    def reap(self) -> list[Job]:
        """Stop (cancel, resumable: committed chunks stay cached) every running job that no session has
        watched for ``grace`` seconds, unless it was started as *keep running*; returns those stopped."""
        now = self.clock()
        with self._guard:
            idle = [
                j
                for j in self._jobs.values()
                if j.state == "running" and not j.keep_running and now - j.watched_at > self.grace
            ]
        for job in idle:
            job.stop_reason = f"stopped: no page watched it for {self.grace:.0f} s"
            job.cancel()
        return idle

    def _reap_forever(self) -> None:
        while True:
            time.sleep(REAP_EVERY)
            try:
                self.reap()
            except Exception:  # noqa: BLE001 - the reaper never dies of one bad job
                _LOG.exception("reaping abandoned jobs failed")

    def _start_reaper(self) -> None:
        if self._want_reaper and self._reaper is None:
            self._reaper = threading.Thread(target=self._reap_forever, name="xlr-job-reaper", daemon=True)
            self._reaper.start()

    def lock_for(self, emb: CorpusEmbeddings) -> threading.Lock:
        """The lock of one embeddings object (forgotten with the object)."""
        with self._guard:
            return self._locks.setdefault(emb, threading.Lock())

    def __len__(self) -> int:
        with self._guard:
            return len(self._jobs)

    def _forget_finished(self, _job: Job | None = None) -> None:
        """Keep the ``max_finished`` most recently finished jobs (running ones always stay)."""
        with self._guard:
            ended = sorted((j for j in self._jobs.values() if j.state != "running"), key=lambda j: j.finished_at)
            for old in ended[: max(0, len(ended) - self.max_finished)]:
                if self._jobs.get(old.key) is old:
                    del self._jobs[old.key]

    def get(self, key: Hashable) -> Job | None:
        with self._guard:
            return self._jobs.get(key)

    def submit(
        self,
        key: Hashable,
        label: str,
        emb: CorpusEmbeddings,
        needs: Sequence[tuple[np.ndarray, Role]],
        *,
        restart: bool = False,
        encoder_name: str = "",
        keep_running: bool = False,
    ) -> Job:
        lock = self.lock_for(emb)
        with self._guard:
            job = self._jobs.get(key)
            stale = job is not None and job.embeddings() is not emb  # the embeddings object was evicted and rebuilt
            if job is not None and not stale and (job.state in ("running", "done") or not restart):
                return job
            job = Job(
                label, emb, lock, needs, encoder_name=encoder_name, rates=self.rates, on_finish=self._forget_finished
            )
            job.key = key
            job.keep_running = keep_running
            job.watched_at = self.clock()
            self._jobs[key] = job
            self._start_reaper()
        job.thread.start()
        return job

    def restart(self, job: Job) -> Job:
        """A fresh job for a cancelled or failed ``job`` (same documents); the running job itself otherwise."""
        emb = job.embeddings()
        if emb is None:  # a done job whose embeddings are gone: nothing to resume
            return job
        return self.submit(
            job.key,
            job.label,
            emb,
            job.needs,
            restart=True,
            encoder_name=job.encoder_name,
            keep_running=job.keep_running,
        )

    def current(self, job: Job) -> Job:
        """The job now registered under ``job``'s key (a restart replaces it)."""
        with self._guard:
            return self._jobs.get(job.key, job)

    def rate(self, encoder_name: str) -> float | None:
        """Texts per second of the latest job of ``encoder_name`` that encoded something (``None``: none yet)."""
        with self._guard:
            jobs = [j for j in self._jobs.values() if j.encoder_name == encoder_name]
        rates = [r for r in (j.snapshot().rate for j in jobs) if r]
        return rates[-1] if rates else None

    def running(self) -> list[Job]:
        with self._guard:
            return [j for j in self._jobs.values() if j.state == "running"]
