"""The Overview's many-language view settings, pure (no streamlit): read from and written to the URL.

The Overview shows a language x language matrix instead of the per-direction table beyond
:data:`MATRIX_ABOVE` directions.  Every setting of that view (view, encoder, the difference
pair, the language order, the filters, the table page and its search) lives in
:class:`OverviewView`, which round-trips through query parameters prefixed ``ov_`` (so they
never collide with another page's ``q``/``langs``).  Values the data does not have are dropped
when read, never an error: a link from another corpus opens on the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from xlr.data.languages import describe
from xlr.encoders.catalogue import unsupported
from xlr.report.marginals import LanguageFilter

__all__ = [
    "MATRIX_ABOVE",
    "ORDERS",
    "PAGE_SIZE",
    "VIEWS",
    "VIEW_PARAMS",
    "OverviewView",
    "family_of",
    "find_rows",
    "group_of",
    "page_of",
    "script_of",
    "supported_by_all",
    "view_from_params",
    "view_params",
]

MATRIX_ABOVE = 20
"""More directions than this open as the matrix (a table of 20 rows still fits two screens)."""
VIEWS = ("table", "matrix")
ORDERS = {"script": "script (writing system)", "family": "language family", "code": "code"}
"""Language orders of the matrix: grouped by script or family (then by code), or by code alone."""
PAGE_SIZE = 50
"""Rows per page of the per-direction table in the matrix view."""
VIEW_PARAMS = (
    "ov_view",
    "ov_model",
    "ov_base",
    "ov_cand",
    "ov_order",
    "ov_langs",
    "ov_scripts",
    "ov_families",
    "ov_supported",
    "ov_page",
    "ov_find",
)


@dataclass(frozen=True)
class OverviewView:
    """One Overview view: ``view`` ``"table"``/``"matrix"``; ``model`` the matrix's encoder; ``baseline``
    and ``candidate`` the difference matrix's pair (``""``: none); ``order`` a key of :data:`ORDERS`;
    ``filter`` the shown languages; ``page`` (1-based) and ``find`` of the per-direction table."""

    view: str
    model: str
    baseline: str = ""
    candidate: str = ""
    order: str = "script"
    filter: LanguageFilter = field(default_factory=LanguageFilter)
    page: int = 1
    find: str = ""


def _split(value: str | None, allowed: Sequence[str]) -> tuple[str, ...]:
    if not value:
        return ()
    keep = set(allowed)
    return tuple(dict.fromkeys(v for v in (x.strip() for x in value.split(",")) if v in keep))


def view_from_params(
    params: Mapping[str, str],
    models: Sequence[str],
    languages: Sequence[str],
    n_directions: int,
) -> OverviewView:
    """The view a URL asks for, with the defaults for what it leaves out or the data lacks.

    Defaults: the matrix beyond :data:`MATRIX_ABOVE` directions, else the table; the first
    encoder; difference of the first two encoders (none with one); languages ordered by script;
    no filter; page 1.
    """
    get = params.get
    view = get("ov_view") if get("ov_view") in VIEWS else ("matrix" if n_directions > MATRIX_ABOVE else "table")
    model = get("ov_model") if get("ov_model") in models else (models[0] if models else "")
    base = get("ov_base") if get("ov_base") in models else (models[0] if len(models) > 1 else "")
    cand = get("ov_cand") if get("ov_cand") in models else (models[1] if len(models) > 1 else "")
    if base == cand:
        base, cand = ("", "") if len(models) < 2 else (base, next(m for m in models if m != base))
    scripts = sorted({script_of(c) for c in languages})
    families = sorted({family_of(c) for c in languages})
    filt = LanguageFilter(
        languages=_split(get("ov_langs"), languages),
        scripts=_split(get("ov_scripts"), scripts),
        families=_split(get("ov_families"), families),
        supported_only=get("ov_supported") == "1",
    )
    page = get("ov_page") or ""
    return OverviewView(
        view=str(view),
        model=str(model),
        baseline=str(base),
        candidate=str(cand),
        order=str(get("ov_order")) if get("ov_order") in ORDERS else "script",
        filter=filt,
        page=int(page) if page.isdigit() and 0 < int(page) < 10**6 else 1,
        find=(get("ov_find") or "")[:200],
    )


def view_params(view: OverviewView) -> dict[str, str]:
    """Query parameters of ``view`` (only the set ones besides view/model/order; read back by
    :func:`view_from_params`)."""
    out = {"ov_view": view.view, "ov_model": view.model, "ov_order": view.order}
    f = view.filter
    extra = {
        "ov_base": view.baseline,
        "ov_cand": view.candidate,
        "ov_langs": ",".join(f.languages),
        "ov_scripts": ",".join(f.scripts),
        "ov_families": ",".join(f.families),
        "ov_supported": "1" if f.supported_only else "",
        "ov_page": str(view.page) if view.page != 1 else "",
        "ov_find": view.find,
    }
    return out | {k: v for k, v in extra.items() if v}


def group_of(order: str) -> Callable[[str], str] | None:
    """The grouping function of a language order: script or family from :func:`xlr.data.languages.describe`."""
    return {"script": script_of, "family": family_of}.get(order)


def script_of(code: str) -> str:
    """The ISO 15924 script of a code (``"unknown"`` when the tables do not know it)."""
    return describe(code).script or "unknown"


def family_of(code: str) -> str:
    """The top-level family of a code (``"unknown"`` outside the table)."""
    return describe(code).family


def supported_by_all(models: Sequence[str]) -> Callable[[str], bool]:
    """``code -> True`` when no chosen encoder's model card lacks the language."""
    return lambda code: not any(unsupported(m, (code,)) for m in models)


def find_rows(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose ``model`` or ``direction`` contains ``text`` (case-insensitive, literal); all for ``""``."""
    needle = text.strip().lower()
    if not needle:
        return frame
    hay = frame["model"].astype(str).str.lower() + " " + frame["direction"].astype(str).str.lower()
    return frame[hay.str.contains(needle, regex=False)]


def page_of(frame: pd.DataFrame, page: int, size: int = PAGE_SIZE) -> tuple[pd.DataFrame, int, int]:
    """``(rows of page, page clipped to [1, n_pages], n_pages)``; an empty frame has one empty page."""
    n_pages = max(1, -(-len(frame) // size))
    page = min(max(1, page), n_pages)
    return frame.iloc[(page - 1) * size : page * size], page, n_pages
