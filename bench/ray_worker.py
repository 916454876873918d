"""One Ray-benchmark measurement in its own process, so its peak resident memory is its own.

``python -m bench.ray_worker MODE POOL.npy QUERIES.npy GOLD.npy OUT_PREFIX JSON_OPTIONS`` writes
``OUT_PREFIX.json`` (times, peak RSS) and ``OUT_PREFIX.{idx,ranks}.npy``.

Modes: ``local-topk`` (``xlr.retrieval.ranks.top_k``: the streaming kernel for large pools),
``local-gold`` (``xlr.retrieval.ranks.gold_ranks``) and ``ray`` (``xlr.engines.ray_engine.ray_rank``:
gold ranks and top-k in one sharded pass, Ray in local mode on ``num_cpus`` CPUs; the peak RSS
of every Ray worker process is read before Ray shuts down).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .procs import peak_rss, ray_pids, vm_hwm


def _local_topk(pool: np.ndarray, q: np.ndarray, gold: np.ndarray, opts: dict) -> dict[str, Any]:
    from xlr.retrieval.ranks import top_k

    t0 = time.perf_counter()
    idx, _ = top_k(q, pool, int(opts["k"]))
    return {"search_s": time.perf_counter() - t0, "idx": idx}


def _local_gold(pool: np.ndarray, q: np.ndarray, gold: np.ndarray, opts: dict) -> dict[str, Any]:
    from xlr.retrieval.ranks import gold_ranks

    t0 = time.perf_counter()
    ranks = gold_ranks(q, pool, gold)
    return {"search_s": time.perf_counter() - t0, "ranks": ranks}


def _ray(pool: np.ndarray, q: np.ndarray, gold: np.ndarray, opts: dict) -> dict[str, Any]:
    from xlr.engines.ray_engine import RaySpec, ray_rank, ray_session

    spec = RaySpec(num_cpus=int(opts["num_cpus"]), shards=int(opts["shards"]))
    t0 = time.perf_counter()
    with ray_session(spec):
        init_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        ranks, idx, _ = ray_rank(q, pool, gold, k=int(opts["k"]), spec=spec)
        search_s = time.perf_counter() - t1
        workers = {pid: vm_hwm(pid) for pid in ray_pids()}
    workers = {p: v for p, v in workers.items() if v}
    return {
        "search_s": search_s,
        "ray_init_s": init_s,
        "ranks": ranks,
        "idx": idx,
        "ray_worker_peak_rss_bytes": sorted(workers.values(), reverse=True),
    }


MODES = {"local-topk": _local_topk, "local-gold": _local_gold, "ray": _ray}


def main(argv: list[str]) -> int:
    mode, pool_path, q_path, gold_path, prefix, opts = argv[0], argv[1], argv[2], argv[3], argv[4], json.loads(argv[5])
    import xlr.retrieval.ranks  # noqa: F401  (imported before the baseline RSS is read)

    rss_imports = peak_rss()
    t0 = time.perf_counter()
    pool = np.load(pool_path)
    load_s = time.perf_counter() - t0
    q, gold = np.load(q_path), np.load(gold_path)
    out = MODES[mode](pool, q, gold, opts)
    for key in ("idx", "ranks"):
        if key in out:
            np.save(f"{prefix}.{key}.npy", out.pop(key))
    out |= {
        "mode": mode,
        "load_s": load_s,
        "peak_rss_bytes": peak_rss(),
        "rss_after_imports_bytes": rss_imports,
        "pool_bytes": pool.nbytes,
    }
    Path(f"{prefix}.json").write_text(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
