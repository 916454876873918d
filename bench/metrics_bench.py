"""Benchmark 1: recall@k + MRR over every direction, xlr side by side with the alternatives.

All methods get the same embeddings (on the exact-dot-product grid, see
:mod:`bench.synthetic`), so their metrics must agree to 1e-9: checked here,
and an :class:`AssertionError` stops the run otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from xlr.data.records import Corpus
from xlr.retrieval.directions import all_directions
from xlr.retrieval.evaluate import EvalSpec, evaluate_vectors, results_table
from xlr.retrieval.metrics import summarize
from xlr.retrieval.ranks import gold_ranks

from . import baselines
from .baselines import Direction, Metrics, metrics_from_ranks
from .config import Config
from .prototypes import symmetric_block_ranks
from .timing import Figure, Timed, figure_from, interleaved, time_once, timed_runs

__all__ = ["TOLERANCE", "assert_agree", "compare_methods", "corpus_directions"]

TOLERANCE = 1e-9


def corpus_directions(corpus: Corpus, vecs: np.ndarray) -> list[Direction]:
    """Every direction of the corpus as ``(label, queries, pool)``, rows aligned by linked id."""
    out = []
    for d in all_directions(corpus):
        ids = corpus.linked_ids(d.source, d.target)
        q = vecs[[corpus.index(i, d.source) for i in ids]]
        p = vecs[[corpus.index(i, d.target) for i in ids]]
        out.append((d.label, q, p))
    return out


def ties_with_gold(dirs: Sequence[Direction]) -> int:
    """Pool documents scoring exactly the gold's score (other than the gold), over all queries."""
    total = 0
    for _, q, p in dirs:
        s = q @ p.T
        total += int(np.count_nonzero(s == np.diagonal(s)[:, None])) - q.shape[0]
    return total


def assert_agree(reference: Metrics, other: Metrics, method: str, tol: float = TOLERANCE) -> float:
    """Max |difference| over the metrics ``other`` reports; AssertionError above ``tol``."""
    worst, where = 0.0, ""
    for label, metrics in other.items():
        for name, value in metrics.items():
            diff = abs(value - reference[label][name])
            if diff > worst:
                worst, where = (
                    diff,
                    f"{label} {name}: {method}={value!r} xlr={reference[label][name]!r}",
                )
    if worst > tol:
        raise AssertionError(f"{method} disagrees with xlr beyond {tol}: {where}")
    return worst


def _xlr_api(corpus: Corpus, vecs: np.ndarray, ks: Sequence[int]) -> Callable[[], Any]:
    spec = EvalSpec(all_directions(corpus), ks=tuple(ks))

    def run():
        results = evaluate_vectors(corpus, lambda pos, role: vecs[pos], spec, "bench")
        table = results_table(results, ks)
        return results, table

    return run


def _xlr_kernel(dirs: Sequence[Direction], ks: Sequence[int]) -> Callable[[], Any]:
    def run():
        out = {}
        for label, q, p in dirs:
            ranks = gold_ranks(q, p, np.arange(q.shape[0]))
            out[label] = (ranks, summarize(ranks, ks))
        return out

    return run


def _floor(dirs: Sequence[Direction]) -> Callable[[], Any]:
    def run():
        for _, q, p in dirs:
            q @ p.T

    return run


def _xlr_reference(kernel_out: dict, ks: Sequence[int]) -> Metrics:
    return {label: metrics_from_ranks(r, ks, mrr_cut=max(ks)) for label, (r, _) in kernel_out.items()}


def _time_xlr(corpus, vecs, dirs, by_lang, cfg: Config) -> dict[str, Timed]:
    fns = {
        "xlr_api": _xlr_api(corpus, vecs, cfg.ks),
        "xlr_kernel": _xlr_kernel(dirs, cfg.ks),
        "blas_floor": _floor(dirs),
        "proto_symmetric": lambda: symmetric_block_ranks(by_lang),
    }
    return interleaved(fns, cfg.repeats)


def _check_xlr_paths(times: dict[str, Timed], ref_ranks: dict[str, np.ndarray], ks) -> dict[str, Any]:
    results, _ = times["xlr_api"].result
    for r in results:
        if not np.array_equal(r.ranks, ref_ranks[r.direction.label]):
            raise AssertionError(f"evaluate_vectors and gold_ranks disagree on {r.direction.label}")
    proto = times["proto_symmetric"].result
    differing = sum(int(np.count_nonzero(proto[label] != ref_ranks[label])) for label in ref_ranks)
    if differing:
        raise AssertionError(f"symmetric-block prototype: {differing} ranks differ from gold_ranks")
    return {
        "evaluate_vectors_equals_gold_ranks": True,
        "prototype_symmetric_equals_gold_ranks": True,
    }


