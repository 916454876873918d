"""Directions, corpus embeddings and the evaluation of a corpus in one call.

Protocol (``s->t``): the queries are the documents of language ``s``, the pool
is the documents of language ``t``, and the gold of a query is the pool
document with the same id.  Only ids present in both languages take part, so
the pool holds exactly the linked documents (``n_dropped`` counts the source
documents left out for lack of a counterpart).  ``first=N`` keeps the first N
such ids in corpus order (the seed notebook's protocol is ``x->en``, N = 1000).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .cache import CacheStats, EmbeddingCache
from .corpus import Corpus
from .encoders import Encoder, Progress, Role
from .metrics import metric_names, per_query
from .ranks import gold_ranks
from .scoring import ScoringSpec

__all__ = [
    "CorpusEmbeddings",
    "Direction",
    "DirectionResult",
    "EvalSpec",
    "all_directions",
    "default_directions",
    "direction_positions",
    "evaluate",
    "evaluate_vectors",
    "parse_directions",
    "results_table",
]

TABLE_COLUMNS = ["model", "source", "target", "metric", "value", "n_queries"]


@dataclass(frozen=True, order=True)
class Direction:
    """Queries in ``source``, pool in ``target``."""

    source: str
    target: str

    def __post_init__(self) -> None:
        if not self.source or not self.target:
            raise ValueError("a direction needs a source and a target language")
        if self.source == self.target:
            raise ValueError(f"direction {self.source}->{self.target}: source and target are the same language")

    @property
    def label(self) -> str:
        return f"{self.source}->{self.target}"

    @classmethod
    def parse(cls, text: str) -> Direction:
        """``"ar-en"``, ``"ar->en"`` or ``"ar:en"``."""
        t = text.strip()
        for sep in ("->", ":", "-"):
            if sep in t:
                src, _, tgt = t.partition(sep)
                if src.strip() and tgt.strip() and sep not in tgt:
                    return cls(src.strip(), tgt.strip())
        raise ValueError(f"cannot read direction {text!r}: write it as source-target, e.g. ar-en")


def parse_directions(text: str | Sequence[str], corpus: Corpus | None = None) -> tuple[Direction, ...]:
    """Comma-separated (or listed) directions, checked against the corpus' languages."""
    parts = text.split(",") if isinstance(text, str) else list(text)
    dirs = tuple(Direction.parse(p) for p in parts if p.strip())
    if not dirs:
        raise ValueError("no direction given")
    if corpus is not None:
        langs = set(corpus.languages)
        for d in dirs:
            for lang in (d.source, d.target):
                if lang not in langs:
                    raise ValueError(
                        f"direction {d.label}: language {lang!r} is not in corpus {corpus.name!r} "
                        f"(languages: {', '.join(corpus.languages)})"
                    )
    return dirs


def default_directions(corpus: Corpus, target: str = "en") -> tuple[Direction, ...]:
    """Every other language -> ``target`` (the seed notebook's set-up)."""
    if target not in corpus.languages:
        raise ValueError(
            f"corpus {corpus.name!r} has no {target!r} documents; name directions explicitly "
            f"(languages: {', '.join(corpus.languages)})"
        )
    return tuple(Direction(s, target) for s in corpus.languages if s != target and corpus.linked_ids(s, target))


def all_directions(corpus: Corpus) -> tuple[Direction, ...]:
    """Every ordered pair of distinct languages that share at least one id."""
    return tuple(
        Direction(s, t)
        for s in corpus.languages
        for t in corpus.languages
        if s != t and corpus.linked_ids(s, t)
    )


