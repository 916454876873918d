"""2-D projections of embeddings (UMAP, PCA) with an on-disk cache.

A projection is keyed on everything that determines it: the method, its
parameters, ``random_state`` and the bytes of the input vectors (so one key
per encoder and document selection).  Results live under
``$XLR_CACHE_DIR/projections/<key>.npy`` (with a ``<key>.json`` describing
them) and are written atomically; an unreadable or malformed file is simply
recomputed.

UMAP (umap-learn) compiles its numba kernels on first use in each process
(tens of seconds on a small CPU); the projection cache above means a given map
is computed once.  umap-learn's own warnings (e.g. about ``n_jobs`` with a
``random_state``) are filtered once at import of :func:`umap_2d`'s module, by
message, not by changing the warning state of the process around each call
(``warnings.catch_warnings`` is not thread-safe under Streamlit).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xlr.atomic import atomic_save_npy, atomic_write_text
from xlr.encoders.cache import default_cache_dir

__all__ = ["PROJECTION_METHODS", "EpochFeed", "cached_projection", "pca_2d", "project", "projection_dir", "umap_2d"]

PROJECTION_METHODS = ("umap", "pca")
_UMAP_MIN_POINTS = 4
# umap warns that n_jobs is overridden when random_state is set: we set both on purpose.
warnings.filterwarnings("ignore", message=r"n_jobs value .* overridden", category=UserWarning)


def projection_dir() -> Path:
    """Where projections are cached: ``<embedding cache dir>/projections``."""
    return default_cache_dir() / "projections"


def _check(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"vectors must be a non-empty 2-D array (n, dim), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating) or not np.isfinite(x).all():
        raise ValueError("vectors must be finite floats")
    return np.ascontiguousarray(x, dtype=np.float32)


def pca_2d(vectors: np.ndarray) -> np.ndarray:
    """First two principal components, ``(n, 2)`` float32 (deterministic).

    Rows are centred; components come from an SVD, each signed so that its largest
    loading is positive. Components whose singular value is at rounding level
    (``s <= s_max * max(n, dim) * eps(float64)``, numpy's ``matrix_rank`` rule) are not
    components: with fewer than two (e.g. ``n <= 2``) the missing columns are exactly 0,
    whatever the BLAS rounds them to.
    """
    x = _check(vectors).astype(np.float64)
    x = x - x.mean(axis=0)
    out = np.zeros((x.shape[0], 2), dtype=np.float64)
    if x.shape[0] > 1:
        u, s, vt = np.linalg.svd(x, full_matrices=False)
        tol = (s[0] if s.size else 0.0) * max(x.shape) * np.finfo(np.float64).eps
        m = min(2, int(np.count_nonzero(s > tol)))
        for c in range(m):
            sign = 1.0 if vt[c, np.argmax(np.abs(vt[c]))] >= 0 else -1.0
            out[:, c] = u[:, c] * s[c] * sign
    return out.astype(np.float32)


Progress = Callable[[int, int], None]
"""``progress(epochs done, epochs)``; an exception it raises stops the UMAP fit at that epoch."""


class EpochFeed:
    """A write-only text file for umap-learn's ``tqdm`` epoch bar (``tqdm_kwds={"file": feed, "bar_format":
    "{n}/{total}"}``): each ``n/total`` it is sent becomes ``progress(n, total)``. An exception of
    ``progress`` (a cancel) propagates out of the fit once; later writes (tqdm closing its bar) are ignored."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.stopped = progress, False

    def write(self, text: str) -> int:
        if not self.stopped:
            for m in re.finditer(r"(\d+)/(\d+)", text):
                try:
                    self.progress(int(m[1]), int(m[2]))
                except BaseException:
                    self.stopped = True
                    raise
        return len(text)

    def flush(self) -> None:
        """Nothing is buffered."""