def _baselines(dirs, cfg: Config, with_ranx: bool) -> tuple[dict[str, Timed], dict[str, float]]:
    ks = cfg.ks
    extra: dict[str, float] = {"st_warmup_s": baselines.st_warmup(dirs, ks)}
    out = {
        "seed": timed_runs(lambda: baselines.seed_argsort(dirs, ks), cfg.slow_repeats),
        "st": timed_runs(lambda: baselines.st_evaluator(dirs, ks, mrr_cut=max(ks)), cfg.slow_repeats),
    }
    if with_ranx:
        rdirs = list(dirs[: cfg.ranx_directions] if cfg.ranx_directions else dirs)
        extra["ranx_warmup_s"] = baselines.ranx_warmup(rdirs, ks)
        build, own, total = Timed([]), Timed([]), Timed([])
        out["xlr_kernel_ranx_dirs"] = timed_runs(_xlr_kernel(rdirs, ks), cfg.repeats, warmup=1)
        for _ in range(max(1, cfg.ranx_repeats)):
            dt, (metrics, b, o) = time_once(lambda: baselines.ranx_metrics(rdirs, ks))
            build.runs.append(b)
            own.runs.append(o)
            total.runs.append(dt)
            total.result = metrics
        out |= {"ranx_total": total, "ranx_build": build, "ranx_own": own}
    return out, extra


def _figures(n_dirs: int, xt: dict[str, Timed], bt: dict[str, Timed], what: str) -> list[Figure]:
    api = xt["xlr_api"]
    label = f"xlr.retrieval.evaluate.evaluate_vectors + results_table, {n_dirs} directions"
    figs = [
        figure_from(label, api, "seed notebook: full np.argsort per direction", bt["seed"]),
        figure_from(
            label,
            api,
            "sentence-transformers InformationRetrievalEvaluator",
            bt["st"],
            target=">= 10x faster (ratio <= 0.1)",
        ),
    ]
    if "ranx_total" in bt:
        n_r = len(bt["ranx_total"].result)
        mine = bt["xlr_kernel_ranx_dirs"]
        kernel_label = f"xlr gold_ranks + summarize, the first {n_r} directions"
        figs += [
            figure_from(
                kernel_label,
                mine,
                f"ranx, same {n_r} directions: run dicts + Qrels/Run/evaluate",
                bt["ranx_total"],
            ),
            figure_from(
                kernel_label,
                mine,
                f"ranx own time only (Qrels/Run/evaluate), {n_r} directions",
                bt["ranx_own"],
            ),
            figure_from(
                "adapter: score matrices -> ranx run dicts",
                bt["ranx_build"],
                "ranx own time only (Qrels/Run/evaluate)",
                bt["ranx_own"],
            ),
        ]
    figs += [
        figure_from(
            label,
            api,
            f"BLAS floor: the {n_dirs} score products alone",
            xt["blas_floor"],
            target="< 0.5 s for all directions" if what == "synthetic" else "",
        ),
        figure_from(
            "xlr kernel: gold_ranks + summarize per direction",
            xt["xlr_kernel"],
            "xlr.retrieval.evaluate.evaluate_vectors + results_table",
            api,
        ),
        figure_from(
            "prototype: one product per language pair (both directions)",
            xt["proto_symmetric"],
            "xlr.retrieval.evaluate.evaluate_vectors + results_table",
            api,
            note="bench/prototypes.py symmetric_block_ranks; valid when queries and documents "
            "share vectors (symmetric encoders)",
        ),
    ]
    return figs


def _agreement(ref: Metrics, bt: dict[str, Timed], dirs) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tolerance": TOLERANCE,
        "ties_with_gold": ties_with_gold(dirs),
    }
    seed = bt["seed"].result
    full = {label: {k: v for k, v in m.items() if not k.startswith("mrr@")} for label, m in ref.items()}
    out["max_abs_diff"] = {
        "seed_argsort (recall@k, mrr)": assert_agree(full, seed, "seed argsort"),
        "sentence-transformers (recall@k, mrr@10)": assert_agree(ref, bt["st"].result, "sentence-transformers"),
    }
    if "ranx_total" in bt:
        out["ranx directions checked"] = len(bt["ranx_total"].result)
        out["max_abs_diff"]["ranx (recall@k, mrr)"] = assert_agree(full, bt["ranx_total"].result, "ranx")
    return out


def compare_methods(
    corpus: Corpus,
    vecs: np.ndarray,
    cfg: Config,
    *,
    what: str,
    with_ranx: bool = True,
) -> dict[str, Any]:
    """Time xlr and every alternative on all directions of ``corpus``; check they agree."""
    dirs = corpus_directions(corpus, vecs)
    by_lang = {lang: vecs[corpus.positions(lang)] for lang in corpus.languages}
    xt = _time_xlr(corpus, vecs, dirs, by_lang, cfg)
    kernel = xt["xlr_kernel"].result
    ref = _xlr_reference(kernel, cfg.ks)
    checks = _check_xlr_paths(xt, {label: r for label, (r, _) in kernel.items()}, cfg.ks)
    bt, extra = _baselines(dirs, cfg, with_ranx)
    agreement = _agreement(ref, bt, dirs) | checks
    return {
        "figures": [f.to_dict() for f in _figures(len(dirs), xt, bt, what)],
        "agreement": agreement,
        "extra": extra,
        "metrics_mean": {k: float(np.mean([m[k] for m in ref.values()])) for k in next(iter(ref.values()))},
        "n_directions": len(dirs),
    }
