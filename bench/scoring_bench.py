"""Benchmark 5: CSLS and margin cost relative to cosine, on the same directions.

Each rule runs ``xlr.retrieval.ranks.gold_ranks`` over every direction of the synthetic
corpus; the prototype :func:`bench.prototypes.symmetric_block_ranks` does the
same with one product per language pair.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from xlr.data.records import Corpus
from xlr.retrieval.ranks import gold_ranks
from xlr.retrieval.scoring import ScoringSpec

from .config import Config
from .metrics_bench import corpus_directions
from .prototypes import symmetric_block_ranks
from .timing import Timed, figure_from, interleaved

__all__ = ["run_scoring"]

SPECS = {
    "cosine": ScoringSpec(),
    "csls": ScoringSpec("csls", 10),
    "margin-ratio": ScoringSpec("margin-ratio", 10),
    "margin-distance": ScoringSpec("margin-distance", 10),
}


def _core(dirs, spec: ScoringSpec) -> Callable[[], dict[str, np.ndarray]]:
    return lambda: {label: gold_ranks(q, p, np.arange(q.shape[0]), scoring=spec) for label, q, p in dirs}


def _proto(by_lang, spec: ScoringSpec) -> Callable[[], dict[str, np.ndarray]]:
    return lambda: symmetric_block_ranks(by_lang, spec)


def _figures(times: dict[str, Timed], n_dirs: int) -> list[dict[str, Any]]:
    cos = times["xlr cosine"]
    figs = []
    for name, spec in SPECS.items():
        if name != "cosine":
            figs.append(
                figure_from(
                    f"xlr gold_ranks {spec.label}, {n_dirs} directions",
                    times[f"xlr {name}"],
                    f"xlr gold_ranks cosine, {n_dirs} directions",
                    cos,
                )
            )
    for name, spec in SPECS.items():
        figs.append(
            figure_from(
                f"prototype one product per pair, {spec.label}",
                times[f"proto {name}"],
                f"xlr gold_ranks {spec.label}",
                times[f"xlr {name}"],
            )
        )
    return [f.to_dict() for f in figs]


def _agreement(times: dict[str, Timed], ks) -> dict[str, Any]:
    """Ranks that differ between prototype and core (CSLS may differ by float rounding order)."""
    out: dict[str, Any] = {}
    for name in SPECS:
        core, proto = times[f"xlr {name}"].result, times[f"proto {name}"].result
        diff = sum(int(np.count_nonzero(core[k] != proto[k])) for k in core)
        out[f"{name}: prototype ranks differing from gold_ranks"] = diff
        out[f"{name}: mean recall@1"] = float(np.mean([np.mean(r <= 1) for r in core.values()]))
    if out["cosine: prototype ranks differing from gold_ranks"]:
        raise AssertionError("cosine prototype disagrees with gold_ranks")
    return out


def run_scoring(corpus: Corpus, vecs: np.ndarray, cfg: Config) -> dict[str, Any]:
    """Time every scoring rule (core and prototype) in turns; ratios against cosine and core."""
    dirs = corpus_directions(corpus, vecs)
    by_lang = {lang: vecs[corpus.positions(lang)] for lang in corpus.languages}
    fns = {f"xlr {n}": _core(dirs, s) for n, s in SPECS.items()}
    fns |= {f"proto {n}": _proto(by_lang, s) for n, s in SPECS.items()}
    times = interleaved(fns, cfg.scoring_repeats, warmup=0)
    return {
        "figures": _figures(times, len(dirs)),
        "agreement": _agreement(times, cfg.ks),
        "n_directions": len(dirs),
    }
