"""A slow projection (a first UMAP) as a background job: stage, epochs, elapsed time and Cancel.

No streamlit here: :mod:`xlr.dashboard.map_view` keeps one :class:`ProjectionBoard` per server
process and draws a job's :meth:`ProjectionJob.snapshot` as a progress bar. The job runs
``compute(progress)`` in a thread (:func:`xlr.report.projection.project` with its ``progress``): first
the neighbour graph (and, on a server's first UMAP, numba compiling its kernels: no count to show, so
the bar says so and shows the seconds elapsed), then the layout's epochs, ``progress(epoch, epochs)``.
Cancel makes the next ``progress`` call raise :class:`ProjectionStopped`: the fit stops at that epoch
(during the first stage, at the first epoch). A finished projection is on disk; the board forgets it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np

__all__ = ["ProjectionBoard", "ProjectionJob", "ProjectionSnapshot", "ProjectionStopped"]

_LOG = logging.getLogger(__name__)
Compute = Callable[[Callable[[int, int], None]], np.ndarray]


class ProjectionStopped(RuntimeError):
    """Raised inside the projection's progress callback when the job was cancelled."""


@dataclass(frozen=True)
class ProjectionSnapshot:
    """``state`` (``running``, ``done``, ``cancelled``, ``failed``), ``epoch`` of ``epochs`` (0 of 0 while
    the neighbour graph is built), ``elapsed`` seconds, ``error`` (why it failed)."""

    label: str
    state: str
    epoch: int
    epochs: int
    elapsed: float
    error: str = ""

    @property
    def fraction(self) -> float:
        """Share of the epochs done (0 before the first; the first stage has no count)."""
        return min(self.epoch / self.epochs, 1.0) if self.epochs else 0.0

    def text(self) -> str:
        """``UMAP of 800 documents: laying out, epoch 120 of 500 · 14 s`` (or the first stage's words)."""
        if self.epochs:
            stage = f"laying out, epoch {self.epoch} of {self.epochs}"
        else:
            stage = "finding neighbours (a server's first UMAP also compiles its code: up to a minute)"
        return f"{self.label}: {stage} · {self.elapsed:.0f} s"


class ProjectionJob:
    """One projection computed in a thread; created by :meth:`ProjectionBoard.submit`."""

    def __init__(self, label: str, compute: Compute, clock: Callable[[], float] = time.monotonic) -> None:
        self.label, self.compute, self.clock = label, compute, clock
        self.state, self.error, self.epoch, self.epochs = "running", "", 0, 0
        self.result: np.ndarray | None = None
        self.started, self.ended = clock(), 0.0
        self.cancel_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"xlr-projection {label}", daemon=True)

    def cancel(self) -> None:
        self.cancel_event.set()

    def _progress(self, epoch: int, epochs: int) -> None:
        self.epoch, self.epochs = epoch, epochs
        if self.cancel_event.is_set():
            raise ProjectionStopped(f"{self.label}: cancelled")

    def _run(self) -> None:
        try:
            if self.cancel_event.is_set():
                raise ProjectionStopped(f"{self.label}: cancelled")
            self.result = self.compute(self._progress)
            self.state = "done"
        except ProjectionStopped:
            self.state = "cancelled"
        except Exception as exc:  # noqa: BLE001 - any failure ends the job; the page shows it, the log has it
            _LOG.exception("projection %s failed", self.label)
            self.state, self.error = "failed", " ".join(str(exc).split()) or type(exc).__name__
        finally:
            self.ended = self.clock()

    def snapshot(self) -> ProjectionSnapshot:
        elapsed = (self.ended or self.clock()) - self.started
        return ProjectionSnapshot(self.label, self.state, self.epoch, self.epochs, elapsed, self.error)


class ProjectionBoard:
    """The server's projection jobs by key: at most one per key; a cancelled or failed one is replaced
    when asked again (``restart``), a running or done one is returned as it is."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._jobs: dict[Hashable, ProjectionJob] = {}
        self._guard = threading.Lock()
        self.clock = clock

    def get(self, key: Hashable) -> ProjectionJob | None:
        with self._guard:
            return self._jobs.get(key)

    def submit(self, key: Hashable, label: str, compute: Compute, *, restart: bool = False) -> ProjectionJob:
        with self._guard:
            job = self._jobs.get(key)
            if job is not None and (job.state in ("running", "done") or not restart):
                return job
            job = self._jobs[key] = ProjectionJob(label, compute, self.clock)
        job.thread.start()
        return job

    def forget(self, key: Hashable) -> None:
        """Drop ``key``'s job (a done projection is read from the disk cache from then on)."""
        with self._guard:
            self._jobs.pop(key, None)
