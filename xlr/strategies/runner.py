"""Retrieval strategies: what they are, the evaluated/fit split, and running them.

A :class:`Strategy` changes one or more steps of the baseline protocol (cosine
over one encoder's vectors of the text):

* **scoring** -- cosine, CSLS, margin-ratio, margin-distance (:mod:`xlr.retrieval.scoring`);
* **post-processing** of the embeddings, in order: ``center`` (per-language mean
  centering, :func:`xlr.strategies.transforms.mean_center`) and/or ``procrustes``
  (orthogonal map of every language onto ``target_lang``,
  :func:`xlr.strategies.transforms.procrustes_align`);
* **input**: ``text`` or ``title+text``;
* **fusion** of several encoders (:mod:`xlr.strategies.fusion`), or a different encoder
  altogether (e.g. a fine-tuned ``st:<folder>``).

The split (:class:`Split`, resolved by :func:`plan_split`): the *evaluated*
ids of a direction are its first N linked ids in corpus order (or the linked
ids among a given list); every corpus id outside the union of the evaluated
ids is a *fit* id.  Centering means and Procrustes maps are fitted on the
documents with fit ids only, per role (query/document vectors), so no
evaluated document leaks into a fit.  Scoring rules fit nothing (CSLS/margin
take r_S from the direction's own query documents, as in :mod:`xlr.retrieval.ranks`).

Entry points: :func:`run_strategy` (one strategy -> ``DirectionResult`` list,
rows labelled with :func:`xlr.retrieval.evaluate.model_label`) and
:func:`run_strategies` (baseline + every strategy + paired significance,
see :class:`StrategyReport`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.base import Encoder, Progress, Role
from xlr.encoders.cache import CacheStats, EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import Direction, n_dropped
from xlr.retrieval.evaluate import (
    DirectionResult,
    EvalSpec,
    evaluate_vectors,
)
from xlr.stats.compare import DEFAULT_METRICS, Comparison, compare_results
from xlr.strategies.fusion import fused_gold_ranks
from xlr.strategies.spec import Strategy
from xlr.strategies.split import Split, SplitPlan, plan_split
from xlr.strategies.transforms import mean_center, procrustes_align

__all__ = [
    "Split",
    "SplitPlan",
    "StrategyReport",
    "StrategyRun",
    "plan_split",
    "run_strategies",
    "run_strategy",
]


@dataclass(frozen=True, eq=False)
class StrategyRun:
    """The results of one strategy: ``model`` is the row label, ``results`` one entry per direction."""

    strategy: Strategy
    model: str
    results: tuple[DirectionResult, ...]
    encoders: tuple[str, ...]
    seconds: float


class _Workspace:
    """Per-run memo: one CorpusEmbeddings per (encoder, text field), post-processed matrices per role."""

    def __init__(
        self,
        corpus: Corpus,
        encoders: Mapping[str, Encoder],
        cache: EmbeddingCache,
        plan: SplitPlan,
        batch_size: int | None,
        progress: Progress | None,
    ) -> None:
        self.corpus, self.encoders, self.cache, self.plan = (
            corpus,
            encoders,
            cache,
            plan,
        )
        self.batch_size, self.progress = batch_size, progress
        self._emb: dict[tuple[str, str], CorpusEmbeddings] = {}
        self._post: dict[tuple[str, str, tuple[str, ...], str], np.ndarray] = {}
        self.notes: list[str] = []

    def embeddings(self, name: str, text_field: str) -> CorpusEmbeddings:
        if name not in self.encoders:
            raise ValueError(f"encoder {name!r} is not part of this run (encoders: {', '.join(self.encoders)})")
        key = (name, text_field)
        if key not in self._emb:
            self._emb[key] = CorpusEmbeddings(
                self.corpus,
                self.encoders[name],
                self.cache,
                text_field=text_field,
                batch_size=self.batch_size,
                progress=self.progress,
            )
        return self._emb[key]

    def stats(self) -> list[tuple[Encoder, CacheStats]]:
        total: dict[str, CacheStats] = {}
        for (name, _), emb in self._emb.items():
            total[name] = total.get(name, CacheStats(0, 0)) + emb.stats
        return [(self.encoders[n], s) for n, s in total.items()]

    def _transformed(self, emb: CorpusEmbeddings, strategy: Strategy, role: Role) -> np.ndarray:
        corpus, plan = self.corpus, self.plan
        key = (
            emb.encoder.identity.cache_key(role),
            emb.text_field,
            strategy.post,
            strategy.target_lang,
        )
        if key in self._post:
            return self._post[key]
        langs = {lang for d in plan.directions for lang in (d.source, d.target)}
        if "procrustes" in strategy.post:
            if strategy.target_lang not in corpus.languages:
                raise ValueError(
                    f"procrustes: target language {strategy.target_lang!r} is not in corpus "
                    f"{corpus.name!r} (languages: {', '.join(corpus.languages)})"
                )
            langs.add(strategy.target_lang)
        rows = np.concatenate([corpus.positions(lang) for lang in sorted(langs)])
        docs = [corpus.documents[i] for i in rows]
        lang_arr = np.array([d.lang for d in docs], dtype=object)
        id_arr = np.array([d.id for d in docs], dtype=object)
        fit = np.array([d.id in plan.fit_ids for d in docs], dtype=bool)
        x = emb.vectors(rows, role)
        if "procrustes" in strategy.post:
            self._note_underdetermined(
                emb.encoder.identity.name,
                lang_arr,
                id_arr,
                fit,
                x.shape[1],
                strategy.target_lang,
            )
        try:
            for step in strategy.post:
                if step == "center":
                    x = mean_center(x, lang_arr, fit)
                else:
                    x = procrustes_align(x, lang_arr, id_arr, fit, target_lang=strategy.target_lang)[0]
        except ValueError as exc:
            raise ValueError(f"strategy {strategy.name!r} ({plan.description}): {exc}") from None
        full = np.zeros((len(corpus), x.shape[1]), dtype=np.float32)
        full[rows] = x
        self._post[key] = full
        return full

    def _note_underdetermined(
        self,
        encoder: str,
        langs: np.ndarray,
        ids: np.ndarray,
        fit: np.ndarray,
        dim: int,
        target: str,
    ) -> None:
        """Note languages with fewer Procrustes pairs than dimensions (the map is then not determined)."""
        target_ids = set(ids[fit & (langs == target)].tolist())
        short = []
        for lang in sorted(set(langs.tolist()) - {target}):
            n = len(set(ids[fit & (langs == lang)].tolist()) & target_ids)
            if n < dim:
                short.append(f"{lang} {n}")
        note = (
            f"procrustes ({encoder}, {dim} dimensions): fewer fit pairs with {target} than dimensions for "
            f"{', '.join(short)}; the map of the dimensions they do not span is arbitrary"
        )
        if short and note not in self.notes:
            self.notes.append(note)

    def vectors(self, name: str, strategy: Strategy) -> Callable[[np.ndarray, Role], np.ndarray]:
        emb = self.embeddings(name, strategy.text_field)
        if not strategy.post:
            return emb.vectors
        return lambda positions, role: self._transformed(emb, strategy, role)[np.asarray(positions, dtype=np.int64)]


def _run(ws: _Workspace, strategy: Strategy, names: tuple[str, ...], label: str) -> tuple[DirectionResult, ...]:
    corpus, plan = ws.corpus, ws.plan
    positions = [plan.positions(corpus, i) for i in range(len(plan.directions))]
    for name in names:  # one encoding pass per role, before any direction is ranked
        emb = ws.embeddings(name, strategy.text_field)
        emb.ensure(np.concatenate([q for q, _ in positions]), "query")
        emb.ensure(np.concatenate([p for _, p in positions]), "document")
    if strategy.fusion is not None:
        fns = [ws.vectors(n, strategy) for n in names]
        out = []
        for d, ids, (q_pos, p_pos) in zip(plan.directions, plan.evaluated, positions):
            gold = np.arange(len(ids), dtype=np.int64)
            ranks = fused_gold_ranks(
                [f(q_pos, "query") for f in fns],
                [f(p_pos, "document") for f in fns],
                gold,
                fusion=strategy.fusion,
                scoring=strategy.scoring,
            )
            out.append(DirectionResult(label, d, ids, q_pos, p_pos, gold, ranks, n_dropped(corpus, d)))
        return tuple(out)
    fn = ws.vectors(names[0], strategy)
    if plan.split.ids is None:
        spec = EvalSpec(
            plan.directions,
            first=plan.split.first,
            scoring=strategy.scoring,
            text_field=strategy.text_field,
        )
        return tuple(evaluate_vectors(corpus, fn, spec, label))
    keep = set().union(*plan.evaluated)
    sub = corpus.subset(ids=keep)
    pos_map = np.fromiter(
        (corpus.index(doc.id, doc.lang) for doc in sub.documents),
        dtype=np.int64,
        count=len(sub),
    )
    spec = EvalSpec(plan.directions, scoring=strategy.scoring, text_field=strategy.text_field)
    res = evaluate_vectors(
        sub,
        lambda pos, role: fn(pos_map[np.asarray(pos, dtype=np.int64)], role),
        spec,
        label,
    )
    return tuple(
        replace(
            r,
            query_positions=pos_map[r.query_positions],
            pool_positions=pos_map[r.pool_positions],
            n_dropped=n_dropped(corpus, r.direction),
        )
        for r in res
    )


def _resolve(strategy: Strategy, names: Sequence[str]) -> tuple[str, ...]:
    if strategy.encoders:
        missing = [n for n in strategy.encoders if n not in names]
        if missing:
            raise ValueError(
                f"strategy {strategy.name!r} uses encoder(s) {', '.join(missing)} that are not "
                f"loaded (encoders: {', '.join(names)})"
            )
        return strategy.encoders
    if strategy.fusion is not None:
        if len(names) < 2:
            raise ValueError(f"strategy {strategy.name!r} fuses encoders but only {len(names)} is given")
        return tuple(names)
    return (names[0],)


def _as_mapping(
    encoders: Sequence[Encoder] | Mapping[str, Encoder],
) -> dict[str, Encoder]:
    out = dict(encoders) if isinstance(encoders, Mapping) else {e.identity.name: e for e in encoders}
    if not out:
        raise ValueError("no encoder given")
    return out


def run_strategy(
    corpus: Corpus,
    strategy: Strategy,
    encoders: Sequence[Encoder] | Mapping[str, Encoder],
    *,
    plan: SplitPlan,
    cache: EmbeddingCache | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
    _ws: _Workspace | None = None,
) -> StrategyRun:
    """Evaluate one strategy on the evaluated ids of ``plan`` (first encoder = the baseline encoder).

    ``encoders``: loaded encoders (keyed by ``identity.name``, or a mapping name -> encoder).
    A fitting strategy (centering, Procrustes) needs fit ids for every language involved,
    else ``ValueError`` naming the language and the split.
    """
    enc = _as_mapping(encoders)
    ws = _ws or _Workspace(corpus, enc, cache or EmbeddingCache(), plan, batch_size, progress)
    names = _resolve(strategy, list(enc))
    label = strategy.label(next(iter(enc)), names)
    start = time.perf_counter()
    results = _run(ws, strategy, names, label)
    return StrategyRun(strategy, label, results, names, time.perf_counter() - start)


@dataclass(frozen=True, eq=False)
class StrategyReport:
    """Baseline, every strategy run, and each strategy's :class:`~xlr.stats.compare.Comparison` with it."""

    corpus: str
    plan: SplitPlan
    baseline: StrategyRun
    runs: tuple[StrategyRun, ...]
    comparisons: tuple[Comparison, ...]
    encoder_stats: tuple[tuple[Encoder, CacheStats], ...]
    ks: tuple[int, ...] = (1, 5, 10)
    notes: tuple[str, ...] = ()
    """caveats found while running, e.g. a Procrustes map fitted on fewer pairs than dimensions"""

    @property
    def results(self) -> list[DirectionResult]:
        """Every DirectionResult (baseline first), e.g. for :func:`xlr.retrieval.evaluate.results_table`."""
        return [r for run in (self.baseline, *self.runs) for r in run.results]


