"""The Embedding map's projection: PCA at once; a UMAP not on disk yet as a background job with progress.

A server's first UMAP took 76 s behind a spinner (issue 19). Here it runs as a
:class:`~xlr.dashboard.projection_job.ProjectionJob` (one per server process and projection, shared by
sessions): a progress bar says the stage, the layout's epochs and the seconds elapsed, with Cancel (the
fit stops at the next epoch; *Start the UMAP again* begins anew). The page stops until the job is done,
then re-runs; the finished projection is read from the disk cache (:func:`xlr.report.projection.project`).
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import streamlit as st

from xlr.dashboard.projection_job import ProjectionBoard, ProjectionJob
from xlr.dashboard.state import Context, DataKey, literal
from xlr.dashboard.ui import map_vectors, stop
from xlr.report.projection import cached_projection, project

__all__ = ["projection"]


@st.cache_resource(show_spinner=False)
def board() -> ProjectionBoard:
    """The server's projection jobs."""
    return ProjectionBoard()


@st.cache_data(show_spinner=False, max_entries=32)
def _project(dkey: DataKey, dig: str, model: str, method: str, _vectors: np.ndarray) -> np.ndarray:
    return project(_vectors, method, random_state=0, meta={"data": dkey[0], "encoder": model, "selection": dig})


def _restart(key: Hashable, job: ProjectionJob) -> None:
    board().submit(key, job.label, job.compute, restart=True)


@st.fragment(run_every=1.0)
def _panel(key: Hashable) -> None:
    job = board().get(key)
    if job is None:
        return
    snap = job.snapshot()
    if snap.state == "running":
        c1, c2 = st.columns([6, 1], vertical_alignment="bottom")
        c1.progress(snap.fraction, text=literal(snap.text()))
        c2.button("Cancel", key="map.cancel", on_click=job.cancel, help="Stops at the next epoch.")
    elif snap.state == "cancelled":
        st.warning(literal(f"{snap.label}: cancelled after {snap.elapsed:.0f} s. PCA shows at once."))
        st.button("Start the UMAP again", key="map.restart", on_click=_restart, args=(key, job))
    elif snap.state == "failed":
        st.error(literal(f"{snap.label} failed: {snap.error}"))
    else:
        st.rerun(scope="app")


def projection(ctx: Context, model: str, positions: np.ndarray, method: str) -> np.ndarray:
    """2-D coordinates of working-corpus documents at ``positions`` (cached in memory and on disk); a
    UMAP not on disk yet is computed as a background job, the page showing its progress until done."""
    dig, vectors = map_vectors(ctx, model, positions)
    name = ctx.key(model)
    if method == "umap" and cached_projection(vectors, "umap", random_state=0) is None:
        meta = {"data": ctx.dkey[0], "encoder": name, "selection": dig}
        key = (ctx.dkey, dig, name, "umap")
        job = board().submit(
            key,
            f"UMAP of {positions.size} documents",
            lambda progress: project(vectors, "umap", random_state=0, meta=meta, progress=progress),
        )
        job.thread.join(timeout=0.5)  # a small map is done before a bar would show
        if job.state == "done" and job.result is not None:
            return job.result  # (a read-only cache did not keep it on disk)
        _panel(key)
        stop()
    with st.spinner(f"Computing the {method.upper()} projection of {positions.size} documents…"):
        return _project(ctx.dkey, dig, name, method, vectors)