@dataclass(frozen=True)
class EvalSpec:
    """What to evaluate: directions, k values, first-N protocol, scoring, text field."""

    directions: tuple[Direction, ...]
    ks: tuple[int, ...] = (1, 5, 10)
    first: int | None = None
    scoring: ScoringSpec = field(default_factory=ScoringSpec)
    text_field: str = "text"

    def __post_init__(self) -> None:
        if not self.directions:
            raise ValueError("no directions to evaluate")
        metric_names(self.ks)  # validates k values
        if self.first is not None and self.first < 1:
            raise ValueError(f"first must be a positive number of ids, got {self.first}")
        if self.text_field not in ("text", "title+text"):
            raise ValueError(f"text_field must be 'text' or 'title+text', got {self.text_field!r}")


@dataclass(frozen=True)
class DirectionResult:
    """Per-query outcome of one direction: the record the failed-query page reads.

    ``query_positions[i]`` and ``pool_positions`` index ``corpus.documents``;
    ``gold[i]`` indexes ``pool_positions``; ``ranks[i]`` is the gold rank.
    """

    model: str
    direction: Direction
    query_ids: tuple[str, ...]
    query_positions: np.ndarray
    pool_positions: np.ndarray
    gold: np.ndarray
    ranks: np.ndarray
    n_dropped: int

    @property
    def n_queries(self) -> int:
        return int(self.ranks.size)

    def summary(self, ks: Iterable[int]) -> dict[str, float]:
        return {m: float(per_query(self.ranks, m).mean()) for m in metric_names(ks)}


