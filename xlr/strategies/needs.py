"""What a strategies run encodes, from the chosen strategies (so a cost estimate follows the choice).

* Every run ranks the evaluated ids: their source documents as queries, their target documents as
  the pool (:meth:`~xlr.strategies.split.SplitPlan.positions`). Scoring rules (CSLS, margin) and
  fusions need nothing more: their neighbourhoods are taken in the pool and among the queries.
* A strategy with post-processing (centering, Procrustes) fits on the fit ids, and transforms every
  document of the languages involved (and Procrustes' target language) in both roles, as
  :class:`~xlr.strategies.runner` does.

Positions are unique and sorted; roles ``query`` then ``document``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.base import Role
from xlr.strategies.spec import Strategy
from xlr.strategies.split import SplitPlan

__all__ = ["encoding_needs"]


def encoding_needs(corpus: Corpus, plan: SplitPlan, strategies: Sequence[Strategy]) -> list[tuple[np.ndarray, Role]]:
    """``[(query positions, "query"), (document positions, "document")]`` a run of ``strategies`` (and the
    baseline) encodes with each encoder's plain text field."""
    parts = [plan.positions(corpus, i) for i in range(len(plan.directions))]
    queries = np.concatenate([q for q, _ in parts]) if parts else np.zeros(0, np.int64)
    pool = np.concatenate([p for _, p in parts]) if parts else np.zeros(0, np.int64)
    fitting = [s for s in strategies if s.post]
    if fitting:
        langs = {lang for d in plan.directions for lang in (d.source, d.target)}
        langs |= {s.target_lang for s in fitting if "procrustes" in s.post and s.target_lang in corpus.languages}
        rows = np.concatenate([corpus.positions(lang) for lang in sorted(langs)])
        queries, pool = np.concatenate([queries, rows]), np.concatenate([pool, rows])
    return [(np.unique(queries).astype(np.int64), "query"), (np.unique(pool).astype(np.int64), "document")]
