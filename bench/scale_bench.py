"""Benchmark 2: exact top-10 of 10,000 queries over 1,000,000 candidates, time and peak memory.

The candidates (float32, ``scale_dim``) are written once to a ``.npy`` file in a
scratch folder: clustered like text embeddings (``scale_clusters`` centres
scaled by ``scale_cluster_amp``, plus unit-variance noise), on the
exact-dot-product grid so every exact method returns the same lists.  The queries are noisy copies of random candidates.  Each
method runs in its own process (:mod:`bench.scale_worker`) and reports its
peak resident memory (``VmHWM``, else ``ru_maxrss``) next to the bytes of pool data it holds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .synthetic import exact_grid
from .timing import Figure

__all__ = ["generate_scale_data", "run_scale"]

GIB = 2**30
ROOT = Path(__file__).resolve().parents[1]


def generate_scale_data(cfg: Config, folder: Path) -> tuple[Path, Path]:
    """Write the pool and the queries (``.npy``) chunk by chunk; return their paths."""
    n, d, chunk = cfg.scale_pool, cfg.scale_dim, 65536
    centers = np.random.default_rng([cfg.seed, 0]).standard_normal((cfg.scale_clusters, d))
    picks = np.sort(np.random.default_rng([cfg.seed, 1]).choice(n, cfg.scale_queries, replace=False))
    pool_path, q_path = (
        folder / f"pool-{n}x{d}.npy",
        folder / f"queries-{cfg.scale_queries}x{d}.npy",
    )
    queries = []
    with open(pool_path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (n, d)})
        for no, start in enumerate(range(0, n, chunk)):
            rng = np.random.default_rng([cfg.seed, 2, no])
            m = min(chunk, n - start)
            x = cfg.scale_cluster_amp * centers[rng.integers(0, cfg.scale_clusters, m)] + rng.standard_normal((m, d))
            x = exact_grid(x)
            fh.write(x.tobytes())
            sel = picks[(picks >= start) & (picks < start + m)] - start
            queries.append(exact_grid(x[sel] + 0.7 / np.sqrt(d) * rng.standard_normal((sel.size, d))))
    np.save(q_path, np.concatenate(queries))
    return pool_path, q_path


def _plan(cfg: Config) -> dict[str, tuple[str, int]]:
    """``{run name: (worker mode, number of queries)}``.

    The current core, the disk-streaming path and faiss get every query; the
    current core and the old query-chunked top-k also run on the first
    ``scale_few_queries`` (the old one is too slow for all of them).
    """
    n, few = (
        cfg.scale_queries,
        min(cfg.scale_few_queries or cfg.scale_queries, cfg.scale_queries),
    )
    plan = {
        "xlr-topk": ("xlr-topk", n),
        "stream-disk": ("stream-disk", n),
        "xlr-topk-few": ("xlr-topk", few),
        "legacy-topk": ("legacy-topk", few),
    }
    if cfg.scale_stream_memory:
        plan["stream-memory"] = ("stream-memory", few)
    try:
        import faiss  # noqa: F401

        plan |= {"faiss-flat": ("faiss-flat", n), "faiss-ivf": ("faiss-ivf", n)}
    except ImportError:
        pass
    return plan


FEW = ("xlr-topk-few", "legacy-topk", "stream-memory")


def _run_worker(
    name: str,
    mode: str,
    n_queries: int,
    pool: Path,
    queries: Path,
    folder: Path,
    cfg: Config,
) -> dict[str, Any]:
    opts = {
        "k": cfg.scale_k,
        "n_queries": n_queries,
        "legacy_chunk": cfg.scale_legacy_chunk,
        "ivf_lists": cfg.scale_ivf_lists,
        "ivf_probes": list(cfg.scale_ivf_probes),
        "ivf_train": cfg.scale_ivf_train,
    }
    prefix = folder / name
    cmd = [
        sys.executable,
        "-m",
        "bench.scale_worker",
        mode,
        str(pool),
        str(queries),
        str(prefix),
        json.dumps(opts),
    ]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cfg.scale_timeout_s)
    except subprocess.TimeoutExpired:
        return {
            "mode": mode,
            "n_queries": n_queries,
            "error": f"timed out after {cfg.scale_timeout_s} s",
        }
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"
        return {"mode": mode, "n_queries": n_queries, "error": tail}
    out = json.loads(Path(f"{prefix}.json").read_text())
    out["n_queries"] = n_queries
    return out


def _recall(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact top-k found in the approximate top-k (same query rows)."""
    exact = exact[: approx.shape[0]]
    hits = [np.intersect1d(a, e).size for a, e in zip(approx, exact)]
    return float(np.mean(hits) / exact.shape[1])


