"""Embedding post-processing and score fusion (pure array functions).

Post-processing acts on an embedding matrix ``emb`` of shape ``(n, d)`` whose
rows are aligned with 1-D label arrays ``langs`` (language per row) and ``ids``
(document id per row, shared across translations).  ``fit_mask`` (bool,
``(n,)``) selects the rows the statistics are fitted on; the caller makes it
exclude the evaluated ids so that no test document leaks into the fit.

* :func:`mean_center` -- per-language mean centering (+ L2 renormalisation).
* :func:`procrustes_align` -- orthogonal Procrustes map of every language onto
  a target language (Schönemann 1966).
* :func:`reciprocal_rank_fusion`, :func:`zscore_fusion` -- combine score
  matrices ``(n_queries, n_pool)`` of several encoders over the same queries
  and pool.
* :func:`row_ranks` -- 1-based descending "min" ranks within each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "mean_center",
    "procrustes_align",
    "reciprocal_rank_fusion",
    "row_ranks",
    "zscore_fusion",
]

#: Rows per block when ranking large score matrices (bounds temporaries).
_ROW_BLOCK = 1024


# --------------------------------------------------------------------------- validation


def _embeddings(emb: np.ndarray) -> np.ndarray:
    x = np.asarray(emb)
    if x.ndim != 2:
        raise ValueError(f"emb must be 2-D (n_docs, dim), got shape {x.shape}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"emb is empty: shape {x.shape}")
    if x.dtype.kind not in "iuf":
        raise ValueError(f"emb must be numeric, got dtype {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise ValueError("emb contains NaN or infinite values")
    return x


def _out_dtype(x: np.ndarray) -> np.dtype:
    """Keep float32/float64 input precision; anything else becomes float64."""
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def _rows_like(arr: np.ndarray, n: int, name: str) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != 1 or a.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match emb rows, got {a.shape}")
    return a


def _mask(fit_mask: np.ndarray, n: int) -> np.ndarray:
    m = _rows_like(fit_mask, n, "fit_mask")
    if m.dtype != np.bool_:
        raise ValueError(f"fit_mask must be a boolean array, got dtype {m.dtype}")
    return m


def _normalize_rows(x: np.ndarray) -> np.ndarray:
    """L2-normalise rows; all-zero rows stay zero (no NaN)."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    out: np.ndarray = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    return out


def _score_stack(score_mats: Sequence[np.ndarray]) -> list[np.ndarray]:
    if isinstance(score_mats, np.ndarray) and score_mats.ndim == 2:
        raise ValueError("score_mats must be a sequence of 2-D score matrices, got one 2-D array; wrap it in a list")
    mats = [np.asarray(s) for s in score_mats]
    if not mats:
        raise ValueError("score_mats is empty: at least one score matrix is needed")
    for i, s in enumerate(mats):
        if s.ndim != 2:
            raise ValueError(f"score_mats[{i}] must be 2-D (n_queries, n_pool), got shape {s.shape}")
        if s.shape != mats[0].shape:
            raise ValueError(
                f"score_mats[{i}] has shape {s.shape}, expected {mats[0].shape} like score_mats[0] "
                "(same queries and pool for every encoder)"
            )
        if s.dtype.kind not in "iuf":
            raise ValueError(f"score_mats[{i}] must be numeric, got dtype {s.dtype}")
        if not np.all(np.isfinite(s)):
            raise ValueError(f"score_mats[{i}] contains NaN or infinite scores")
    if 0 in mats[0].shape:
        raise ValueError(f"score matrices are empty: shape {mats[0].shape}")
    return mats


# --------------------------------------------------------------------------- post-processing


