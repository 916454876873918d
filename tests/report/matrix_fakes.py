"""Fake per-direction rank records for the many-language view tests."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xlr.retrieval.directions import Direction

LANGS = ("deu", "eng", "arb", "zho", "rus")


@dataclass(frozen=True)
class Rec:
    model: str
    direction: Direction
    ranks: np.ndarray


def fake_results(models=("A", "B"), langs=LANGS, n=60, seed=0, better=None):
    """Random ranks per direction; ``better`` = (model, source, target): that cell is near-perfect."""
    rng = np.random.default_rng(seed)
    out = []
    for m in models:
        for s in langs:
            for t in langs:
                if s == t:
                    continue
                ranks = rng.integers(1, 6, size=n)
                if better and (m, s, t) == better:
                    ranks = np.ones(n, dtype=np.int64)
                out.append(Rec(m, Direction(s, t), ranks))
    return out
