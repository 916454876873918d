"""Language x language views of many directions: the matrix, the difference matrix, the language order.

Inputs are the per-direction records an evaluation returns (anything with ``model``,
``direction.source``, ``direction.target`` and ``ranks``, e.g.
:class:`~xlr.retrieval.evaluate.DirectionResult`).  Every figure is computed from each
direction's per-query values (:func:`xlr.retrieval.metrics.per_query`), so the matrix,
the marginals (:mod:`xlr.report.marginals`) and the tables agree to the last digit.

* :func:`language_matrix`: one encoder; cell ``(s, t)`` = mean of the metric over the
  queries of ``s->t`` (source rows, target columns), with a 95 % percentile bootstrap
  interval (:func:`xlr.stats.significance.stratified_bootstrap` with one stratum);
  ``NaN`` where the direction was not evaluated.
* :func:`difference_matrix`: encoder B minus encoder A per cell, with the paired test's
  verdict (:func:`xlr.stats.paired.compare_directions`: McNemar / permutation, Holm
  across exactly the cells shown).
* :func:`language_order`: languages grouped by a key (script, family...) and sorted
  by code within a group, so related languages sit side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd

from xlr.retrieval.metrics import per_query
from xlr.stats.paired import compare_directions
from xlr.stats.significance import RandomState, as_generator, stratified_bootstrap

__all__ = [
    "DIFFERENCE_COLUMNS",
    "LanguageMatrix",
    "RankedDirection",
    "difference_grid",
    "difference_matrix",
    "direction_values",
    "language_matrix",
    "language_order",
    "models_of",
]

MATRIX_RESAMPLES = 1000
"""Bootstrap resamples per cell of a matrix (one interval per direction: 16,256 at 128 languages)."""

DIFFERENCE_COLUMNS = ["source", "target", "baseline", "candidate", "delta", "p_value", "p_holm", "effect"]


class _Dir(Protocol):
    @property
    def source(self) -> str: ...

    @property
    def target(self) -> str: ...


class RankedDirection(Protocol):
    """What the views read from one evaluated direction (a ``DirectionResult`` has it)."""

    @property
    def model(self) -> str: ...

    @property
    def direction(self) -> _Dir: ...

    @property
    def ranks(self) -> np.ndarray: ...


def models_of(results: Iterable[RankedDirection]) -> list[str]:
    """The models of ``results`` in first-appearance order."""
    return list(dict.fromkeys(r.model for r in results))


def direction_values(results: Iterable[RankedDirection], model: str, metric: str) -> dict[tuple[str, str], np.ndarray]:
    """``{(source, target): per-query values of metric}`` of one model (input order).

    ``ValueError`` when the model has no direction, or a direction twice.
    """
    out: dict[tuple[str, str], np.ndarray] = {}
    for r in results:
        if r.model != model:
            continue
        key = (r.direction.source, r.direction.target)
        if key in out:
            raise ValueError(f"model {model!r}: direction {key[0]}->{key[1]} occurs twice")
        out[key] = per_query(r.ranks, metric)
    if not out:
        raise ValueError(f"no directions of model {model!r}")
    return out


def language_order(languages: Iterable[str], group: Callable[[str], str] | None = None) -> tuple[str, ...]:
    """Distinct ``languages`` sorted by ``(group(code), code)``; by code alone without ``group``.

    ``group`` maps a code to its cluster (a script such as ``"Latn"``, a family such as
    ``"Indo-European"``); an unknown language may map to ``""`` (it then sorts first).
    """
    langs = set(languages)
    if group is None:
        return tuple(sorted(langs))
    return tuple(sorted(langs, key=lambda code: (str(group(code)), code)))


@dataclass(frozen=True, eq=False)
class LanguageMatrix:
    """One model's metric per direction as a square grid (rows: source/queries, columns: target/pool).

    ``values``, ``ci_low``, ``ci_high``: ``(L, L)`` float64, ``NaN`` where the direction was
    not evaluated (the diagonal always); ``n_queries``: ``(L, L)`` int64, 0 there.
    """

    model: str
    metric: str
    languages: tuple[str, ...]
    values: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_queries: np.ndarray

    def frame(self) -> pd.DataFrame:
        """One row per evaluated cell: ``source, target, value, ci_low, ci_high, n_queries``."""
        rows, cols = np.nonzero(~np.isnan(self.values))
        return pd.DataFrame(
            {
                "source": [self.languages[i] for i in rows],
                "target": [self.languages[j] for j in cols],
                "value": self.values[rows, cols],
                "ci_low": self.ci_low[rows, cols],
                "ci_high": self.ci_high[rows, cols],
                "n_queries": self.n_queries[rows, cols],
            }
        )


def _square(order: Sequence[str]) -> tuple[dict[str, int], np.ndarray]:
    return {lang: i for i, lang in enumerate(order)}, np.full((len(order), len(order)), np.nan)


def language_matrix(
    results: Iterable[RankedDirection],
    model: str,
    metric: str = "recall@1",
    *,
    order: Sequence[str] | None = None,
    intervals: bool = True,
    n_resamples: int = MATRIX_RESAMPLES,
    random_state: RandomState = 0,
) -> LanguageMatrix:
    """The language x language matrix of ``model`` (see the module docstring).

    ``order``: the languages shown, in this order (default :func:`language_order` of every
    language of the model's directions); directions with a language outside it are left out.
    Each cell's interval uses its own child generator of ``random_state`` (reproducible, and
    independent of which other cells are shown only through their order); ``intervals=False``
    leaves them ``NaN`` (fast).
    """
    values = direction_values(results, model, metric)
    langs = tuple(order) if order is not None else language_order(lang for key in values for lang in key)
    pos, grid = _square(langs)
    low, high = grid.copy(), grid.copy()
    counts = np.zeros(grid.shape, dtype=np.int64)
    shown = [(key, v) for key, v in values.items() if key[0] in pos and key[1] in pos]
    children = as_generator(random_state).spawn(len(shown)) if intervals else [None] * len(shown)
    for ((src, tgt), v), rng in zip(shown, children):
        i, j = pos[src], pos[tgt]
        grid[i, j] = float(v.mean())
        counts[i, j] = v.size
        if rng is not None:
            low[i, j], high[i, j] = stratified_bootstrap([v], n_resamples=n_resamples, random_state=rng)
    return LanguageMatrix(model, metric, langs, grid, low, high, counts)


def difference_matrix(
    results: Sequence[RankedDirection],
    baseline: str,
    candidate: str,
    metric: str = "recall@1",
    *,
    cells: Iterable[tuple[str, str]] | None = None,
    alpha: float = 0.05,
    n_resamples: int = MATRIX_RESAMPLES,
    random_state: RandomState = 0,
) -> pd.DataFrame:
    """Candidate minus baseline per direction, with the paired test's verdict (Holm across the cells).

    ``cells``: the ``(source, target)`` directions shown (default: every direction both
    models evaluated); the Holm correction runs across exactly these, so filtering the
    view changes the family the p-values are adjusted over.  Both models must have scored
    the same queries in the same order for every cell (same corpus and protocol), else
    ``ValueError`` naming the direction.  Returns :data:`DIFFERENCE_COLUMNS` (``delta =
    candidate - baseline``; ``effect`` ``"improved"`` / ``"degraded"`` / ``"no significant
    change"``), one row per cell in ``cells`` order; ``attrs["alpha"]`` records alpha.
    """
    ranks: dict[str, dict[tuple[str, str], np.ndarray]] = {baseline: {}, candidate: {}}
    for r in results:
        if r.model in ranks:
            ranks[r.model][(r.direction.source, r.direction.target)] = np.asarray(r.ranks)
    for name, got in ranks.items():
        if not got:
            raise ValueError(f"no directions of model {name!r}")
    common = [key for key in ranks[baseline] if key in ranks[candidate]]
    shown = list(dict.fromkeys(cells)) if cells is not None else common
    missing = [f"{s}->{t}" for s, t in shown if (s, t) not in ranks[baseline] or (s, t) not in ranks[candidate]]
    if missing:
        raise ValueError(f"directions not evaluated by both {baseline!r} and {candidate!r}: {', '.join(missing[:5])}")
    if not shown:
        return pd.DataFrame(columns=DIFFERENCE_COLUMNS)
    table = {f"{s}->{t}": (ranks[baseline][(s, t)], ranks[candidate][(s, t)]) for s, t in shown}
    df = compare_directions(table, metric=metric, alpha=alpha, random_state=random_state, n_resamples=n_resamples)
    out = df.assign(source=[s for s, _ in shown], target=[t for _, t in shown])[DIFFERENCE_COLUMNS]
    out.attrs["alpha"] = float(alpha)
    return out.reset_index(drop=True)


def difference_grid(diff: pd.DataFrame, order: Sequence[str], column: str = "delta") -> np.ndarray:
    """``diff[column]`` as an ``(L, L)`` grid in ``order`` (``NaN``/``None`` where no cell)."""
    pos, grid = _square(order)
    out: Any = grid if column != "effect" else np.full(grid.shape, None, dtype=object)
    for s, t, v in zip(diff["source"], diff["target"], diff[column]):
        if s in pos and t in pos:
            out[pos[s], pos[t]] = v
    return np.asarray(out)
