"""Encoder actors of the Ray engine: fill the shared embedding cache from a Ray Data actor pool.

Used by :func:`xlr.engines.ray_engine.evaluate_ray` (see its module docstring for the whole flow).
Each actor builds the driver's encoder (same name, API settings and runtime: device, precision,
batch size) and checks that its cache keys are the driver's before it encodes anything.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.api import ApiSettings
from xlr.encoders.base import Encoder, Progress, Role
from xlr.encoders.cache import CacheStats, EmbeddingCache, text_key
from xlr.encoders.device import Runtime, apply_runtime
from xlr.encoders.registry import load_encoder

if TYPE_CHECKING:
    from xlr.engines.ray_engine import RaySpec

__all__ = ["EncoderMismatch", "encode_on_ray"]


class _EncodeActor:
    """Ray Data actor: loads the encoder once, commits each batch to the shared cache.

    :func:`_actor_class` subclasses it with the settings as class attributes (Ray Data would
    otherwise keep constructor arguments in the object store, which it warns about for
    restartable actors).
    """

    encoder_name = ""
    cache_root = ""
    batch_size = 32
    runtime: Runtime | None = None
    api: ApiSettings | None = None
    keys: tuple[str, str] = ("", "")  # the driver's cache keys (query, document)

    def __init__(self) -> None:
        encoder = load_encoder(self.encoder_name, api=self.api)
        self.encoder = encoder if self.runtime is None else apply_runtime(encoder, self.runtime)
        ident = self.encoder.identity
        if self.keys != ("", "") and (ident.cache_key("query"), ident.cache_key("document")) != self.keys:
            raise EncoderMismatch(
                f"the encoder {self.encoder_name!r} on Ray worker {os.uname().nodename} is not the driver's "
                f"({ident.describe()}): install the same package and model versions on every machine"
            )
        self.cache = EmbeddingCache(self.cache_root)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        role: Role = str(batch["role"][0])  # type: ignore[assignment]
        texts = [str(t) for t in batch["text"]]
        _, stats = self.cache.embed(self.encoder, texts, role=role, batch_size=self.batch_size)
        n = len(texts)
        return {
            "encoded": np.array([stats.encoded] + [0] * (n - 1)),
            "cached": np.array([stats.cached] + [0] * (n - 1)),
            "pid": np.full(n, os.getpid()),
        }


class EncoderMismatch(RuntimeError):
    """An actor built an encoder whose identity (so cache key) differs from the driver's."""


def _actor_class(
    encoder: Encoder,
    encoder_name: str,
    cache_root: Path,
    batch_size: int,
    runtime: Runtime | None,
    api: ApiSettings | None,
) -> type[_EncodeActor]:
    attrs = {
        "encoder_name": encoder_name,
        "cache_root": str(cache_root),
        "batch_size": batch_size,
        "runtime": runtime,
        "api": api,
        "keys": (encoder.identity.cache_key("query"), encoder.identity.cache_key("document")),
    }
    return type("EncodeActor", (_EncodeActor,), attrs)


def _actor_resources(ray: Any, spec: RaySpec) -> tuple[int, dict[str, Any]]:
    res = ray.cluster_resources()
    gpus = int(res.get("GPU", 0))
    if gpus:
        return spec.actors or gpus, {"num_gpus": 1}
    # CPU encoders already use every core of their machine: one actor per node, spread over the nodes
    nodes = [n for n in ray.nodes() if n.get("Alive")]
    return spec.actors or max(1, len(nodes)), {"num_cpus": 1, "scheduling_strategy": "SPREAD"}


def encode_on_ray(
    corpus: Corpus,
    encoder: Encoder,
    encoder_name: str,
    cache_root: Path,
    wanted: dict[Role, np.ndarray],
    spec: RaySpec,
    *,
    text_field: str = "text",
    progress: Progress | None = None,
    runtime: Runtime | None = None,
    api: ApiSettings | None = None,
) -> CacheStats:
    """Encode the texts of ``wanted[role]`` (corpus positions) on an actor pool into the cache at ``cache_root``.

    Each actor builds ``load_encoder(encoder_name, api=api)`` set to ``runtime`` (device, precision,
    batch size; ``auto`` resolves on the actor's own machine) and refuses to start
    (:class:`EncoderMismatch`) unless its cache keys equal ``encoder``'s, so the driver always finds
    what the actors wrote.  Roles that share a cache key (same prefix) are sent once.  Returns the
    actors' counts (distinct texts encoded / found in the cache).
    """
    import ray
    import ray.data

    rows: list[dict[str, str]] = []
    seen: set[tuple[str, bytes]] = set()
    for role, positions in wanted.items():
        ns = encoder.identity.cache_key(role)
        for text in corpus.texts(np.unique(positions), field=text_field):
            key = (ns, text_key(text))
            if key not in seen:
                seen.add(key)
                rows.append({"role": role, "text": text})
    if not rows:
        return CacheStats(0, 0)
    # one role per batch: sort by role, then longest first (similar lengths share a batch)
    rows.sort(key=lambda r: (r["role"], -len(r["text"])))
    by_role: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_role.setdefault(r["role"], []).append(r)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False  # progress goes through ``progress`` as in the local path
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    n_actors, resources = _actor_resources(ray, spec)
    encoded = cached = done = 0
    total = len(rows)
    for role_rows in by_role.values():
        ds = ray.data.from_items(role_rows, override_num_blocks=max(1, -(-len(role_rows) // spec.batch_size)))
        out = ds.map_batches(
            _actor_class(encoder, encoder_name, cache_root, spec.batch_size, runtime, api),
            batch_size=spec.batch_size,
            compute=ray.data.ActorPoolStrategy(size=n_actors),
            batch_format="numpy",
            **resources,
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=UserWarning, module="ray")
            for batch in out.iter_batches(batch_size=None, batch_format="numpy"):
                encoded += int(batch["encoded"].sum())
                cached += int(batch["cached"].sum())
                done += len(batch["pid"])
                if progress is not None:
                    progress(done, total)
    return CacheStats(encoded, cached)