def direction_positions(
    corpus: Corpus, direction: Direction, first: int | None = None
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """``(ids, query_positions, pool_positions)`` of a direction under the protocol.

    The ids linked in both languages (the first ``first`` of them; ``None``: all), and the
    positions of their source and target documents in ``corpus.documents`` (int64,
    aligned: the gold of query i is pool document i).  ``KeyError`` for an absent language.
    """
    ids = corpus.linked_ids(direction.source, direction.target, first=first)
    q_pos = np.fromiter((corpus.index(i, direction.source) for i in ids), dtype=np.int64, count=len(ids))
    p_pos = np.fromiter((corpus.index(i, direction.target) for i in ids), dtype=np.int64, count=len(ids))
    return ids, q_pos, p_pos


def _n_dropped(corpus: Corpus, d: Direction) -> int:
    """Source documents left out because their id has no document in the target language."""
    return int(corpus.positions(d.source).size) - len(corpus.linked_ids(d.source, d.target))


class CorpusEmbeddings:
    """Embeddings of a corpus' documents, by role, filled lazily through the cache.

    ``vectors(positions, role)`` returns ``(len(positions), dim)`` float32 rows
    aligned with ``positions``; documents are encoded at most once per role
    prefix (and never again once cached on disk).  ``stats`` accumulates how
    many texts were encoded and how many came from the cache.
    """

    def __init__(
        self,
        corpus: Corpus,
        encoder: Encoder,
        cache: EmbeddingCache,
        *,
        text_field: str = "text",
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> None:
        self.corpus = corpus
        self.encoder = encoder
        self.cache = cache
        self.text_field = text_field
        self.batch_size = batch_size
        self.progress = progress
        self.stats = CacheStats(0, 0)
        n, dim = len(corpus), encoder.identity.dim
        self._vecs: dict[str, np.ndarray] = {}
        self._have: dict[str, np.ndarray] = {}
        self._last: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._shape = (n, dim)

    def _key(self, role: Role) -> str:
        return self.encoder.identity.cache_key(role)

    def ensure(self, positions: np.ndarray, role: Role) -> None:
        """Encode (or read from the cache) every listed document not yet held."""
        key = self._key(role)
        if key not in self._vecs:
            self._vecs[key] = np.zeros(self._shape, dtype=np.float32)
            self._have[key] = np.zeros(self._shape[0], dtype=bool)
        positions = np.unique(np.asarray(positions, dtype=np.int64))
        need = positions[~self._have[key][positions]]
        if need.size == 0:
            return
        texts = self.corpus.texts(need, field=self.text_field)
        vecs, stats = self.cache.embed(
            self.encoder, texts, role=role, batch_size=self.batch_size, progress=self.progress
        )
        self._vecs[key][need] = vecs
        self._have[key][need] = True
        self.stats = self.stats + stats

    def vectors(self, positions: np.ndarray, role: Role) -> np.ndarray:
        """Rows for ``positions`` (read-only).  The last request per role is memoised, so a
        search repeated over the same pool does not copy the pool again."""
        positions = np.asarray(positions, dtype=np.int64)
        key = self._key(role)
        last = self._last.get(key)
        if last is not None and np.array_equal(last[0], positions):
            return last[1]
        self.ensure(positions, role)
        out = self._vecs[key][positions]
        out.flags.writeable = False
        self._last[key] = (positions.copy(), out)
        return out


VectorFn = Callable[[np.ndarray, Role], np.ndarray]


def evaluate_vectors(
    corpus: Corpus,
    vectors: VectorFn,
    spec: EvalSpec,
    model: str,
) -> list[DirectionResult]:
    """Gold ranks for every direction of ``spec`` from a ``vectors(positions, role)`` function.

    The function form lets strategies (centering, alignment, fusion) supply
    transformed vectors while the protocol stays in one place.
    """
    plans = []
    for d in spec.directions:
        ids, q_pos, p_pos = direction_positions(corpus, d, spec.first)
        dropped = _n_dropped(corpus, d)
        if not ids:
            raise ValueError(f"direction {d.label}: no id has a document in both {d.source} and {d.target}")
        plans.append((d, ids, q_pos, p_pos, dropped))
    results = []
    for d, ids, q_pos, p_pos, dropped in plans:
        q = vectors(q_pos, "query")
        p = vectors(p_pos, "document")
        gold = np.arange(len(ids), dtype=np.int64)
        ranks = gold_ranks(q, p, gold, scoring=spec.scoring)
        results.append(DirectionResult(model, d, tuple(ids), q_pos, p_pos, gold, ranks, dropped))
    return results


def model_label(encoder_name: str, spec: EvalSpec, strategy: str | None = None) -> str:
    """``e5-small``, ``e5-small+csls(k=10)``, ``e5-small+title+text``, ..."""
    parts = [encoder_name]
    if spec.scoring.method != "cosine":
        parts.append(spec.scoring.label)
    if spec.text_field != "text":
        parts.append(spec.text_field)
    if strategy:
        parts.append(strategy)
    return "+".join(parts)


def evaluate(
    corpus: Corpus,
    embeddings: CorpusEmbeddings,
    spec: EvalSpec,
    *,
    model: str | None = None,
) -> list[DirectionResult]:
    """Evaluate every direction of ``spec``, encoding what is needed in one pass per role."""
    q_all, p_all = [], []
    for d in spec.directions:
        _, q_pos, p_pos = direction_positions(corpus, d, spec.first)
        q_all.append(q_pos)
        p_all.append(p_pos)
    embeddings.ensure(np.concatenate(q_all), "query")
    embeddings.ensure(np.concatenate(p_all), "document")
    label = model or model_label(embeddings.encoder.identity.name, spec)
    return evaluate_vectors(corpus, embeddings.vectors, spec, label)


def results_table(results: Sequence[DirectionResult], ks: Iterable[int]) -> pd.DataFrame:
    """Tidy table: one row per (model, source, target, metric) with ``value`` and ``n_queries``."""
    names = metric_names(ks)
    rows = [
        {
            "model": r.model,
            "source": r.direction.source,
            "target": r.direction.target,
            "metric": m,
            "value": float(per_query(r.ranks, m).mean()),
            "n_queries": r.n_queries,
        }
        for r in results
        for m in names
    ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """Model x direction rows, one column per metric (for printing and the overview)."""
    if table.empty:
        return pd.DataFrame()
    t = table.assign(direction=table["source"] + "->" + table["target"])
    wide = t.pivot_table(
        index=["model", "direction", "n_queries"], columns="metric", values="value", sort=False
    )
    order = [c for c in table["metric"].drop_duplicates()]
    return wide[order].reset_index()