def umap_2d(
    vectors: np.ndarray,
    *,
    random_state: int,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    progress: Progress | None = None,
) -> np.ndarray:
    """UMAP to 2-D, ``(n, 2)`` float32; same input and ``random_state`` give the same output.

    Euclidean distance on the given rows (for L2-normalised embeddings it orders
    neighbours like cosine). ``n_neighbors`` is clipped to ``n - 1``. Needs at least 4
    points (``ValueError`` otherwise: use :func:`pca_2d`). ``progress(epoch, epochs)`` is
    called as the layout is optimised (after the neighbour graph, and after numba compiled
    its kernels on a process's first UMAP); what it raises stops the fit there.
    """
    x = _check(vectors)
    if x.shape[0] < _UMAP_MIN_POINTS:
        raise ValueError(f"UMAP needs at least {_UMAP_MIN_POINTS} documents, got {x.shape[0]}; use PCA")
    if n_neighbors < 2:
        raise ValueError(f"n_neighbors must be >= 2, got {n_neighbors}")
    if not 0 <= min_dist <= 1:
        raise ValueError(f"min_dist must be in [0, 1], got {min_dist}")
    import umap

    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=min(n_neighbors, x.shape[0] - 1),
        min_dist=min_dist,
        metric="euclidean",
        random_state=random_state,
        n_jobs=1,
        tqdm_kwds=None
        if progress is None
        else {"disable": False, "file": EpochFeed(progress), "bar_format": "{n}/{total}", "mininterval": 0.25},
    )
    out = reducer.fit_transform(x)
    return np.asarray(out, dtype=np.float32)


def _key(x: np.ndarray, method: str, params: dict[str, Any]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps([method, params, list(x.shape), str(x.dtype)], sort_keys=True).encode())
    h.update(x.tobytes())
    return h.hexdigest()[:32]


def _save(folder: Path, key: str, coords: np.ndarray, meta: dict[str, Any]) -> None:
    atomic_save_npy(folder / f"{key}.npy", coords)
    atomic_write_text(folder / f"{key}.json", json.dumps(meta, indent=1, default=str))


def _load(path: Path, n: int) -> np.ndarray | None:
    try:
        coords = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if coords.shape != (n, 2) or coords.dtype != np.float32 or not np.isfinite(coords).all():
        return None
    return np.asarray(coords, dtype=np.float32)


def project(
    vectors: np.ndarray,
    method: str = "umap",
    *,
    random_state: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
    meta: dict[str, Any] | None = None,
    progress: Progress | None = None,
) -> np.ndarray:
    """2-D coordinates ``(n, 2)`` float32 of ``vectors`` ``(n, dim)`` by ``"umap"`` or ``"pca"``.

    Cached on disk under ``cache_dir`` (default :func:`projection_dir`) unless
    ``use_cache=False``; ``meta`` (e.g. encoder and selection) is stored beside the result
    for people browsing the cache. ``random_state`` is part of the key (PCA ignores it).
    An unknown method or bad vectors raise ``ValueError``. ``progress``: UMAP's epochs
    (:func:`umap_2d`).
    """
    x, params, folder, key = _keyed(vectors, method, random_state, n_neighbors, min_dist, cache_dir)
    if use_cache:
        hit = _load(folder / f"{key}.npy", x.shape[0])
        if hit is not None:
            return hit
    coords = (
        pca_2d(x)
        if method == "pca"
        else umap_2d(x, random_state=random_state, n_neighbors=n_neighbors, min_dist=min_dist, progress=progress)
    )
    if use_cache:
        try:
            _save(
                folder,
                key,
                coords,
                {
                    "method": method,
                    **params,
                    "n": x.shape[0],
                    "dim": x.shape[1],
                    **(meta or {}),
                },
            )
        except OSError:  # a read-only cache must not break the map
            pass
    return coords


def _keyed(
    vectors: np.ndarray,
    method: str,
    random_state: int,
    n_neighbors: int,
    min_dist: float,
    cache_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, dict[str, Any], Path, str]:
    """(checked vectors, parameters, cache folder, key) of a projection."""
    if method not in PROJECTION_METHODS:
        raise ValueError(f"unknown projection {method!r}; choose one of {', '.join(PROJECTION_METHODS)}")
    x = _check(vectors)
    params: dict[str, Any] = {"random_state": int(random_state)}
    if method == "umap":
        params |= {"n_neighbors": int(n_neighbors), "min_dist": float(min_dist)}
    folder = Path(cache_dir) if cache_dir is not None else projection_dir()
    return x, params, folder, _key(x, method, params)


def cached_projection(
    vectors: np.ndarray,
    method: str = "umap",
    *,
    random_state: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.1,
    cache_dir: str | os.PathLike[str] | None = None,
) -> np.ndarray | None:
    """What :func:`project` with these arguments would read from its disk cache, ``None`` if nothing
    (nothing is computed: a page asks this before it starts a slow UMAP with a progress bar)."""
    x, _, folder, key = _keyed(vectors, method, random_state, n_neighbors, min_dist, cache_dir)
    return _load(folder / f"{key}.npy", x.shape[0])
