"""Real data for the benchmarks: XQuAD (7 languages) and Tatoeba, found like the tests find them.

The data directory is ``$XLR_DATA_DIR`` when it holds ``xquad-7lang.jsonl``,
else ``../shared/data`` beside the checkout (read only: nothing is written there).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np

from xlr.data.loaders import load_jsonl, load_xquad
from xlr.data.records import Corpus, QuerySet
from xlr.data.tatoeba import load_tatoeba
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings

__all__ = [
    "PrefilledEmbeddings",
    "data_dir",
    "latency_corpus",
    "xquad_corpus",
    "xquad_questions",
]

ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """Folder holding ``xquad-7lang.jsonl``, ``xquad/`` and ``tatoeba/``."""
    for candidate in (
        os.environ.get("XLR_DATA_DIR", "").strip(),
        str(ROOT.parent / "shared" / "data"),
    ):
        if candidate and (Path(candidate) / "xquad-7lang.jsonl").is_file():
            return Path(candidate)
    raise FileNotFoundError(
        "benchmark data not found: set XLR_DATA_DIR to a folder holding xquad-7lang.jsonl, xquad/ and tatoeba/"
    )


def _first_ids(corpus: Corpus, n: int | None, langs: tuple[str, ...] | None = None) -> Corpus:
    ids = None if n is None else corpus.ids[:n]
    return corpus.subset(ids=ids, langs=langs) if (ids is not None or langs) else corpus


def xquad_corpus(n_ids: int | None = None, langs: tuple[str, ...] | None = None) -> Corpus:
    """``xquad-7lang.jsonl`` (240 ids x 7 languages), optionally its first ``n_ids`` ids / some languages."""
    return _first_ids(load_jsonl(data_dir() / "xquad-7lang.jsonl"), n_ids, langs)


def xquad_questions() -> QuerySet:
    """The 1190 XQuAD questions in each of the 7 languages (typed queries for the latency run)."""
    return load_xquad(data_dir() / "xquad")[1]


def latency_corpus(tatoeba: bool, xquad_ids: int | None) -> Corpus:
    """Tatoeba's 10,000 sentences plus XQuAD's paragraphs (``xquad_ids`` ids; 0: none); ids prefixed."""
    docs = []
    if tatoeba:
        docs += [replace(d, id=f"tatoeba:{d.id}") for d in load_tatoeba(data_dir() / "tatoeba").documents]
    if xquad_ids != 0:
        docs += [replace(d, id=f"xquad:{d.id}") for d in xquad_corpus(xquad_ids).documents]
    return Corpus("tatoeba+xquad", docs)


class PrefilledEmbeddings(CorpusEmbeddings):
    """CorpusEmbeddings whose vectors are given (no encoding, no cache): a warm pool for latency runs.

    Like the base class, the last request is memoised (read-only), so a repeated
    search over the same pool does not gather it again.
    """

    def __init__(self, corpus: Corpus, encoder: Encoder, vectors: np.ndarray) -> None:
        super().__init__(corpus, encoder, EmbeddingCache(os.devnull))
        self._given = np.ascontiguousarray(vectors, dtype=np.float32)
        self._memo: tuple[np.ndarray, np.ndarray] | None = None

    def ensure(self, positions: np.ndarray, role) -> None:  # noqa: ANN001 - same signature as the base
        return None

    def vectors(self, positions: np.ndarray, role) -> np.ndarray:  # noqa: ANN001
        positions = np.asarray(positions, dtype=np.int64)
        if self._memo is not None and np.array_equal(self._memo[0], positions):
            return self._memo[1]
        out = self._given[positions]
        out.flags.writeable = False
        self._memo = (positions.copy(), out)
        return out
