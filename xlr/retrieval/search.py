"""Ad-hoc search: a typed query against the documents of some languages.

The query is encoded in the ``query`` role; the pool is every document of the
chosen target languages, encoded in the ``document`` role (through the cache).
CSLS and margin need r_S of each pool document: it is taken among the
*reference queries*, the documents of the query's language (``query_lang``)
encoded as queries; without ``query_lang`` they are the pool documents
themselves, encoded as queries (stated in :attr:`SearchResult.reference`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from xlr.data.records import Corpus, Document
from xlr.data.unique import unique
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.ranks import top_k
from xlr.retrieval.scoring import ScoringSpec

__all__ = ["Hit", "SearchResult", "search"]


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    position: int
    document: Document


@dataclass(frozen=True)
class SearchResult:
    query: str
    model: str
    hits: tuple[Hit, ...]
    seconds: float
    """wall time from text to top-k (encoding the query included, pool cached)"""
    reference: str
    """which documents served as reference queries for r_S (empty for cosine)"""


@overload
def search(
    embeddings: CorpusEmbeddings,
    text: str,
    target_langs: Sequence[str],
    /,
    *,
    k: int = 10,
    scoring: ScoringSpec | None = None,
    query_lang: str | None = None,
) -> SearchResult: ...
@overload
def search(
    corpus: Corpus,
    embeddings: CorpusEmbeddings,
    text: str,
    target_langs: Sequence[str],
    /,
    *,
    k: int = 10,
    scoring: ScoringSpec | None = None,
    query_lang: str | None = None,
) -> SearchResult: ...
def search(*args: Any, k: int = 10, scoring: ScoringSpec | None = None, query_lang: str | None = None) -> SearchResult:
    """Top-``k`` documents of ``target_langs`` for ``text``; ties by document order.

    ``search(embeddings, text, target_langs)`` searches ``embeddings.corpus``; the older form
    ``search(corpus, embeddings, text, target_langs)`` needs ``corpus`` to hold the same documents
    (``ValueError`` otherwise: the hits would be other documents).  A language repeated in
    ``target_langs`` is searched once.
    """
    if len(args) == 3 and isinstance(args[0], CorpusEmbeddings):
        given, (embeddings, text, target_langs) = None, args
    elif len(args) == 4:
        given, embeddings, text, target_langs = args
    else:
        raise TypeError("search(embeddings, text, target_langs) takes 3 positional arguments (or corpus first)")
    corpus = embeddings.check_corpus(given)
    target_langs, _ = unique(target_langs)
    if not isinstance(text, str) or not text.strip():
        raise ValueError("the query is empty: type some text to search for")
    if not target_langs:
        raise ValueError("choose at least one target language to search in")
    for lang in list(target_langs) + ([query_lang] if query_lang else []):
        if lang not in corpus.languages:
            raise ValueError(
                f"language {lang!r} is not in corpus {corpus.name!r} (languages: {', '.join(corpus.languages)})"
            )
    scoring = scoring or ScoringSpec()
    pool_pos = np.concatenate([corpus.positions(lang) for lang in target_langs])
    pool = embeddings.vectors(pool_pos, "document")
    reference = None
    ref_label = ""
    if scoring.method != "cosine":
        if query_lang:
            ref_pos = corpus.positions(query_lang)
            ref_label = f"all {ref_pos.size} {query_lang} documents, encoded as queries"
        else:
            ref_pos = pool_pos
            ref_label = f"the {pool_pos.size} pool documents themselves, encoded as queries"
        reference = embeddings.vectors(ref_pos, "query")
    start = time.perf_counter()
    q = embeddings.encoder.encode([text.strip()], role="query")
    idx, val = top_k(q, pool, k, scoring=scoring, reference_queries=reference)
    seconds = time.perf_counter() - start
    hits = tuple(
        Hit(
            rank=i + 1,
            score=float(s),
            position=int(pool_pos[j]),
            document=corpus.documents[int(pool_pos[j])],
        )
        for i, (j, s) in enumerate(zip(idx[0], val[0]))
    )
    return SearchResult(text, embeddings.encoder.identity.name, hits, seconds, ref_label)
