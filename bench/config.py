"""Benchmark sizes: the full run and the ``--smoke`` run (same code, tiny sizes)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from .synthetic import LANGS

__all__ = ["Config", "BENCHMARKS"]

BENCHMARKS = ("metrics", "scoring", "xquad", "encoding", "latency", "scale", "ray")


def _default_cache_dir() -> Path:
    from xlr.encoders.cache import default_cache_dir

    return default_cache_dir()


@dataclass(frozen=True)
class Config:
    """Every size and repeat count; :meth:`smoke` shrinks them to seconds."""

    smoke: bool = False
    seed: int = 0
    ks: tuple[int, ...] = (1, 5, 10)
    # 1 + 5: metrics and scoring on synthetic vectors
    n_ids: int = 1973
    langs: tuple[str, ...] = LANGS
    dim: int = 768
    repeats: int = 5
    slow_repeats: int = 2
    ranx_repeats: int = 1
    ranx_directions: int | None = 10
    scoring_repeats: int = 3
    # 1b: XQuAD with real use-m3 vectors
    xquad_ids: int | None = None
    xquad_langs: tuple[str, ...] | None = None
    xquad_encoder: str = "use-m3"
    # 2: scale
    scale_pool: int = 1_000_000
    scale_queries: int = 10_000
    scale_dim: int = 384
    scale_k: int = 10
    scale_legacy_chunk: int = 32
    scale_few_queries: int | None = 1_000
    scale_stream_memory: bool = False
    scale_few_repeats: int = 2
    scale_clusters: int = 4000
    scale_cluster_amp: float = 0.7
    scale_ivf_lists: int = 1024
    scale_ivf_probes: tuple[int, ...] = (8, 32)
    scale_ivf_train: int = 65_536
    scale_timeout_s: int = 900
    # 3: ad-hoc query latency
    latency_encoders: tuple[str, ...] = ("e5-small", "use-m3")
    latency_queries: int = 30
    latency_warmup: int = 3
    latency_tatoeba: bool = True
    latency_xquad_ids: int | None = None
    # 4: encoding overhead and cache
    encode_texts: dict[str, int] = field(default_factory=lambda: {"use-m3": 512, "e5-small": 32})
    encode_repeats: int = 9
    encode_batch: int = 32
    # 6: Ray engine (ranking uses the scale sizes above)
    ray_cpus: int = 2
    ray_shards: int = 2
    ray_encoder: str = "use-m3"
    ray_encode_texts: int = 2000
    ray_encode_repeats: int = 2
    # where things go
    cache_dir: Path = field(default_factory=_default_cache_dir)
    work_dir: Path | None = None
    only: tuple[str, ...] = BENCHMARKS

    @classmethod
    def smoke_config(cls, **overrides) -> Config:
        """Tiny sizes: every benchmark in seconds, same code paths."""
        base = cls(
            smoke=True,
            n_ids=60,
            langs=("ar", "de", "en"),
            dim=32,
            repeats=2,
            slow_repeats=1,
            ranx_directions=None,
            scoring_repeats=1,
            xquad_ids=4,
            xquad_langs=("ar", "de", "en"),
            scale_pool=20_000,
            scale_queries=200,
            scale_dim=32,
            scale_legacy_chunk=64,
            scale_few_queries=100,
            scale_stream_memory=True,
            scale_few_repeats=2,
            scale_clusters=50,
            scale_ivf_lists=16,
            scale_ivf_probes=(2, 8),
            scale_ivf_train=2_000,
            scale_timeout_s=300,
            latency_queries=3,
            latency_warmup=1,
            latency_tatoeba=False,
            latency_xquad_ids=6,
            encode_texts={"use-m3": 8, "e5-small": 2},
            encode_repeats=1,
            ray_encode_texts=40,
            ray_encode_repeats=1,
        )
        return replace(base, **overrides)

    def describe(self) -> dict[str, object]:
        out = {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}
        out.pop("work_dir", None)
        out["XLR_CACHE_DIR"] = os.environ.get("XLR_CACHE_DIR", "")
        return out