def _agreement(runs: dict[str, dict], folder: Path) -> dict[str, Any]:
    """Exact runs must return the current core's lists (on their rows); faiss gets a recall."""
    ref = np.load(folder / "xlr-topk.idx.npy")
    out: dict[str, Any] = {}
    for name in ("stream-disk",) + FEW:
        if name in runs and "error" not in runs[name]:
            got = np.load(folder / f"{name}.idx.npy")
            if not np.array_equal(got, ref[: got.shape[0]]):
                raise AssertionError(f"scale: {name} top-k lists differ from xlr.retrieval.ranks.top_k's")
            out[f"{name} lists identical to xlr.retrieval.ranks.top_k"] = True
    if "error" not in runs.get("faiss-flat", {"error": 1}):
        out["faiss-flat recall@k vs exact"] = _recall(np.load(folder / "faiss-flat.idx.npy"), ref)
    if "error" not in runs.get("faiss-ivf", {"error": 1}):
        for f in sorted(folder.glob("faiss-ivf.nprobe*.idx.npy")):
            out[f"faiss-ivf {f.name.split('.')[1]} recall@k vs exact"] = _recall(np.load(f), ref)
    return out


def _fig(name: str, a: dict, b_name: str, b: dict, key: str, unit: str, **kw) -> Figure:
    scale = 1 / GIB if unit == "GiB" else 1.0
    return Figure(name, a[key] * scale, unit, b_name, b[key] * scale, **kw)


