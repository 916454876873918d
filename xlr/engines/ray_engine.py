"""Evaluate on a Ray cluster: encoder actors fill the shared embedding cache, tasks rank pool shards.

``evaluate_ray(corpus, "e5-small", cache, spec, RaySpec())`` returns the same
:class:`~xlr.retrieval.evaluate.DirectionResult` list as :func:`xlr.retrieval.evaluate.evaluate`:

* **Encoding.** Ray Data reads the direction documents' distinct texts (sorted by length,
  longest first, so a batch holds texts of similar length); ``map_batches`` sends batches
  of ``batch_size`` to an actor pool (one actor per GPU when the cluster has GPUs, else one
  per node, or ``actors``).  Each actor loads the encoder once and commits every batch to
  the :class:`~xlr.encoders.cache.EmbeddingCache` under ``cache.root`` -- storage every
  worker must reach (a shared path) -- with ``EmbeddingCache.embed``, which encodes only
  the texts the cache lacks and writes each batch as one shard that counts only once its
  manifest is renamed into place.  Fault tolerance is Ray Data's: a killed actor is
  restarted and its batches retried; a batch's vectors come from one attempt (an
  interrupted attempt leaves no readable shard; a finished one is found by the retry).
  The driver then reads every vector from the cache (nothing left to encode).
* **Ranking** (cosine): per direction, the pool is cut into shards of whole score tiles
  (:func:`xlr.retrieval.sharded.shard_bounds`), each a Ray task; the driver merges their
  counts into gold ranks identical to :func:`xlr.retrieval.ranks.gold_ranks`.  Each task
  runs its BLAS with the driver's thread count, so its products round as the driver's do.

Progress is ``progress(done, total)`` over the texts, as in the local path.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.api import ApiSettings
from xlr.encoders.base import Encoder, Progress, Role
from xlr.encoders.cache import CacheStats, EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.device import Runtime, apply_runtime
from xlr.encoders.registry import load_encoder
from xlr.engines.ray_encode import EncoderMismatch, encode_on_ray
from xlr.retrieval.directions import direction_positions
from xlr.retrieval.evaluate import EvalSpec, evaluate
from xlr.retrieval.ranks import DEFAULT_CHUNK, TILE, validate_embeddings
from xlr.retrieval.results import EvalResults
from xlr.retrieval.scoring import ScoringSpec
from xlr.retrieval.sharded import (
    merge_gold_scores,
    merge_parts,
    shard_bounds,
    shard_gold_scores,
    shard_part,
)

__all__ = [
    "EncoderMismatch",
    "RaySpec",
    "RayUnavailable",
    "evaluate_ray",
    "ray_gold_ranks",
    "ray_rank",
    "ray_session",
    "require_ray",
]

INSTALL_HINT = "pip install 'xlr[ray]' (or pip install -r requirements-ray.txt)"


class RayUnavailable(ValueError):
    """``--engine ray`` without Ray installed, or a cluster that cannot be reached."""


@dataclass(frozen=True)
class RaySpec:
    """Where and how to run: cluster address, actor count, batch size, shards per direction, tiles.

    ``address=None`` starts a local Ray with ``num_cpus`` CPUs (and stops it afterwards);
    otherwise ``ray.init(address)`` joins a running cluster (``"auto"``, ``"ray://host:10001"``).
    ``actors=None``: one per GPU of the cluster, else one per node (a CPU encoder uses all of
    its node's cores; bench section 6 measured a second actor on 2 cores at 0.82x throughput).
    ``shards=None``: one per cluster CPU.  ``tile``/``chunk_size`` must equal the local kernel's for identical ranks.
    """

    address: str | None = None
    num_cpus: int | None = 2
    actors: int | None = None
    batch_size: int = 32
    shards: int | None = None
    tile: int = TILE
    chunk_size: int = DEFAULT_CHUNK

    def __post_init__(self) -> None:
        for name in ("actors", "shards", "num_cpus"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"RaySpec.{name} must be >= 1, got {v}")
        if self.batch_size < 1 or self.tile < 1 or self.chunk_size < 1:
            raise ValueError("RaySpec.batch_size, tile and chunk_size must be >= 1")


def require_ray() -> Any:
    """Import Ray (with Ray Data) or raise :class:`RayUnavailable` with the install line."""
    try:
        import ray
    except ImportError as exc:
        raise RayUnavailable(f"--engine ray needs Ray, which is not installed: {INSTALL_HINT}") from exc

    try:
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise RayUnavailable(f"--engine ray needs Ray Data (ray[data]): {INSTALL_HINT}") from exc
    return ray


def _project_root() -> str | None:
    """The folder holding the ``xlr`` package when it runs from a checkout (workers need it on their path)."""
    here = Path(__file__).resolve().parents[2]
    return str(here) if (here / "xlr" / "__init__.py").is_file() else None


@contextlib.contextmanager
def ray_session(spec: RaySpec) -> Iterator[Any]:
    """Use the Ray already initialised in this process, or start/join one and shut it down afterwards
    (also when its start fails or is interrupted by Ctrl-C)."""
    ray = require_ray()
    if ray.is_initialized():
        yield ray
        return
    env: dict[str, Any] = {}
    root = _project_root()
    if root:
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        env = {"env_vars": {"PYTHONPATH": path}}
    try:
        if spec.address:
            ray.init(address=spec.address, runtime_env=env or None, log_to_driver=False, logging_level=logging.WARNING)
        else:
            ray.init(
                num_cpus=spec.num_cpus,
                runtime_env=env or None,
                log_to_driver=False,
                include_dashboard=False,
                logging_level=logging.WARNING,
            )
    except (ConnectionError, RuntimeError) as exc:
        ray.shutdown()
        raise RayUnavailable(f"cannot start or reach Ray at {spec.address or 'local'}: {exc}") from exc
    except BaseException:  # Ctrl-C while Ray starts: a half-started Ray crashed the process at exit
        ray.shutdown()
        raise
    try:
        yield ray
    finally:
        ray.shutdown()


def _blas_threads() -> int | None:
    from threadpoolctl import threadpool_info

    counts = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return counts[0] if counts else None


def _with_blas_threads(threads: int | None, fn, *args, **kwargs):
    """Run ``fn`` with the BLAS at ``threads`` threads (the driver's), so products round alike."""
    if threads is None:
        return fn(*args, **kwargs)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads, user_api="blas"):
        return fn(*args, **kwargs)


def ray_rank(
    queries: np.ndarray,
    pool: np.ndarray,
    gold: np.ndarray,
    *,
    k: int = 0,
    spec: RaySpec = RaySpec(),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gold ranks and top-``k`` (cosine) with the pool sharded over Ray tasks; Ray must be initialised.

    Two rounds of one task per shard: the gold scores (from the tiles holding golds), then
    counts above / tied with them and the partial top-k; merged by
    :func:`xlr.retrieval.sharded.merge_parts` into ``(ranks, top_idx, top_val)``, equal to
    ``gold_ranks(..., chunk_size, tile)`` and ``top_k(..., chunk_size, tile)``.  A task that
    fails (its worker killed) is retried by Ray; each returns its whole part or nothing.
    """
    import ray

    pool = validate_embeddings("pool", pool)
    queries = validate_embeddings("queries", queries, pool.shape[1])
    gold = np.asarray(gold, dtype=np.int64)
    n_shards = spec.shards or max(1, int(ray.cluster_resources().get("CPU", 1)))
    bounds = shard_bounds(pool.shape[0], n_shards, spec.tile)
    threads = _blas_threads()
    opts = {"chunk_size": spec.chunk_size, "tile": spec.tile}
    task = ray.remote(num_cpus=1, max_retries=3)(_with_blas_threads)
    q_ref, gold_ref = ray.put(queries), ray.put(gold)
    shards = [(a, ray.put(pool[a:b])) for a, b in bounds]
    g = merge_gold_scores(
        ray.get([task.remote(threads, shard_gold_scores, q_ref, s, a, gold_ref, **opts) for a, s in shards])
    )
    g_ref = ray.put(g)
    parts = ray.get([task.remote(threads, shard_part, q_ref, s, a, g_ref, k, **opts) for a, s in shards])
    return merge_parts(parts, pool.shape[0])


def ray_gold_ranks(
    queries: np.ndarray,
    pool: np.ndarray,
    gold: np.ndarray,
    *,
    scoring: ScoringSpec | None = None,
    spec: RaySpec = RaySpec(),
) -> np.ndarray:
    """:func:`xlr.retrieval.ranks.gold_ranks` (cosine) computed by :func:`ray_rank`: a ``ranker`` for ``evaluate``."""
    if scoring is not None and scoring.method != "cosine":
        raise ValueError(
            f"--engine ray ranks with cosine only; {scoring.label} needs the whole pool per query (use --engine local)"
        )
    return ray_rank(queries, pool, gold, spec=spec)[0]


def evaluate_ray(
    corpus: Corpus,
    encoder_name: str,
    cache: EmbeddingCache,
    spec: EvalSpec,
    ray_spec: RaySpec = RaySpec(),
    *,
    progress: Progress | None = None,
    encoder: Encoder | None = None,
    runtime: Runtime | None = None,
    api: ApiSettings | None = None,
) -> tuple[EvalResults, Encoder, CacheStats]:
    """:func:`xlr.retrieval.evaluate.evaluate` on Ray: ``(results, encoder, stats)``.

    ``cache.root`` must be reachable by every worker.  ``encoder`` defaults to
    ``load_encoder(encoder_name, api=api)`` set to ``runtime``; the actors build the same
    (see :func:`encode_on_ray`).  ``stats`` counts what the actors encoded and found cached
    (the driver's own read of the cache is not counted).
    """
    if spec.scoring.method != "cosine":
        raise ValueError(
            f"--engine ray ranks with cosine only; {spec.scoring.label} needs the whole pool per query "
            "(use --engine local)"
        )
    if encoder is None:
        encoder = load_encoder(encoder_name, api=api)
        encoder = encoder if runtime is None else apply_runtime(encoder, runtime)
    enc = encoder
    wanted: dict[Role, list[np.ndarray]] = {"query": [], "document": []}
    for d in spec.directions:
        _, q_pos, p_pos = direction_positions(corpus, d, spec.first, random_state=spec.seed)
        wanted["query"].append(q_pos)
        wanted["document"].append(p_pos)
    positions: dict[Role, np.ndarray] = {role: np.concatenate(v) for role, v in wanted.items()}
    with ray_session(ray_spec):
        stats = encode_on_ray(
            corpus,
            enc,
            encoder_name,
            cache.root,
            positions,
            ray_spec,
            text_field=spec.text_field,
            progress=progress,
            runtime=runtime,
            api=api,
        )
        fresh = EmbeddingCache(cache.root)  # sees the shards the actors wrote
        emb = CorpusEmbeddings(corpus, enc, fresh, text_field=spec.text_field)
        results = evaluate(corpus, emb, spec, ranker=partial(ray_gold_ranks, spec=ray_spec))
    return results, enc, stats + CacheStats(emb.stats.encoded, 0, emb.stats.rebuilt_shards)
