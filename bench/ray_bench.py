"""Benchmark 6: the Ray engine (local mode) next to the local kernels.

* **Ranking**: the scale benchmark's data (``scale_queries`` x ``scale_pool`` synthetic
  candidates, clustered, on the exact grid; each query a noisy copy of one candidate, its
  gold).  Three processes: the local streaming top-k (``xlr.retrieval.ranks.top_k``), the
  local ``gold_ranks``, and ``ray_rank`` (Ray local mode on ``ray_cpus`` CPUs, the pool in
  ``ray_shards`` shards, gold ranks and top-k in one sharded pass).  Results must be
  identical (the run fails otherwise); time and peak RSS per process (Ray workers: each
  worker's VmHWM, which counts the shared-memory object-store pages it mapped).
* **Encoding**: ``ray_encode_texts`` Tatoeba sentences (languages in turn) encoded with
  ``ray_encoder`` by ``xlr.engines.ray_engine.encode_on_ray`` into a fresh cache with 1
  actor and with 2 actors (in turns, one Ray session; actor start-up included).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .config import Config
from .scale_bench import GIB, ROOT, generate_scale_data
from .timing import Figure

__all__ = ["run_ray"]


def _gold(cfg: Config) -> np.ndarray:
    """Each query's gold: the candidate half the pool away from the one it copies.

    (:func:`bench.scale_bench.generate_scale_data` draws the copied candidates.)  With the
    copied candidate as gold every rank is 1; a far candidate spreads the ranks over the
    pool, so the above/tied counts of every shard matter.
    """
    picks = np.sort(np.random.default_rng([cfg.seed, 1]).choice(cfg.scale_pool, cfg.scale_queries, replace=False))
    return (picks + cfg.scale_pool // 2) % cfg.scale_pool


def _worker(mode: str, paths: tuple[Path, Path, Path], folder: Path, cfg: Config) -> dict[str, Any]:
    prefix = folder / f"ray-{mode}"
    opts = {"k": cfg.scale_k, "num_cpus": cfg.ray_cpus, "shards": cfg.ray_shards}
    cmd = [sys.executable, "-m", "bench.ray_worker", mode, *map(str, paths), str(prefix), json.dumps(opts)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cfg.scale_timeout_s)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit status {proc.returncode}"
        raise RuntimeError(f"ray bench worker {mode}: {tail}")
    out = json.loads(Path(f"{prefix}.json").read_text())
    out["prefix"] = str(prefix)
    return out


def _ranking(cfg: Config, folder: Path) -> tuple[list[Figure], dict[str, Any], dict[str, Any]]:
    pool, queries = generate_scale_data(cfg, folder)
    gold_path = folder / "gold.npy"
    np.save(gold_path, _gold(cfg))
    paths = (pool, queries, gold_path)
    runs = {mode: _worker(mode, paths, folder, cfg) for mode in ("local-topk", "local-gold", "ray")}
    ray_idx = np.load(runs["ray"]["prefix"] + ".idx.npy")
    ray_ranks = np.load(runs["ray"]["prefix"] + ".ranks.npy")
    same_idx = np.array_equal(ray_idx, np.load(runs["local-topk"]["prefix"] + ".idx.npy"))
    same_ranks = np.array_equal(ray_ranks, np.load(runs["local-gold"]["prefix"] + ".ranks.npy"))
    if not (same_idx and same_ranks):
        raise AssertionError(f"ray: top-k identical {same_idx}, gold ranks identical {same_ranks}")
    agreement = {
        "ray top-k lists identical to xlr.retrieval.ranks.top_k (streaming)": same_idx,
        "ray gold ranks identical to xlr.retrieval.ranks.gold_ranks": same_ranks,
        "gold ranks (min, median, max)": [int(ray_ranks.min()), float(np.median(ray_ranks)), int(ray_ranks.max())],
    }
    r, t, g = runs["ray"], runs["local-topk"], runs["local-gold"]
    size = f"{cfg.scale_queries:,} x {cfg.scale_pool:,} x {cfg.scale_dim}"
    label = f"ray_rank, {cfg.ray_shards} shards on Ray local mode ({cfg.ray_cpus} CPUs), gold ranks + top-{cfg.scale_k}"
    worker_peak = max(r["ray_worker_peak_rss_bytes"] or [0])
    figs = [
        Figure(f"{label} ({size}): time", r["search_s"], "s", "local streaming top_k, same queries", t["search_s"]),
        Figure(f"{label}: time", r["search_s"], "s", "local gold_ranks, same queries", g["search_s"]),
        Figure(
            f"{label}: driver peak RSS",
            r["peak_rss_bytes"] / GIB,
            "GiB",
            "local streaming top_k: peak RSS",
            t["peak_rss_bytes"] / GIB,
        ),
        Figure(
            f"{label}: largest Ray worker peak RSS (object-store pages included)",
            worker_peak / GIB,
            "GiB",
            "local streaming top_k: peak RSS",
            t["peak_rss_bytes"] / GIB,
        ),
        Figure(
            f"{label}: driver peak RSS",
            r["peak_rss_bytes"] / GIB,
            "GiB",
            "local gold_ranks: peak RSS",
            g["peak_rss_bytes"] / GIB,
        ),
    ]
    for run in runs.values():
        run.pop("prefix", None)
    return figs, agreement, runs


def _encoding(cfg: Config) -> tuple[list[Figure], dict[str, Any]]:
    from xlr.data.tatoeba import load_tatoeba
    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.registry import load_encoder
    from xlr.engines.ray_engine import RaySpec, encode_on_ray, ray_session

    from .data import data_dir

    corpus = load_tatoeba(data_dir() / "tatoeba")
    per = [corpus.positions(lang) for lang in corpus.languages]
    n = cfg.ray_encode_texts
    positions = np.array([per[i % len(per)][i // len(per)] for i in range(n)])
    encoder = load_encoder(cfg.ray_encoder)
    times: dict[int, list[float]] = {1: [], 2: []}
    counts: dict[int, int] = {}
    with ray_session(RaySpec(num_cpus=cfg.ray_cpus)):
        for _ in range(max(1, cfg.ray_encode_repeats)):
            for actors in (1, 2):
                with tempfile.TemporaryDirectory(prefix="xlr-ray-enc-") as tmp:
                    spec = RaySpec(num_cpus=cfg.ray_cpus, actors=actors, batch_size=cfg.encode_batch)
                    t0 = time.perf_counter()
                    stats = encode_on_ray(corpus, encoder, cfg.ray_encoder, Path(tmp), {"query": positions}, spec)
                    times[actors].append(time.perf_counter() - t0)
                    counts[actors] = stats.encoded
                    EmbeddingCache(tmp)  # the shards the actors wrote are readable
    med = {a: float(np.median(ts)) for a, ts in times.items()}
    fig = Figure(
        f"{cfg.ray_encoder}: encode_on_ray, {counts[2]} texts, 2 actors (texts/s: {counts[2] / med[2]:.1f})",
        med[2],
        "s",
        f"same texts, 1 actor (texts/s: {counts[1] / med[1]:.1f})",
        med[1],
        runs=times[2],
        baseline_runs=times[1],
    )
    return [fig], {"encoded texts (1 actor, 2 actors)": [counts[1], counts[2]]}


def run_ray(cfg: Config, folder: Path) -> dict[str, Any]:
    figs, agreement, runs = _ranking(cfg, folder)
    enc_figs, enc_extra = _encoding(cfg)
    return {
        "figures": [f.to_dict() for f in figs + enc_figs],
        "agreement": agreement,
        "runs": runs,
        "extra": enc_extra,
    }