def mean_center(
    emb: np.ndarray,
    langs: np.ndarray,
    fit_mask: np.ndarray,
    *,
    renormalize: bool = True,
) -> np.ndarray:
    """Subtract each language's mean embedding, fitted on ``fit_mask`` rows.

    For every language ``L`` in ``langs``: ``mu_L = mean(emb[(langs == L) &
    fit_mask])`` (computed in float64) and ``out[langs == L] = emb[langs == L]
    - mu_L``; then rows are L2-renormalised if ``renormalize`` (a row that
    becomes exactly zero stays zero).  Shapes: ``emb (n, d)``, ``langs (n,)``,
    ``fit_mask (n,)`` bool.  Returns a new ``(n, d)`` array (float32 input stays
    float32).  A language with no fit rows raises ``ValueError`` naming it.
    """
    x = _embeddings(emb)
    n = x.shape[0]
    lg = _rows_like(langs, n, "langs")
    fm = _mask(fit_mask, n)
    out = x.astype(np.float64, copy=True)
    missing = []
    for lang in dict.fromkeys(lg.tolist()):
        rows = lg == lang
        fit = rows & fm
        if not fit.any():
            missing.append(str(lang))
            continue
        out[rows] -= out[fit].mean(axis=0)
    if missing:
        raise ValueError(
            f"mean_center: no fit rows (fit_mask) for language(s) {missing}; "
            "each language needs at least one document outside the evaluated ids"
        )
    if renormalize:
        out = _normalize_rows(out)
    return out.astype(_out_dtype(x), copy=False)


