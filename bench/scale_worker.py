"""One scale measurement in its own process, so its peak resident memory is its own.

``python -m bench.scale_worker MODE POOL.npy QUERIES.npy OUT_PREFIX JSON_OPTIONS``
(options: ``k``, ``n_queries`` (first n queries; 0 = all), ``legacy_chunk``, ``ivf_*``)
writes ``OUT_PREFIX.json`` (times, peak RSS) and
``OUT_PREFIX.idx.npy`` (the top-k indices; for ``faiss-ivf`` one file per nprobe).

Modes: ``xlr-topk`` (``xlr.retrieval.ranks.top_k``, pool loaded in memory; for cosine over
large pools it streams over the pool), ``legacy-topk`` (the query-chunked
top-k that ``xlr.retrieval.ranks.top_k`` used before, kept here as the baseline),
``stream-memory`` and ``stream-disk`` (``xlr.retrieval.streaming.streaming_top_k`` with the
pool in memory / read from the file in chunks), ``faiss-flat`` (exact
IndexFlatIP) and ``faiss-ivf`` (approximate IndexIVFFlat).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from xlr.retrieval.streaming import NpyRows, streaming_top_k

from .procs import peak_rss


def _timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _xlr_topk(pool_path: Path, q: np.ndarray, k: int, opts: dict) -> dict[str, Any]:
    from xlr.retrieval.ranks import top_k

    load_s, pool = _timed(lambda: np.load(pool_path))
    search_s, (idx, _) = _timed(lambda: top_k(q, pool, k))
    return {
        "load_s": load_s,
        "search_s": search_s,
        "data_bytes": pool.nbytes,
        "idx": {"": idx},
    }


def _legacy_block(scores: np.ndarray, k: int) -> np.ndarray:
    """Top-k columns of each row (score desc, index asc): the query-chunked kernel's block step."""
    cand = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    kth = np.take_along_axis(scores, cand, axis=1).min(axis=1, keepdims=True)
    for r in np.flatnonzero(np.count_nonzero(scores >= kth, axis=1) > k):  # ties straddling the k-th place
        above = np.flatnonzero(scores[r] > kth[r, 0])
        cand[r] = np.concatenate([above, np.flatnonzero(scores[r] == kth[r, 0])[: k - above.size]])
    order = np.lexsort((cand, -np.take_along_axis(scores, cand, axis=1)), axis=1)
    return np.take_along_axis(cand, order, axis=1)


def _legacy_top_k(q: np.ndarray, pool: np.ndarray, k: int, chunk: int) -> np.ndarray:
    """The top-k xlr used before streaming (chunks of queries x the whole pool), cosine."""
    from xlr.retrieval.ranks import validate_embeddings

    pool = validate_embeddings("pool", pool)
    idx = np.empty((q.shape[0], k), dtype=np.int64)
    for start in range(0, q.shape[0], chunk):
        idx[start : start + chunk] = _legacy_block(q[start : start + chunk] @ pool.T, k)
    return idx


def _legacy(pool_path: Path, q: np.ndarray, k: int, opts: dict) -> dict[str, Any]:
    load_s, pool = _timed(lambda: np.load(pool_path))
    search_s, idx = _timed(lambda: _legacy_top_k(q, pool, k, opts["legacy_chunk"]))
    return {
        "load_s": load_s,
        "search_s": search_s,
        "data_bytes": pool.nbytes,
        "idx": {"": idx},
    }


def _stream_memory(pool_path: Path, q: np.ndarray, k: int, opts: dict) -> dict[str, Any]:
    load_s, pool = _timed(lambda: np.load(pool_path))
    search_s, (idx, _) = _timed(lambda: streaming_top_k(q, pool, k))
    return {
        "load_s": load_s,
        "search_s": search_s,
        "data_bytes": pool.nbytes,
        "idx": {"": idx},
    }


def _stream_disk(pool_path: Path, q: np.ndarray, k: int, opts: dict) -> dict[str, Any]:
    search_s, (idx, _) = _timed(lambda: streaming_top_k(q, NpyRows(pool_path), k))
    return {"load_s": 0.0, "search_s": search_s, "data_bytes": 0, "idx": {"": idx}}


def _faiss_add(index, pool_path: Path) -> None:
    for _, block in NpyRows(pool_path).chunks(65536):
        index.add(block)


def _faiss_flat(pool_path: Path, q: np.ndarray, k: int, opts: dict) -> dict[str, Any]:
    import faiss

    index = faiss.IndexFlatIP(q.shape[1])
    load_s, _ = _timed(lambda: _faiss_add(index, pool_path))
    search_s, (_, idx) = _timed(lambda: index.search(q, k))
    return {
        "load_s": load_s,
        "search_s": search_s,
        "data_bytes": index.ntotal * q.shape[1] * 4,
        "idx": {"": idx.astype(np.int64)},
    }


def _first_rows(pool_path: Path, n: int) -> np.ndarray:
    """The first n pool rows (rows are i.i.d., so a random sample), as a new array."""
    return next(NpyRows(pool_path).chunks(n))[1].copy()


def _faiss_ivf(pool_path: Path, q: np.ndarray, k: int, opts: dict) -> dict[str, Any]:
    import faiss

    d = q.shape[1]
    quantizer = faiss.IndexFlatIP(d)
    index = faiss.IndexIVFFlat(quantizer, d, opts["ivf_lists"], faiss.METRIC_INNER_PRODUCT)
    train_s, _ = _timed(lambda: index.train(_first_rows(pool_path, opts["ivf_train"])))
    add_s, _ = _timed(lambda: _faiss_add(index, pool_path))
    out: dict[str, Any] = {
        "load_s": train_s + add_s,
        "train_s": train_s,
        "add_s": add_s,
        "data_bytes": index.ntotal * d * 4,
        "idx": {},
        "search_s_by_nprobe": {},
    }
    for nprobe in opts["ivf_probes"]:
        index.nprobe = nprobe
        search_s, (_, idx) = _timed(lambda: index.search(q, k))
        out["search_s_by_nprobe"][str(nprobe)] = search_s
        out["idx"][f"nprobe{nprobe}"] = idx.astype(np.int64)
    out["search_s"] = out["search_s_by_nprobe"][str(opts["ivf_probes"][0])]
    return out


MODES = {
    "xlr-topk": _xlr_topk,
    "legacy-topk": _legacy,
    "stream-memory": _stream_memory,
    "stream-disk": _stream_disk,
    "faiss-flat": _faiss_flat,
    "faiss-ivf": _faiss_ivf,
}


def main(argv: list[str]) -> int:
    mode, pool_path, q_path, out_prefix, opts = (
        argv[0],
        Path(argv[1]),
        Path(argv[2]),
        Path(argv[3]),
        json.loads(argv[4]),
    )
    if mode.startswith("faiss"):
        import faiss  # noqa: F401  (imported before the baseline RSS is read)
    if mode in ("xlr-topk", "legacy-topk"):
        import xlr.retrieval.ranks  # noqa: F401
    rss_imports = peak_rss()
    q = np.load(q_path)
    if opts.get("n_queries"):
        q = np.ascontiguousarray(q[: int(opts["n_queries"])])
    out = MODES[mode](pool_path, q, int(opts["k"]), opts)
    for suffix, idx in out.pop("idx").items():
        np.save(f"{out_prefix}{'.' + suffix if suffix else ''}.idx.npy", idx)
    out |= {
        "mode": mode,
        "peak_rss_bytes": peak_rss(),
        "rss_after_imports_bytes": rss_imports,
        "queries_bytes": q.nbytes,
    }
    Path(f"{out_prefix}.json").write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