def run_strategies(
    corpus: Corpus,
    encoders: Sequence[Encoder] | Mapping[str, Encoder],
    strategies: Sequence[Strategy],
    *,
    directions: Sequence[Direction],
    split: Split,
    cache: EmbeddingCache | None = None,
    baseline: Strategy | None = None,
    ks: Sequence[int] = (1, 5, 10),
    metrics: Sequence[str] = DEFAULT_METRICS,
    alpha: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
    n_resamples: int = 10_000,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> StrategyReport:
    """Run ``baseline`` (default: cosine over the first encoder) and every strategy, and compare.

    All runs use the same evaluated ids (``split`` resolved by :func:`plan_split`), so each
    strategy is compared with the baseline query by query: per direction a paired
    bootstrap 95 % interval and a McNemar (recall@k) or permutation (MRR) test, Holm
    across the directions of that strategy and metric (not across strategies), and a
    verdict (:func:`xlr.stats.compare.verdict`).  An int ``random_state`` gives every strategy
    the same seed (each comparison is reproducible on its own); a Generator is spawned.
    """
    enc = _as_mapping(encoders)
    plan = plan_split(corpus, directions, split)
    EvalSpec(plan.directions, ks=tuple(ks))  # validate ks early
    strategies = tuple(strategies)
    labels = [s.label(next(iter(enc)), _resolve(s, list(enc))) for s in strategies]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        raise ValueError(f"strategies repeat: {', '.join(dup)}")
    baseline = baseline or Strategy()
    base_label = baseline.label(next(iter(enc)), _resolve(baseline, list(enc)))
    if base_label in labels:
        raise ValueError(
            f"strategy {strategies[labels.index(base_label)].name!r} is the baseline itself ({base_label})"
        )
    ws = _Workspace(corpus, enc, cache or EmbeddingCache(), plan, batch_size, progress)
    base = run_strategy(corpus, baseline, enc, plan=plan, _ws=ws)
    seeds = (
        random_state.spawn(len(strategies))
        if isinstance(random_state, np.random.Generator)
        else [random_state] * len(strategies)
    )
    runs, comparisons = [], []
    for strategy, seed in zip(strategies, seeds):
        run = run_strategy(corpus, strategy, enc, plan=plan, _ws=ws)
        runs.append(run)
        comparisons.append(
            compare_results(
                base.results,
                run.results,
                baseline_label=base.model,
                candidate_label=run.model,
                metrics=metrics,
                alpha=alpha,
                random_state=seed,
                n_resamples=n_resamples,
            )
        )
    return StrategyReport(
        corpus.name,
        plan,
        base,
        tuple(runs),
        tuple(comparisons),
        tuple(ws.stats()),
        tuple(ks),
        tuple(ws.notes),
    )