def procrustes_align(
    emb: np.ndarray,
    langs: np.ndarray,
    ids: np.ndarray,
    fit_mask: np.ndarray,
    *,
    target_lang: str = "en",
    renormalize: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Map every language onto ``target_lang`` by an orthogonal matrix.

    For each language ``L != target_lang``, the training pairs are the ids that
    have a fit row (``fit_mask``) in both ``L`` and the target; stacking them
    gives ``X`` (rows of ``L``) and ``Y`` (target rows), each ``(p, d)``.
    ``W_L = argmin_{W^T W = I} ||X W - Y||_F = U V^T`` with ``U S V^T =
    svd(X^T Y)`` (orthogonal Procrustes, Schönemann 1966).  All rows of ``L``
    (fit or not) become ``emb[L] @ W_L``; target rows are unchanged.  With
    ``renormalize`` every row is then L2-normalised.

    Returns ``(aligned copy (n, d), {L: W_L (d, d)})`` (the target has no
    entry).  Raises ``ValueError`` when the target language is absent, an id
    repeats among one language's fit rows, or a language has fewer than 2
    pairs (the message names the language and the count).  Fewer than ``d``
    pairs still give an orthogonal, but not unique, ``W_L``.
    """
    x = _embeddings(emb)
    n = x.shape[0]
    lg = _rows_like(langs, n, "langs")
    id_arr = _rows_like(ids, n, "ids")
    fm = _mask(fit_mask, n)
    lang_list = [str(v) for v in lg.tolist()]
    id_list = id_arr.tolist()
    if target_lang not in lang_list:
        raise ValueError(f"procrustes_align: target language {target_lang!r} has no rows")

    fit_index: dict[str, dict[object, int]] = {lang: {} for lang in lang_list}
    for i in np.flatnonzero(fm).tolist():
        index = fit_index[lang_list[i]]
        if id_list[i] in index:
            raise ValueError(f"procrustes_align: id {id_list[i]!r} occurs twice among the fit rows of {lang_list[i]!r}")
        index[id_list[i]] = i
    target_index = fit_index[target_lang]
    src = x.astype(np.float64)
    out = src.copy()
    weights: dict[str, np.ndarray] = {}
    langs_arr = np.asarray(lang_list, dtype=object)
    for lang in dict.fromkeys(lang_list):
        if lang == target_lang:
            continue
        src_index = fit_index[lang]
        pairs = [(i, target_index[k]) for k, i in src_index.items() if k in target_index]
        if len(pairs) < 2:
            raise ValueError(
                f"procrustes_align: language {lang!r} has {len(pairs)} fit pair(s) with "
                f"{target_lang!r} (same id, both in fit_mask); at least 2 are needed"
            )
        xi, yi = np.asarray(pairs).T
        u, _, vt = np.linalg.svd(src[xi].T @ src[yi])
        w = u @ vt
        rows = langs_arr == lang
        out[rows] = src[rows] @ w
        weights[lang] = w
    if renormalize:
        out = _normalize_rows(out)
    return out.astype(_out_dtype(x), copy=False), weights


# --------------------------------------------------------------------------- fusion


def row_ranks(scores: np.ndarray) -> np.ndarray:
    """1-based descending ranks within each row, ties sharing the minimum rank.

    ``rank[q, d] = 1 + #{d' : scores[q, d'] > scores[q, d]}`` ("min" /
    competition ranking: scores ``[0.9, 0.5, 0.9, 0.1] -> [1, 3, 1, 4]``).
    Shape ``(n_queries, n_pool)`` -> same shape, int64.  Computed in row blocks.
    """
    s = _score_stack([scores])[0]
    out = np.empty(s.shape, dtype=np.int64)
    n = s.shape[1]
    for start in range(0, s.shape[0], _ROW_BLOCK):
        block = s[start : start + _ROW_BLOCK]
        ascending = np.sort(block, axis=1)
        for i, (row, srt) in enumerate(zip(block, ascending)):  # 1 + #{strictly greater}
            out[start + i] = 1 + n - np.searchsorted(srt, row, side="right")
    return out


def reciprocal_rank_fusion(score_mats: Sequence[np.ndarray], *, k: float = 60) -> np.ndarray:
    """Reciprocal rank fusion (Cormack et al. 2009) of several score matrices.

    ``score_mats``: ``M`` matrices of shape ``(n_queries, n_pool)`` from
    different encoders over the same queries and pool (higher = better).
    ``RRF[q, d] = sum_m 1 / (k + rank_m[q, d])`` with ``rank_m`` from
    :func:`row_ranks` (1-based, ties share the *minimum* rank, so tied
    documents get equal fused contributions and no argsort order leaks in).
    ``k >= 0`` (default 60).  Returns ``(n_queries, n_pool)`` float64.
    """
    mats = _score_stack(score_mats)
    if (
        isinstance(k, bool)
        or not isinstance(k, (int, float, np.integer, np.floating))
        or not (np.isfinite(k) and k >= 0)
    ):
        raise ValueError(f"k must be a finite number >= 0, got {k!r}")
    fused = np.zeros(mats[0].shape, dtype=np.float64)
    for s in mats:
        fused += 1.0 / (float(k) + row_ranks(s))
    return fused


def zscore_fusion(
    score_mats: Sequence[np.ndarray],
    *,
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """Weighted sum of per-query z-scored score matrices.

    For each matrix ``S_m`` (``(n_queries, n_pool)``) and query row ``q``:
    ``Z_m[q] = (S_m[q] - mean(S_m[q])) / std(S_m[q])`` (population std over the
    pool); a row whose std is 0 (or below 1e-12 x its largest absolute score,
    i.e. constant up to round-off) becomes all zeros.  Result
    ``sum_m w_m Z_m`` with ``w = weights / sum(weights)`` (default equal).
    Invariant to ``a * S_m + b`` (``a > 0``) of any input.  Weights must be
    finite, ``>= 0``, one per matrix, with a positive sum.  Returns float64.
    """
    mats = _score_stack(score_mats)
    if weights is None:
        w = np.full(len(mats), 1.0 / len(mats))
    else:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != (len(mats),):
            raise ValueError(f"weights must have shape ({len(mats)},) (one per matrix), got {w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"weights must be finite, >= 0 and not all zero, got {w.tolist()}")
        w = w / w.sum()
    fused = np.zeros(mats[0].shape, dtype=np.float64)
    for wm, s in zip(w, mats):
        s = s.astype(np.float64)
        mu = s.mean(axis=1, keepdims=True)
        sd = s.std(axis=1, keepdims=True)
        flat = sd <= 1e-12 * np.abs(s).max(axis=1, keepdims=True)
        z = np.divide(s - mu, sd, out=np.zeros_like(s), where=~flat)
        fused += wm * z
    return fused
