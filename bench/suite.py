"""The benchmark sections: each returns ``{"title", "setup", "figures", ...}`` for results.json."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.registry import load_encoder
from xlr.retrieval.ranks import gold_ranks

from .config import Config
from .data import xquad_corpus
from .encoding_bench import run_encoding
from .latency_bench import run_latency
from .metrics_bench import compare_methods, corpus_directions
from .ray_bench import run_ray
from .scale_bench import run_scale
from .scoring_bench import run_scoring
from .synthetic import (
    break_gold_ties,
    exact_grid,
    synthetic_corpus,
    synthetic_languages,
)

__all__ = ["SECTIONS"]


def _synthetic(cfg: Config):
    """The synthetic corpus, its vectors, and how many vectors were nudged to break gold ties."""
    by_lang = synthetic_languages(cfg.n_ids, cfg.dim, cfg.langs, cfg.seed)
    nudged = break_gold_ties(by_lang)
    return (*synthetic_corpus(by_lang), nudged)


def _synthetic_setup(cfg: Config) -> str:
    n = len(cfg.langs)
    return (
        f"{cfg.n_ids} ids x {n} languages ({n * (n - 1)} directions), synthetic unit vectors of dimension "
        f"{cfg.dim} (seed {cfg.seed}, on the exact-dot-product grid); xlr timings: median of {cfg.repeats} runs "
        f"in turns; seed argsort and sentence-transformers: median of {cfg.slow_repeats}; ranx: "
        f"{cfg.ranx_repeats} run(s) of full-depth runs (every pool document scored) on "
        f"{'the first ' + str(cfg.ranx_directions) if cfg.ranx_directions else 'all'} directions, "
        "next to xlr on the same directions; imports and JIT warm-ups excluded (reported under extra)"
    )


def bench_metrics(cfg: Config, folder: Path) -> dict[str, Any]:
    corpus, vecs, nudged = _synthetic(cfg)
    out = compare_methods(corpus, vecs, cfg, what="synthetic")
    out["agreement"]["vectors nudged one grid step to break a tie with a gold"] = nudged
    return {
        "title": "1. Metrics: recall@{1,5,10} + MRR, every direction (synthetic)",
        "setup": _synthetic_setup(cfg),
    } | out


def bench_scoring(cfg: Config, folder: Path) -> dict[str, Any]:
    corpus, vecs, _ = _synthetic(cfg)
    out = run_scoring(corpus, vecs, cfg)
    setup = (
        f"same synthetic corpus as 1 ({out['n_directions']} directions), gold_ranks with each ScoringSpec "
        f"(k=10), median of {cfg.scoring_repeats} runs in turns"
    )
    return {"title": "5. CSLS / margin cost relative to cosine", "setup": setup} | out


def _rounding_changes(corpus, raw: np.ndarray, grid: np.ndarray) -> dict[str, Any]:
    """How rounding to the exact grid moved gold ranks: count, largest move, directions concerned."""
    moved, largest, where = 0, 0, {}
    for (label, q1, p1), (_, q2, p2) in zip(corpus_directions(corpus, raw), corpus_directions(corpus, grid)):
        gold = np.arange(q1.shape[0])
        delta = np.abs(gold_ranks(q1, p1, gold) - gold_ranks(q2, p2, gold))
        if delta.any():
            moved += int(np.count_nonzero(delta))
            largest = max(largest, int(delta.max()))
            where[label] = int(np.count_nonzero(delta))
    return {"queries": moved, "largest rank change": largest, "by direction": where}


def _on_grid(corpus, raw: np.ndarray) -> tuple[np.ndarray, int]:
    """Real vectors on the exact grid, gold ties broken; rows of every language must align by id."""
    grid = exact_grid(raw)
    by_lang = {lang: grid[corpus.positions(lang)] for lang in corpus.languages}
    for lang in corpus.languages:
        if [corpus.documents[p].id for p in corpus.positions(lang)] != list(corpus.ids):
            raise ValueError(f"{lang}: documents are not aligned by id; the grid tie-breaking needs them aligned")
    nudged = break_gold_ties(by_lang)
    for lang, x in by_lang.items():
        grid[corpus.positions(lang)] = x
    return grid, nudged


def bench_xquad(cfg: Config, folder: Path) -> dict[str, Any]:
    corpus = xquad_corpus(cfg.xquad_ids, cfg.xquad_langs)
    encoder = load_encoder(cfg.xquad_encoder)
    emb = CorpusEmbeddings(corpus, encoder, EmbeddingCache(cfg.cache_dir))
    t0 = time.perf_counter()
    raw = emb.vectors(np.arange(len(corpus)), "query")  # symmetric encoder: one vector per text
    encode_s = time.perf_counter() - t0
    grid, nudged = _on_grid(corpus, raw)
    out = compare_methods(corpus, grid, cfg, what="xquad")
    out["agreement"]["vectors nudged one grid step to break a tie with a gold"] = nudged
    out["agreement"]["gold ranks moved by rounding to the grid (vs raw vectors)"] = _rounding_changes(corpus, raw, grid)
    out["extra"] |= {
        "embed_s": encode_s,
        "encoded": emb.stats.encoded,
        "from_cache": emb.stats.cached,
    }
    n = len(corpus.languages)
    setup = (
        f"xquad-7lang.jsonl: {len(corpus.ids)} ids x {n} languages ({n * (n - 1)} directions), real "
        f"{cfg.xquad_encoder} vectors (EmbeddingCache in {cfg.cache_dir}), rounded to the exact grid so every "
        f"method sees identical scores; repeats as in 1"
    )
    return {
        "title": f"1b. Metrics on XQuAD with real {cfg.xquad_encoder} embeddings",
        "setup": setup,
    } | out


def bench_scale(cfg: Config, folder: Path) -> dict[str, Any]:
    out = run_scale(cfg, folder)
    setup = (
        f"{cfg.scale_queries:,} queries x {cfg.scale_pool:,} candidates, float32 d={cfg.scale_dim} "
        f"({out['pool_gib']:.2f} GiB of candidates, clustered, exact grid), top-{cfg.scale_k}, exact; "
        "one process per method, peak RSS = VmHWM of that process; runs on all queries once, runs on the "
        f"first {cfg.scale_few_queries:,} queries {cfg.scale_few_repeats} times in turns (median time, "
        "largest peak). xlr.retrieval.ranks.top_k streams over pools of xlr.retrieval.streaming.STREAM_ABOVE rows or more; "
        f"the old query-chunked kernel runs with chunk_size={cfg.scale_legacy_chunk} (its default, 1024, "
        "would hold a 1024 x pool float32 score block, its negated copy and an int64 argpartition of the "
        "same shape: ~17 GB at 1M candidates)"
    )
    return {"title": "2. Scale: exact top-k over a large pool", "setup": setup} | out


def bench_latency(cfg: Config, folder: Path) -> dict[str, Any]:
    out = run_latency(cfg)
    setup = (
        f"{out['n_queries']} typed queries (XQuAD questions, all 7 languages in turn) against "
        f"{out['n_pool']} documents (Tatoeba sentences + XQuAD paragraphs, every language), top-10, "
        f"after {cfg.latency_warmup} warm-up queries; alternatives run in turns per query"
    )
    return {"title": "3. Ad-hoc query latency", "setup": setup} | out


def bench_encoding(cfg: Config, folder: Path) -> dict[str, Any]:
    out = run_encoding(cfg, folder)
    setup = (
        f"Tatoeba sentences (languages in turn), batch {cfg.encode_batch}; overhead: median of "
        f"{cfg.encode_repeats} runs in turns; cache: temporary folder, median of "
        f"{max(1, min(3, cfg.encode_repeats))}; engine threads: fresh processes, 1 vs os.cpu_count() threads, "
        f"{max(1, min(2, cfg.encode_repeats))} run(s) each in turns"
    )
    return {
        "title": "4. Encoding: xlr overhead and the embedding cache",
        "setup": setup,
    } | out


def bench_ray(cfg: Config, folder: Path) -> dict[str, Any]:
    out = run_ray(cfg, folder)
    setup = (
        f"ranking: the scale data ({cfg.scale_queries:,} queries x {cfg.scale_pool:,} candidates, d={cfg.scale_dim}, "
        f"exact grid, gold = the candidate half the pool away from the one each query copies, so ranks spread), one process per method, peak RSS = VmHWM; Ray in "
        f"local mode on {cfg.ray_cpus} CPUs, {cfg.ray_shards} shards, tiles of 1024 queries x 16384 candidates; "
        f"encoding: {cfg.ray_encode_texts} Tatoeba sentences with {cfg.ray_encoder}, batch {cfg.encode_batch}, "
        f"fresh cache per run, 1 vs 2 actors in turns, {cfg.ray_encode_repeats} run(s) each, actor start included"
    )
    return {"title": "6. Ray engine (local mode) vs the local kernels", "setup": setup} | out


SECTIONS: dict[str, Callable[[Config, Path], dict[str, Any]]] = {
    "metrics": bench_metrics,
    "scoring": bench_scoring,
    "xquad": bench_xquad,
    "encoding": bench_encoding,
    "latency": bench_latency,
    "scale": bench_scale,
    "ray": bench_ray,
}
