"""A first UMAP as a background job (fast tier): stage, epochs, Cancel at the next epoch, restart.

The projection is a stand-in that reports epochs as umap-learn does (through ``progress``) and waits
on events, so the test decides when each step happens (no timing assumptions)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from xlr.dashboard.projection_job import ProjectionBoard
from xlr.report.projection import EpochFeed


class Steps:
    """``compute(progress)``: waits for ``go`` before each of ``epochs`` epochs, reports each."""

    def __init__(self, epochs: int = 5) -> None:
        self.epochs, self.go, self.at = epochs, threading.Semaphore(0), threading.Event()

    def __call__(self, progress):
        for e in range(self.epochs + 1):
            self.at.set()
            assert self.go.acquire(timeout=30), "the test never let the epoch run"
            progress(e, self.epochs)
        return np.zeros((4, 2), dtype=np.float32)


def test_a_projection_job_shows_its_stage_and_epochs_and_finishes():
    board, steps = ProjectionBoard(), Steps()
    job = board.submit("k", "UMAP of 4 documents", steps)
    assert steps.at.wait(30)
    first = job.snapshot()
    assert first.state == "running" and first.fraction == 0.0 and "finding neighbours" in first.text()
    for _ in range(3):
        steps.go.release()
    while job.snapshot().epoch < 2:
        job.thread.join(0.01)
    assert "epoch 2 of 5" in job.snapshot().text() and job.snapshot().fraction == pytest.approx(0.4)
    assert board.submit("k", "again", Steps()) is job  # one job per projection
    for _ in range(3):
        steps.go.release()
    job.thread.join(30)
    assert job.state == "done" and job.result is not None and job.result.shape == (4, 2)


def test_cancel_stops_at_the_next_epoch_and_a_restart_begins_anew():
    board, steps = ProjectionBoard(), Steps()
    job = board.submit("k", "UMAP", steps)
    steps.go.release()
    while job.snapshot().epochs == 0:  # until epoch 0 is reported
        job.thread.join(0.01)
    job.cancel()
    steps.go.release()  # the next report raises inside the fit
    job.thread.join(30)
    assert job.state == "cancelled" and job.epoch == 1
    assert board.submit("k", "UMAP", steps) is job  # a page re-run shows the cancelled job ...
    again = board.submit("k", "UMAP", job.compute, restart=True)  # ... until asked again
    assert again is not job
    for _ in range(steps.epochs + 1):
        steps.go.release()
    again.thread.join(30)
    assert again.state == "done"


def test_a_failed_projection_says_why():
    def broken(progress):
        raise ValueError("UMAP needs at least 4 documents, got 3; use PCA")

    job = ProjectionBoard().submit("k", "UMAP", broken)
    job.thread.join(30)
    snap = job.snapshot()
    assert snap.state == "failed" and "at least 4 documents" in snap.error


def test_umaps_epoch_bar_feeds_the_progress_and_a_cancel_stops_it():
    """umap-learn draws its epochs with tqdm (``tqdm_kwds``): the feed turns that bar into calls."""
    from tqdm.auto import tqdm

    seen: list[tuple[int, int]] = []
    feed = EpochFeed(lambda n, total: seen.append((n, total)))
    for _ in tqdm(range(7), file=feed, bar_format="{n}/{total}", mininterval=0):
        pass
    assert seen[0] == (0, 7) and seen[-1] == (7, 7)

    def stop(n: int, total: int) -> None:
        if n >= 3:
            raise KeyboardInterrupt  # any exception of the callback, a cancel included

    done = []
    with pytest.raises(KeyboardInterrupt):
        for i in tqdm(range(7), file=EpochFeed(stop), bar_format="{n}/{total}", mininterval=0):
            done.append(i)
    assert done == [0, 1, 2]
