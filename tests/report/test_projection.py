from __future__ import annotations

import numpy as np
import pytest

from xlr.report import projection


def blobs(n=60, d=16, seed=0):
    """Two well separated clusters of unit vectors."""
    rng = np.random.default_rng(seed)
    centers = np.zeros((2, d), dtype=np.float32)
    centers[0, 0], centers[1, 1] = 1, 1
    labels = np.arange(n) % 2
    x = centers[labels] + 0.05 * rng.standard_normal((n, d)).astype(np.float32)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32), labels


def test_pca_is_deterministic_and_separates_clusters():
    x, labels = blobs()
    a = projection.pca_2d(x)
    assert a.shape == (60, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a, projection.pca_2d(x.copy()))
    # first component splits the clusters
    assert set(np.sign(a[labels == 0, 0])) != set(np.sign(a[labels == 1, 0]))
    # sign convention: invariant to flipping the input axes' sign pattern of the data
    np.testing.assert_allclose(np.abs(projection.pca_2d(-x)), np.abs(a), atol=1e-5)


def test_pca_small_inputs():
    assert projection.pca_2d(np.ones((1, 4), dtype=np.float32)).tolist() == [[0.0, 0.0]]
    two = projection.pca_2d(np.eye(2, 4, dtype=np.float32))
    assert two.shape == (2, 2) and np.all(two[:, 1] == 0)


def test_project_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError, match="unknown projection"):
        projection.project(np.ones((3, 2), dtype=np.float32), "tsne", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="non-empty 2-D"):
        projection.project(np.ones(3, dtype=np.float32), "pca", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="finite"):
        projection.project(np.array([[np.nan, 1.0]]), "pca", cache_dir=tmp_path)
    with pytest.raises(ValueError, match="at least 4"):
        projection.umap_2d(np.ones((3, 2), dtype=np.float32), random_state=0)


def test_project_caches_on_disk_per_input(tmp_path, monkeypatch):
    x, _ = blobs()
    first = projection.project(x, "pca", cache_dir=tmp_path, meta={"encoder": "toy"})
    files = sorted(p.suffix for p in tmp_path.iterdir())
    assert files == [".json", ".npy"]
    calls = []
    monkeypatch.setattr(
        projection,
        "pca_2d",
        lambda v: calls.append(1) or np.zeros((len(v), 2), np.float32),
    )
    np.testing.assert_array_equal(projection.project(x, "pca", cache_dir=tmp_path), first)
    assert calls == []  # served from disk
    projection.project(x[:-1], "pca", cache_dir=tmp_path)  # another selection: computed
    assert calls == [1]
    # a damaged file is recomputed, not trusted
    npy = next(p for p in tmp_path.glob("*.npy") if np.load(p).shape == first.shape)
    npy.write_bytes(b"garbage")
    projection.project(x, "pca", cache_dir=tmp_path)
    assert calls == [1, 1]


def test_project_default_dir_is_under_xlr_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XLR_CACHE_DIR", str(tmp_path))
    assert projection.projection_dir() == tmp_path / "projections"


@pytest.mark.slow
def test_umap_is_reproducible_and_cached(tmp_path):
    x, labels = blobs(n=80)
    a = projection.project(x, "umap", random_state=0, cache_dir=tmp_path)
    b = projection.umap_2d(x, random_state=0)
    assert a.shape == (80, 2)
    np.testing.assert_allclose(a, b, atol=1e-5)
    # the clusters stay apart: every point is nearer its own cluster's centre
    c0, c1 = a[labels == 0].mean(axis=0), a[labels == 1].mean(axis=0)
    near0 = np.linalg.norm(a - c0, axis=1) < np.linalg.norm(a - c1, axis=1)
    assert (near0 == (labels == 0)).all()
    assert len(list(tmp_path.glob("*.npy"))) == 1


@pytest.mark.slow
def test_umap_reports_its_epochs_and_stops_when_told(tmp_path):
    """Issue 19: the first UMAP (76 s) showed a spinner only. umap-learn's epoch bar now feeds ``progress``;
    an exception of ``progress`` (the dashboard's Cancel) ends the fit at that epoch."""
    x, _ = blobs(n=60)
    seen: list[tuple[int, int]] = []
    a = projection.umap_2d(x, random_state=0, progress=lambda n, total: seen.append((n, total)))
    total = seen[-1][1]
    assert total > 10 and seen[-1] == (total, total) and [n for n, _ in seen] == sorted(n for n, _ in seen)
    np.testing.assert_allclose(a, projection.umap_2d(x, random_state=0), atol=1e-5)  # the same layout

    class Stop(Exception):
        pass

    def stop(n: int, total: int) -> None:
        if n >= 5:
            raise Stop

    with pytest.raises(Stop):
        projection.project(x, "umap", random_state=0, cache_dir=tmp_path, progress=stop)
    assert projection.cached_projection(x, "umap", random_state=0, cache_dir=tmp_path) is None  # nothing kept
    done = projection.project(x, "umap", random_state=0, cache_dir=tmp_path)
    assert projection.cached_projection(x, "umap", random_state=0, cache_dir=tmp_path) is not None
    np.testing.assert_allclose(done, a, atol=1e-5)
