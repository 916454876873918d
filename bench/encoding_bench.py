"""Benchmark 4: xlr's encoding overhead over the bare engine, and the embedding cache.

* Overhead: the same texts (Tatoeba sentences, all languages mixed) in the
  same batches of ``encode_batch``: the engine's own call per batch vs
  ``encoder.encode(texts, role="query", batch_size=...)`` (xlr: checks,
  prefixing, batching, normalising).  Run in turns, median of repeats.
* Cache: ``EmbeddingCache.embed`` in a fresh temporary folder (cold: encode
  and write), then a new ``EmbeddingCache`` on the same folder (cached: read
  and verify the shards, as a new process would), then the same instance
  again (cached in memory).
* Engine threads: the bare engine in fresh processes with 1 thread and with
  ``os.cpu_count()`` threads (what xlr's backends ask for), in turns: batch
  throughput and one-text latency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from xlr.data.tatoeba import load_tatoeba
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.registry import load_encoder

from .config import Config
from .data import data_dir
from .latency_bench import engine_encode_fn
from .timing import Figure, Timed, figure_from, interleaved, percentile, time_once

__all__ = ["run_encoding"]


def _texts(n: int) -> list[str]:
    """n Tatoeba sentences, taking the languages in turn."""
    corpus = load_tatoeba(data_dir() / "tatoeba")
    langs = corpus.languages
    per = {lang: corpus.texts(corpus.positions(lang)) for lang in langs}
    return [per[langs[i % len(langs)]][i // len(langs)] for i in range(n)]


def _engine_batches(encoder: Encoder, texts: list[str], batch: int):
    engine = engine_encode_fn(encoder)

    def run() -> np.ndarray:
        return np.concatenate(
            [np.asarray(engine(texts[i : i + batch]), dtype=np.float32) for i in range(0, len(texts), batch)]
        )

    return run


def _overhead(name: str, encoder: Encoder, texts: list[str], cfg: Config) -> tuple[list[dict], dict]:
    fns = {
        "engine": _engine_batches(encoder, texts, cfg.encode_batch),
        "xlr": lambda: encoder.encode(texts, role="query", batch_size=cfg.encode_batch),
    }
    t = interleaved(fns, cfg.encode_repeats)
    raw = t["engine"].result
    raw = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    diff = float(np.abs(raw - t["xlr"].result).max())
    fig = figure_from(
        f"{name}: xlr encoder.encode, {len(texts)} texts, batch {cfg.encode_batch}",
        t["xlr"],
        "engine's own encode, same batches",
        t["engine"],
        target="overhead < 5% (ratio < 1.05)",
    )
    return [fig.to_dict()], {"max_abs_diff_vs_engine_normalised": diff}


def _cache(name: str, encoder: Encoder, texts: list[str], cfg: Config) -> list[dict]:
    cold, disk, memory = Timed([]), Timed([]), Timed([])
    for _ in range(max(1, min(3, cfg.encode_repeats))):
        with tempfile.TemporaryDirectory(prefix="xlr-bench-cache-") as tmp:
            cold.runs.append(time_once(lambda: EmbeddingCache(Path(tmp)).embed(encoder, texts, role="query"))[0])
            fresh = EmbeddingCache(Path(tmp))
            dt, (_, stats) = time_once(lambda fresh=fresh: fresh.embed(encoder, texts, role="query"))
            if stats.encoded:
                raise AssertionError(f"cache miss on a cached re-run: {stats}")
            disk.runs.append(dt)
            memory.runs.append(time_once(lambda fresh=fresh: fresh.embed(encoder, texts, role="query"))[0])
    label = f"{name}: EmbeddingCache.embed, {len(texts)} texts"
    return [
        figure_from(
            f"{label}, cached (new cache object: read + verify shards)",
            disk,
            f"{label}, cold",
            cold,
        ).to_dict(),
        figure_from(f"{label}, cached (same cache object)", memory, f"{label}, cold", cold).to_dict(),
    ]


ROOT = Path(__file__).resolve().parents[1]


def _engine_run(backend: str, threads: int, texts_path: Path, cfg: Config, n_single: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "bench.engine_worker",
        backend,
        str(threads),
        str(texts_path),
        str(cfg.encode_batch),
        str(n_single),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _threads(name: str, encoder: Encoder, texts: list[str], cfg: Config, folder: Path) -> list[dict]:
    """1 thread vs os.cpu_count() threads, each in fresh processes, in turns."""
    many = os.cpu_count() or 1
    if many == 1:
        return []
    path = folder / f"texts-{name}.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    n_single = min(10, len(texts))
    runs: dict[int, list[dict]] = {1: [], many: []}
    for _ in range(max(1, min(2, cfg.encode_repeats))):
        for threads in (1, many):
            runs[threads].append(_engine_run(encoder.identity.backend, threads, path, cfg, n_single))
    batch = {t: Timed([r["batch_s"] for r in rs]) for t, rs in runs.items()}
    single = {t: [x for r in rs for x in r["single_ms"]] for t, rs in runs.items()}
    base = f"{many} threads (xlr's setting)"
    return [
        figure_from(
            f"{name}: engine with 1 thread, {len(texts)} texts in batches of {cfg.encode_batch}",
            batch[1],
            f"{name}: engine with {base}",
            batch[many],
        ).to_dict(),
        Figure(
            f"{name}: engine with 1 thread, one text, p50",
            percentile(single[1], 50),
            "ms",
            f"{name}: engine with {base}, one text, p50",
            percentile(single[many], 50),
            single[1],
            single[many],
        ).to_dict(),
    ]


def run_encoding(cfg: Config, folder: Path) -> dict[str, Any]:
    """Overhead and cache figures for every encoder in ``cfg.encode_texts``."""
    figures, info = [], {}
    for name, n in cfg.encode_texts.items():
        encoder = load_encoder(name)
        texts = _texts(n)
        figs, info[name] = _overhead(name, encoder, texts, cfg)
        figures += figs + _cache(name, encoder, texts, cfg) + _threads(name, encoder, texts, cfg, folder)
    return {"figures": figures, "info": info}
