"""Per-language summaries of many directions: marginals, the worst directions, language filters.

* :func:`language_marginals`: each language *as query* (the mean over the directions
  ``lang->t`` of their means: every target weighs the same) and *as document* (over
  ``s->lang``), with a 95 % stratified bootstrap interval
  (:func:`xlr.stats.significance.stratified_bootstrap`: each direction is a stratum,
  resampled within itself, as the mean row of the tables).
* :func:`worst_directions`: the N directions with the lowest metric (ties: by source, then target).
* :class:`LanguageFilter`: keep languages by code, script, family and "supported by every
  chosen encoder"; the script/family/support facts come in as functions, so the filter
  works with any language table (:mod:`xlr.data.languages` in the dashboard and CLI).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from xlr.report.matrix import MATRIX_RESAMPLES, RankedDirection, direction_values
from xlr.stats.significance import RandomState, as_generator, stratified_bootstrap

__all__ = ["MARGINAL_COLUMNS", "LanguageFilter", "language_marginals", "worst_directions"]

MARGINAL_COLUMNS = ["language", "role", "mean", "ci_low", "ci_high", "n_directions"]
ROLES = ("query", "document")


def language_marginals(
    results: Iterable[RankedDirection],
    model: str,
    metric: str = "recall@1",
    *,
    languages: Sequence[str] | None = None,
    n_resamples: int = MATRIX_RESAMPLES,
    random_state: RandomState = 0,
) -> pd.DataFrame:
    """Each language as query and as document: :data:`MARGINAL_COLUMNS`, one row per (language, role).

    ``mean`` = (1/G) sum_g mean(values of direction g) over the G directions with the
    language on that side (among those whose both languages are in ``languages``, default
    all); ``n_directions`` = G.  Rows: languages in ``languages`` order (default sorted),
    query role first; a language with no direction on a side gets no row for it.  One child
    generator of ``random_state`` per row, in row order.
    """
    values = direction_values(results, model, metric)
    langs = list(languages) if languages is not None else sorted({lang for key in values for lang in key})
    keep = set(langs)
    values = {k: v for k, v in values.items() if k[0] in keep and k[1] in keep}
    groups: list[tuple[str, str, list[np.ndarray]]] = []
    for lang in langs:
        for role, side in zip(ROLES, (0, 1)):
            g = [v for k, v in values.items() if k[side] == lang]
            if g:
                groups.append((lang, role, g))
    children = as_generator(random_state).spawn(len(groups))
    rows = []
    for (lang, role, g), rng in zip(groups, children):
        lo, hi = stratified_bootstrap(g, n_resamples=n_resamples, random_state=rng)
        mean = float(np.mean([float(v.mean()) for v in g]))
        rows.append({"language": lang, "role": role, "mean": mean, "ci_low": lo, "ci_high": hi, "n_directions": len(g)})
    return pd.DataFrame(rows, columns=MARGINAL_COLUMNS)


def worst_directions(table: pd.DataFrame, metric: str = "recall@1", n: int = 10) -> pd.DataFrame:
    """The ``n`` rows of a tidy results table (``model, source, target, metric, value, ...``)
    with the lowest ``value`` of ``metric``, ascending; ties by model, source, target."""
    if n < 1:
        raise ValueError(f"n must be a positive number of directions, got {n}")
    rows = table[table["metric"] == metric]
    return rows.sort_values(["value", "model", "source", "target"], kind="stable").head(n).reset_index(drop=True)


@dataclass(frozen=True)
class LanguageFilter:
    """Which languages a view shows; an empty field does not filter.

    ``languages``: codes kept (as the corpus writes them); ``scripts`` / ``families``:
    kept scripts / families (compared with what ``script`` / ``family`` return);
    ``supported_only``: keep only languages every chosen encoder supports.
    """

    languages: tuple[str, ...] = ()
    scripts: tuple[str, ...] = ()
    families: tuple[str, ...] = ()
    supported_only: bool = False

    def apply(
        self,
        codes: Iterable[str],
        *,
        script: Callable[[str], str] | None = None,
        family: Callable[[str], str] | None = None,
        supported: Callable[[str], bool] | None = None,
    ) -> tuple[str, ...]:
        """The ``codes`` (order kept) that pass every set field.

        ``ValueError`` when a script/family/support filter is set but its function is missing.
        """
        out = list(codes)
        if self.languages:
            wanted = set(self.languages)
            out = [c for c in out if c in wanted]
        for values, fn, what in ((self.scripts, script, "script"), (self.families, family, "family")):
            if values:
                if fn is None:
                    raise ValueError(f"a {what} filter needs the languages' {what}s")
                kept = set(values)
                out = [c for c in out if fn(c) in kept]
        if self.supported_only:
            if supported is None:
                raise ValueError("the 'supported by every encoder' filter needs the encoders' language lists")
            out = [c for c in out if supported(c)]
        return tuple(out)
