"""Synthetic embeddings with a fixed seed, on a grid where every dot product is exact.

Rows are L2-normalised and then rounded to multiples of ``2**-12`` with at
most ``2**12`` as the norm of their integer form.  Every product of two
entries is then an integer times ``2**-24`` and every partial sum of a dot
product is bounded by the Cauchy-Schwarz product of the norms, ``2**24``:
float32 holds all of them exactly, so the score of a pair is the same
whatever the summation order (numpy's OpenBLAS, torch's MKL, faiss, block
sizes, FMA).  All methods then see bit-identical scores and their metrics can
be compared to 1e-9.  The rounding costs at most 0.7 % of the norm.
"""

from __future__ import annotations

import math

import numpy as np

from xlr.data.records import Corpus, Document

__all__ = [
    "GRID_BITS",
    "LANGS",
    "SIGMAS",
    "break_gold_ties",
    "exact_grid",
    "synthetic_corpus",
    "synthetic_languages",
]

GRID_BITS = 12
LANGS = ("ar", "de", "el", "en", "fr", "zh")
# noise per language: gold cosine ~ 1/sqrt((1+s_a^2)(1+s_b^2)); chosen so recall@1 spans ~0.1-1
SIGMAS = (2.0, 2.5, 2.8, 3.1, 3.4, 3.7)


def exact_grid(x: np.ndarray, bits: int = GRID_BITS) -> np.ndarray:
    """Normalise rows, then round them to the exact-dot-product grid (float32)."""
    x = np.asarray(x, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    top = 2.0**bits
    scale = top - 0.5 * math.sqrt(x.shape[1]) - 1.0  # rounding adds at most 0.5 per entry
    ints = np.round(x * scale)
    if np.linalg.norm(ints, axis=1).max() > top:  # pragma: no cover - excluded by the choice of scale
        raise AssertionError("grid rounding exceeded the exactness bound")
    return (ints / top).astype(np.float32)


def _tied_rows(scores: np.ndarray, axis: int) -> np.ndarray:
    """Rows (axis=1) or columns (axis=0) of a square block where a document ties with the diagonal gold."""
    gold = np.diagonal(scores)
    g = gold[:, None] if axis == 1 else gold[None, :]
    return np.flatnonzero(np.count_nonzero(scores == g, axis=axis) > 1)


def break_gold_ties(by_lang: dict[str, np.ndarray], max_rounds: int = 50) -> int:
    """Nudge grid vectors (in place) until no pool document ties with a gold score; return how many.

    On the grid, scores are multiples of 2**-24, so a distractor can score
    exactly the gold's score; tie rules then differ between methods (xlr is
    pessimistic, argsort arbitrary) and the metrics would not be comparable.
    A tied query moves its largest coordinate one grid step towards zero (the
    norm only shrinks, so the exactness bound holds); rows of every language
    must be aligned by id (the gold of row i is row i).
    """
    langs, step, moved = sorted(by_lang), np.float32(2.0**-GRID_BITS), 0
    for _ in range(max_rounds):
        fixes = []
        for i, a in enumerate(langs):
            for b in langs[i + 1 :]:
                s = by_lang[a] @ by_lang[b].T
                fixes += [(a, r) for r in _tied_rows(s, 1)] + [(b, r) for r in _tied_rows(s, 0)]
        if not fixes:
            return moved
        for lang, row in fixes:
            x = by_lang[lang]
            col = int(np.argmax(np.abs(x[row])))
            x[row, col] -= step * np.sign(x[row, col])
            moved += 1
    raise AssertionError(f"gold ties remain after {max_rounds} rounds")


def synthetic_languages(n_ids: int, dim: int, langs: tuple[str, ...] = LANGS, seed: int = 0) -> dict[str, np.ndarray]:
    """``{lang: (n_ids, dim) float32}``: row i of every language is a noisy view of latent i.

    On the grid but with possible gold ties: see :func:`break_gold_ties`.
    """
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n_ids, dim))
    out = {}
    for j, lang in enumerate(langs):
        sigma = SIGMAS[j % len(SIGMAS)]
        out[lang] = exact_grid(latent + sigma * rng.standard_normal((n_ids, dim)))
    return out


def synthetic_corpus(by_lang: dict[str, np.ndarray]) -> tuple[Corpus, np.ndarray]:
    """A corpus laid out like ``sample-6lang.jsonl`` (sorted by id, then language) and its vectors.

    Returns ``(corpus, vectors)`` with ``vectors[p]`` the embedding of ``corpus.documents[p]``.
    """
    langs = sorted(by_lang)
    n_ids = next(iter(by_lang.values())).shape[0]
    docs, rows = [], []
    for i in range(n_ids):
        for lang in langs:
            docs.append(Document(id=f"Q{i:07d}", lang=lang, title="", text=f"synthetic {lang} {i}"))
            rows.append(by_lang[lang][i])
    return Corpus("synthetic", docs), np.stack(rows)
