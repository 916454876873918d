"""What users would pick instead of xlr, fed the same embeddings.

Every function takes the same directions (``label, queries, pool``, the gold of
query ``i`` being pool row ``i``) and returns ``{label: {metric: value}}``.

* :func:`seed_argsort`: the seed notebook: full ``np.argsort`` of each score
  matrix, then the position of the gold in it.
* :func:`st_evaluator`: sentence-transformers' ``InformationRetrievalEvaluator``
  (``compute_all_metrics`` with precomputed corpus embeddings and a stand-in
  model whose ``encode_query`` returns the query vectors; dot-product score,
  k values cut to what is asked so it keeps only the top 10 per query).  It
  reports MRR@10 only (full MRR would need ``mrr_at_k`` = pool size, i.e. the
  whole ranking kept in Python lists).
* :func:`ranx_metrics`: ranx on full-depth runs (every pool document scored
  for every query, so MRR is exact), timing the building of the run dicts
  from the score matrix apart from ranx's own ``Qrels``/``Run``/``evaluate``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "Direction",
    "ranx_metrics",
    "ranx_warmup",
    "seed_argsort",
    "st_evaluator",
    "st_warmup",
    "metrics_from_ranks",
]

Direction = tuple[str, np.ndarray, np.ndarray]
"""``(label, queries (n, d), pool (n, d))``; the gold of query i is pool row i."""

Metrics = dict[str, dict[str, float]]


def metrics_from_ranks(ranks: np.ndarray, ks: Iterable[int], mrr_cut: int | None = None) -> dict[str, float]:
    """recall@k for each k, MRR, and MRR@``mrr_cut`` (1/r counted only when r <= cut)."""
    r = np.asarray(ranks)
    out = {f"recall@{k}": float(np.mean(r <= k)) for k in ks}
    out["mrr"] = float(np.mean(1.0 / r))
    if mrr_cut:
        out[f"mrr@{mrr_cut}"] = float(np.mean(np.where(r <= mrr_cut, 1.0 / r, 0.0)))
    return out


def seed_argsort(dirs: Sequence[Direction], ks: Sequence[int]) -> Metrics:
    """The seed notebook's method: full argsort of the score matrix, then find the gold."""
    out = {}
    for label, q, p in dirs:
        scores = q @ p.T
        order = np.argsort(-scores, axis=1)
        gold = np.arange(q.shape[0])
        ranks = np.nonzero(order == gold[:, None])[1] + 1
        out[label] = metrics_from_ranks(ranks, ks)
    return out


class _PrecomputedModel:
    """Stands in for a SentenceTransformer: ``encode_query`` returns fixed vectors."""

    def __init__(self, queries: np.ndarray) -> None:
        import torch

        self._q = torch.from_numpy(np.ascontiguousarray(queries))

    def encode_query(self, sentences, **kwargs):  # noqa: ANN001 - mirrors the ST signature
        if len(sentences) != self._q.shape[0]:
            raise ValueError("stand-in model got a different number of queries")
        return self._q


def st_warmup(dirs: Sequence[Direction], ks: Sequence[int]) -> float:
    """Import torch and sentence-transformers and evaluate the first direction once; seconds taken."""
    start = time.perf_counter()
    st_evaluator(dirs[:1], ks)
    return time.perf_counter() - start


def st_evaluator(dirs: Sequence[Direction], ks: Sequence[int], mrr_cut: int = 10) -> Metrics:
    """sentence-transformers' InformationRetrievalEvaluator on precomputed embeddings."""
    import torch
    from sentence_transformers.sentence_transformer.evaluation import (
        InformationRetrievalEvaluator,
    )
    from sentence_transformers.util import dot_score

    out = {}
    for label, q, p in dirs:
        n = q.shape[0]
        qids = [f"q{i}" for i in range(n)]
        dids = [f"d{i}" for i in range(p.shape[0])]
        ev = InformationRetrievalEvaluator(
            queries=dict(zip(qids, qids)),
            corpus=dict(zip(dids, dids)),
            relevant_docs={f"q{i}": {f"d{i}"} for i in range(n)},
            accuracy_at_k=list(ks),
            precision_recall_at_k=[max(ks)],
            mrr_at_k=[mrr_cut],
            ndcg_at_k=[mrr_cut],
            map_at_k=[mrr_cut],
            score_functions={"dot": dot_score},
            write_csv=False,
        )
        res = ev.compute_all_metrics(_PrecomputedModel(q), corpus_embeddings=torch.from_numpy(p))["dot"]
        m = {f"recall@{k}": float(res["accuracy@k"][k]) for k in ks}
        m[f"mrr@{mrr_cut}"] = float(res["mrr@k"][mrr_cut])
        out[label] = m
    return out


def ranx_warmup(dirs: Sequence[Direction], ks: Sequence[int]) -> float:
    """Import ranx and evaluate 3 queries of the first direction; seconds taken.

    numba compiles (or loads from its cache) one version per id string length,
    so the warm-up uses the same ids as the timed runs.
    """
    start = time.perf_counter()
    label, q, p = dirs[0]
    ranx_metrics([(label, q[:3], p)], ks)
    return time.perf_counter() - start


def _ids(prefix: str, n: int) -> list[str]:
    """Fixed-width ids: numba compiles ranx once per id length, so every size shares one compile."""
    return [f"{prefix}{i:09d}" for i in range(n)]


def _ranx_names(ks: Sequence[int]) -> list[str]:
    return [f"recall@{k}" for k in ks] + ["mrr"]


def ranx_metrics(dirs: Sequence[Direction], ks: Sequence[int]) -> tuple[Metrics, float, float]:
    """ranx on full-depth runs; returns ``(metrics, build_seconds, ranx_seconds)``.

    ``build_seconds``: the score matrix and the ``{qid: {docid: score}}`` dicts
    (what an adapter from embeddings to ranx has to do); ``ranx_seconds``:
    ``Qrels(...)``, ``Run(...)`` and ``evaluate(...)``.
    """
    from ranx import Qrels, Run, evaluate

    names = _ranx_names(ks)
    out, build, own = {}, 0.0, 0.0
    for label, q, p in dirs:
        t0 = time.perf_counter()
        scores = (q @ p.T).tolist()
        qids, dids = _ids("q", q.shape[0]), _ids("d", p.shape[0])
        run = {qid: dict(zip(dids, row)) for qid, row in zip(qids, scores)}
        qrels = {qid: {dids[i]: 1} for i, qid in enumerate(qids)}
        t1 = time.perf_counter()
        res = evaluate(Qrels(qrels), Run(run), names)
        t2 = time.perf_counter()
        build += t1 - t0
        own += t2 - t1
        out[label] = {k: float(v) for k, v in res.items()}
        del run, scores
    return out, build, own
