"""Synthetic corpora and a lookup encoder for fast strategy tests (no model, no data files).

Every id i has a latent unit vector z_i.  English documents embed near z_i; each other
language embeds near ``z_i @ R_L + b_L`` (a rotation and an offset per language), so
cosine retrieval across languages is poor, centering removes ``b_L`` and Procrustes
(fitted on other ids) undoes ``R_L``.
"""

from __future__ import annotations

import numpy as np

from xlr.data.records import Corpus, Document
from xlr.encoders.base import BatchEncoder, EncoderIdentity

__all__ = ["HashEncoder", "LookupEncoder", "install_synthetic", "synthetic_corpus"]


class LookupEncoder(BatchEncoder):
    """Returns a fixed vector per text (KeyError for an unknown text); counts encoded texts."""

    def __init__(self, name: str, table: dict[str, np.ndarray], version: str = "1") -> None:
        dim = len(next(iter(table.values())))
        self.table = table
        self.calls = 0
        self.identity = EncoderIdentity(name, "lookup", version, "none", True, dim)

    def _encode_batch(self, texts, role):
        self.calls += len(texts)
        return np.stack([self.table[t] for t in texts])


def _rotation(rng: np.random.Generator, d: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return q


def synthetic_corpus(
    n_ids: int = 120,
    langs: tuple[str, ...] = ("de", "en", "zh"),
    dim: int = 16,
    *,
    rotate: tuple[str, ...] = ("zh",),
    offset: float = 0.0,
    noise: float = 0.3,
    seed: int = 0,
    titles: bool = False,
    name: str = "synthetic",
    encoders: int = 1,
) -> tuple[Corpus, list[LookupEncoder]]:
    """A corpus of ``n_ids`` ids in every language and ``encoders`` lookup encoders over it.

    Texts are ``"<lang> <i>"`` (and titles ``"T<lang> <i>"`` when ``titles``); languages in
    ``rotate`` are rotated by a random orthogonal matrix; every non-English language gets
    a common offset of norm ``offset``.  Each encoder draws its own noise.
    """
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_ids, dim))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    rot = {lang: _rotation(rng, dim) for lang in rotate}
    bias = {lang: offset * (v := rng.standard_normal(dim)) / np.linalg.norm(v) for lang in langs if lang != "en"}
    docs = [
        Document(f"id{i:04d}", lang, f"T{lang} {i}" if titles else "", f"{lang} {i}")
        for i in range(n_ids)
        for lang in langs
    ]
    corpus = Corpus(name, docs)
    encs = []
    for e in range(encoders):
        table: dict[str, np.ndarray] = {}
        for i in range(n_ids):
            for lang in langs:
                v = z[i] @ rot[lang] if lang in rot else z[i].copy()
                v = v + bias.get(lang, 0.0) + noise * rng.standard_normal(dim) / np.sqrt(dim)
                table[f"{lang} {i}"] = v.astype(np.float32)
                table[f"T{lang} {i}\n{lang} {i}"] = (v + 0.5 * z[i]).astype(np.float32)
        encs.append(LookupEncoder(f"fake{e}", table))
    return corpus, encs


class HashEncoder(BatchEncoder):
    """A deterministic pseudo-random unit vector per text (any text; meaningless but fast)."""

    def __init__(self, name: str = "hash", dim: int = 8) -> None:
        self.identity = EncoderIdentity(name, "hash", "1", "none", True, dim)

    def _encode_batch(self, texts, role):
        import hashlib

        out = []
        for t in texts:
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            out.append(np.random.default_rng(seed).standard_normal(self.identity.dim))
        return np.stack(out)


def install_synthetic(tmp_path, monkeypatch, n_ids: int):
    """Write a synthetic JSONL corpus (de, en, zh; zh rotated; titles) to ``tmp_path`` and
    register its two lookup encoders as ``fake0``/``fake1`` for the test; returns the path."""
    import json

    from xlr.encoders.catalogue import CATALOGUE, EncoderCard

    corpus, encs = synthetic_corpus(n_ids, rotate=("zh",), offset=0.5, encoders=2, titles=True)
    path = tmp_path / "synthetic.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": d.id,
                    "lang": d.lang,
                    "title": d.title,
                    "url": "",
                    "text": d.text,
                }
            )
            for d in corpus.documents
        )
        + "\n",
        encoding="utf-8",
    )
    for enc in encs:
        monkeypatch.setitem(
            CATALOGUE,
            enc.identity.name,
            EncoderCard(enc.identity.name, "lookup", lambda _c, e=enc: e, needs="bundled"),
        )
    return path


def synthetic_app(tmp_path, monkeypatch, n_ids: int, first: int, **env: str):
    """The real ``app.py`` as a Streamlit ``AppTest`` on :func:`install_synthetic`'s corpus and encoders
    (``fake0,fake1``), ``first`` ids, its own cache, plus ``env``.

    Streamlit's process-wide caches are cleared first: they outlive an AppTest, and without this
    ``fake0`` would still be an earlier test's encoder.
    """
    from pathlib import Path

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_resource.clear()
    st.cache_data.clear()
    path = install_synthetic(tmp_path, monkeypatch, n_ids)
    settings = {
        "XLR_DEFAULT_DATASET": str(path),
        "XLR_DEFAULT_MODELS": "fake0,fake1",
        "XLR_DEFAULT_FIRST": str(first),
        "XLR_CACHE_DIR": str(tmp_path / "cache"),
        **env,
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    for var in ("XLR_DEFAULT_DIRECTIONS", "XLR_DEFAULT_KS"):
        monkeypatch.delenv(var, raising=False)
    return AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)


def url_of(at) -> dict[str, str]:
    """An AppTest's query parameters as one string each (AppTest may hold a value as a one-item list)."""
    return {k: v[0] if isinstance(v, list) else v for k, v in ((k, at.query_params[k]) for k in at.query_params)}


def reopened(at, tmp_path, monkeypatch, n_ids: int, first: int, page: str | None = None, **env: str):
    """A fresh session (its own folder under ``tmp_path``) opened on ``at``'s URL, as a pasted link is:
    :func:`synthetic_app` with the same query parameters, run, then switched to ``page`` when given."""
    folder = tmp_path / f"again{len(list(tmp_path.glob('again*')))}"
    folder.mkdir()
    fresh = synthetic_app(folder, monkeypatch, n_ids, first, **env)
    for k, v in url_of(at).items():
        fresh.query_params[k] = v
    fresh.run()
    if page is not None:
        fresh.switch_page(page).run()
    assert not fresh.exception, [e.value for e in fresh.exception]
    return fresh
