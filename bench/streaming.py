"""The streaming exact top-k now lives in :mod:`xlr.streaming`; re-exported for the benchmarks."""
from __future__ import annotations

from xlr.streaming import NpyRows, streaming_top_k

__all__ = ["NpyRows", "streaming_top_k"]
