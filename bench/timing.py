"""Timing helpers and the figure record every benchmark reports.

A *figure* is one measured value next to its baseline, measured in the same
process run.  ``ratio`` is always ``value / baseline_value``: below 1 means
xlr takes less time (or memory) than the baseline, and ``1 / ratio`` is the
speed-up.  Times are medians over ``runs`` (kept in the record) so that the
noise of a shared machine shows.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Figure",
    "Timed",
    "figure_from",
    "interleaved",
    "percentile",
    "time_once",
    "timed_runs",
]


@dataclass
class Timed:
    """Wall times (seconds) of repeated runs of one piece of work, and its last result."""

    runs: list[float]
    result: Any = None

    @property
    def median(self) -> float:
        return float(statistics.median(self.runs))


def time_once(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall time of one call (perf_counter) and its result."""
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def timed_runs(fn: Callable[[], Any], repeats: int, warmup: int = 0) -> Timed:
    """Run ``fn`` ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        fn()
    runs, result = [], None
    for _ in range(max(1, repeats)):
        dt, result = time_once(fn)
        runs.append(dt)
    return Timed(runs, result)


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int, warmup: int = 1) -> dict[str, Timed]:
    """Time several alternatives in turns (A B C A B C ...) so drifting load hits all alike."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    out = {name: Timed([]) for name in fns}
    for _ in range(max(1, repeats)):
        for name, fn in fns.items():
            dt, res = time_once(fn)
            out[name].runs.append(dt)
            out[name].result = res
    return out


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation (numpy's default)."""
    import numpy as np

    return float(np.percentile(np.asarray(values, dtype=float), q))


@dataclass
class Figure:
    """One measured value with its same-run baseline; ``ratio = value / baseline_value``."""

    name: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    runs: list[float] = field(default_factory=list)
    baseline_runs: list[float] = field(default_factory=list)
    target: str = ""
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline_value if self.baseline_value else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_value": self.baseline_value,
            "ratio": self.ratio,
            "ratio_of_minima": min(self.runs) / min(self.baseline_runs) if self.runs and self.baseline_runs else None,
            "runs": self.runs,
            "baseline_runs": self.baseline_runs,
            "target": self.target,
            "note": self.note,
        }


def figure_from(name: str, mine: Timed, baseline_name: str, base: Timed, **kw: Any) -> Figure:
    """A time figure (seconds) from two :class:`Timed` medians."""
    return Figure(
        name,
        mine.median,
        "s",
        baseline_name,
        base.median,
        list(mine.runs),
        list(base.runs),
        **kw,
    )
