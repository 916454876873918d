"""Corpus vectors: the embeddings of one corpus' documents (one text field), by role, through the cache."""

from __future__ import annotations

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.base import Encoder, Progress, Role
from xlr.encoders.cache import CacheStats, EmbeddingCache


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
        batch_size: int | None = None,
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

    def check_corpus(self, corpus: Corpus | None, text_field: str | None = None) -> Corpus:
        """The corpus these vectors are rows of; ``ValueError`` (one sentence) if ``corpus`` is given
        and holds other documents, or if ``text_field`` is not the field these vectors encode."""
        if corpus is not None and corpus is not self.corpus and corpus.documents != self.corpus.documents:
            raise ValueError(
                f"corpus {corpus.name!r} ({len(corpus)} documents) is not the corpus of the embeddings "
                f"({self.corpus.name!r}, {len(self.corpus)} documents): build CorpusEmbeddings for it"
            )
        if text_field is not None and text_field != self.text_field:
            raise ValueError(
                f"the embeddings encode {self.text_field!r} but the spec asks for {text_field!r}: "
                f"build CorpusEmbeddings(..., text_field={text_field!r})"
            )
        return self.corpus

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
            self.encoder,
            texts,
            role=role,
            batch_size=self.batch_size,
            progress=self.progress,
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
