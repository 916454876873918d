"""Process-wide resources of the dashboard: loaded data sets, encoders, embeddings, the job board.

All ``st.cache_resource``: one per server process, shared by sessions. Embeddings are
mutated only by background jobs (:mod:`xlr.dashboard.jobs`) under the embeddings' own
lock (:func:`lock_of`); readers take the same lock, so one encoding never blocks
another data set, encoder or session.
"""

from __future__ import annotations

import threading

import streamlit as st

from xlr.dashboard.jobs import JobBoard
from xlr.dashboard.rates import RateBook
from xlr.dashboard.state import DataKey, encoder_from_key
from xlr.data.records import Corpus
from xlr.data.registry import LoadedDataset, resolve_dataset
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache, default_cache_dir
from xlr.encoders.corpus_vectors import CorpusEmbeddings

__all__ = [
    "board",
    "dataset",
    "embedding_cache",
    "embeddings",
    "encoder",
    "lock_of",
    "named_lock",
    "subset",
    "subset_embeddings",
]


@st.cache_resource(show_spinner=False)
def board() -> JobBoard:
    """The server's jobs; rates per encoder and text length are kept next to the embedding cache."""
    return JobBoard(RateBook(default_cache_dir() / "rates.json"))


def lock_of(emb: CorpusEmbeddings) -> threading.Lock:
    """The lock of one embeddings object (shared with its encoding job)."""
    return board().lock_for(emb)


@st.cache_resource(show_spinner="Loading the data set…", max_entries=8)
def dataset(source: str, stamp: tuple, lenient: bool, languages: str = "") -> LoadedDataset:
    """The data set ``source`` with the sidebar's ``languages`` (``""``: the data set's default selection)."""
    return resolve_dataset(source, lenient=lenient, download_missing=False, languages=languages or None)


@st.cache_resource(show_spinner="Loading the encoder…")
def encoder(key: str) -> Encoder:
    """The encoder an :func:`~xlr.dashboard.state.encoder_key` names (``e5-small``, ``labse | cuda/fp16``)."""
    return encoder_from_key(key)


@st.cache_resource(show_spinner=False)
def _embedding_cache(root: str) -> EmbeddingCache:
    return EmbeddingCache(root)


def embedding_cache() -> EmbeddingCache:
    """The server's one embedding cache object (``$XLR_CACHE_DIR``), shared by every page."""
    return _embedding_cache(str(default_cache_dir()))


@st.cache_resource(show_spinner=False)
def named_lock(key: str) -> threading.Lock:
    """One lock per named piece of long work (e.g. a Strategies run on one data set and encoder set)."""
    return threading.Lock()


def _new_embeddings(corpus: Corpus, model: str) -> CorpusEmbeddings:
    return CorpusEmbeddings(corpus, encoder(model), embedding_cache())


@st.cache_resource(show_spinner=False, max_entries=16)
def embeddings(dkey: DataKey, model: str) -> CorpusEmbeddings:
    return _new_embeddings(dataset(*dkey).corpus, model)


@st.cache_resource(show_spinner=False, max_entries=8)
def subset(dkey: DataKey, digest: str, _ids: tuple[str, ...]) -> Corpus:
    return dataset(*dkey).corpus.subset(ids=_ids)


@st.cache_resource(show_spinner=False, max_entries=16)
def subset_embeddings(dkey: DataKey, digest: str, model: str, _ids: tuple[str, ...]) -> CorpusEmbeddings:
    return _new_embeddings(subset(dkey, digest, _ids), model)