def _figures(runs: dict[str, dict], cfg: Config, agreement: dict) -> list[dict[str, Any]]:
    ok = {m: r for m, r in runs.items() if "error" not in r}
    core, disk, flat, ivf = (
        ok.get("xlr-topk"),
        ok.get("stream-disk"),
        ok.get("faiss-flat"),
        ok.get("faiss-ivf"),
    )
    few, legacy = ok.get("xlr-topk-few"), ok.get("legacy-topk")
    big = f"{cfg.scale_queries:,} x {cfg.scale_pool:,} x {cfg.scale_dim}, top-{cfg.scale_k}"
    core_label = "xlr.retrieval.ranks.top_k, pool in memory"
    figs = []
    if core and flat:
        figs += [
            _fig(
                f"{core_label} ({big}): time",
                core,
                "faiss IndexFlatIP (exact), same queries: search",
                flat,
                "search_s",
                "s",
                note=f"faiss add {flat['load_s']:.1f} s not included",
            ),
            _fig(
                f"{core_label}: peak RSS",
                core,
                "faiss IndexFlatIP (pool held in the index): peak RSS",
                flat,
                "peak_rss_bytes",
                "GiB",
                target="< 2 GB",
            ),
        ]
    if core and disk:
        figs += [
            _fig(
                "xlr.retrieval.streaming.streaming_top_k, pool read from the .npy in chunks: peak RSS",
                disk,
                f"{core_label}: peak RSS",
                core,
                "peak_rss_bytes",
                "GiB",
                target="< 2 GB",
            ),
            _fig(
                "xlr.retrieval.streaming.streaming_top_k, pool read from the .npy in chunks: time",
                disk,
                f"{core_label}: time",
                core,
                "search_s",
                "s",
            ),
        ]
    if few and legacy:
        n = few["n_queries"]
        figs += [
            _fig(
                f"{core_label}, first {n:,} queries: time",
                few,
                f"query-chunked top-k (xlr before streaming, chunk_size={cfg.scale_legacy_chunk}), same queries",
                legacy,
                "search_s",
                "s",
                note=f"old kernel projected to {cfg.scale_queries:,} queries: "
                f"{legacy['search_s'] * cfg.scale_queries / n:.3g} s",
            ),
            _fig(
                f"{core_label}, first {n:,} queries: peak RSS",
                few,
                "query-chunked top-k: peak RSS",
                legacy,
                "peak_rss_bytes",
                "GiB",
            ),
        ]
    if ok.get("stream-memory") and few:
        figs.append(
            _fig(
                "xlr.retrieval.streaming.streaming_top_k called directly, pool in memory: time",
                ok["stream-memory"],
                f"{core_label}, same queries",
                few,
                "search_s",
                "s",
            )
        )
    if ivf and core:
        for probe, secs in ivf["search_s_by_nprobe"].items():
            rec = agreement.get(f"faiss-ivf nprobe{probe} recall@k vs exact", float("nan"))
            figs.append(
                Figure(
                    f"faiss IVF{cfg.scale_ivf_lists},Flat nprobe={probe}: search (approximate)",
                    secs,
                    "s",
                    f"{core_label} (exact), same queries",
                    core["search_s"],
                    note=f"recall@{cfg.scale_k} vs exact {rec:.4f}; train {ivf['train_s']:.1f} s + "
                    f"add {ivf['add_s']:.1f} s not included",
                )
            )
    return [f.to_dict() for f in figs]


def _repeated(
    names: list[str],
    plan: dict[str, tuple[str, int]],
    pool: Path,
    queries: Path,
    folder: Path,
    cfg: Config,
) -> dict[str, dict[str, Any]]:
    """Run the named (short) plans ``scale_few_repeats`` times in turns: median time, largest peak RSS."""
    all_runs: dict[str, list[dict]] = {n: [] for n in names}
    for _ in range(max(1, cfg.scale_few_repeats)):
        for name in names:
            all_runs[name].append(_run_worker(name, *plan[name], pool, queries, folder, cfg))
    out = {}
    for name, rs in all_runs.items():
        bad = [r for r in rs if "error" in r]
        if bad:
            out[name] = bad[0]
            continue
        merged = dict(rs[-1])
        merged["search_s_runs"] = [r["search_s"] for r in rs]
        merged["search_s"] = float(np.median(merged["search_s_runs"]))
        merged["peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in rs)
        out[name] = merged
    return out


def run_scale(cfg: Config, folder: Path) -> dict[str, Any]:
    """Generate the data, run every mode in its own process, compare lists, report time and memory.

    The runs on all queries run once; the runs on the first ``scale_few_queries``
    ``scale_few_repeats`` times, in turns.
    """
    pool, queries = generate_scale_data(cfg, folder)
    plan = _plan(cfg)
    few = [n for n in FEW if n in plan]
    runs = {
        name: _run_worker(name, mode, n, pool, queries, folder, cfg)
        for name, (mode, n) in plan.items()
        if name not in few
    }
    runs |= _repeated(few, plan, pool, queries, folder, cfg)
    agreement = _agreement(runs, folder)
    for r in runs.values():
        r.pop("idx_files", None)
        if "peak_rss_bytes" in r:
            r["peak_rss_gib"] = r["peak_rss_bytes"] / GIB
            r["peak_rss_minus_pool_gib"] = (r["peak_rss_bytes"] - r["data_bytes"]) / GIB
    return {
        "figures": _figures(runs, cfg, agreement),
        "agreement": agreement,
        "runs": runs,
        "pool_gib": cfg.scale_pool * cfg.scale_dim * 4 / GIB,
    }
