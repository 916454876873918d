"""The Failed queries page's translations: translate-test's answers, read from the chat generation cache.

This page never sends a request: :func:`pick_translations` lists the cache scopes (chat model,
endpoint, parameters) that hold translations of the direction's queries
(:mod:`xlr.report.translations`), lets the visitor choose one, and returns its translations by id;
when there is none it says to run translate-test on the Strategies page.  Translations are shown
as plain text (``st.text``, ``st.dataframe`` cells, :func:`~xlr.dashboard.state.literal`), never as
Markdown; :func:`translation_downloads` offers them all as CSV and JSONL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from xlr.dashboard import url
from xlr.dashboard.state import literal
from xlr.data.records import Corpus
from xlr.report.translations import (
    Translation,
    direction_translations,
    translation_scopes,
    translations_csv,
    translations_jsonl,
)
from xlr.retrieval.directions import Direction

__all__ = ["NOT_YET", "pick_translations", "show_translation", "translation_downloads"]

NOT_YET = (
    "Not translated yet: run translate-test on the Strategies page (this page reads the translations "
    "a chat model already gave and sends no request)."
)


def pick_translations(corpus: Corpus, direction: Direction, cache_root: Path) -> dict[str, Translation]:
    """Query id -> translation of ``direction`` from the chosen cache scope (``{}``, with a caption, when none)."""
    found = {}
    for scope in translation_scopes(cache_root):
        rows = direction_translations(corpus, direction, scope)
        if rows:
            found[scope.folder.name] = (scope.label, rows)
    if not found:
        st.caption(literal(f"{direction.label}: {NOT_YET}"))
        return {}
    url.from_url("tr", "fq.translations", url.parse_choice(list(found)))
    if st.session_state.get("fq.translations") not in found:  # another direction's scope
        st.session_state.pop("fq.translations", None)
    pick = st.selectbox(
        "Translations (translate-test) from",
        list(found),
        format_func=lambda k: f"{found[k][0]}: {len(found[k][1])} queries",
        key="fq.translations",
        help="Chat models and settings whose translations of this direction are cached, newest first.",
    )
    url.url_params(tr=("fq.translations", pick, next(iter(found))))
    return {r.id: r for r in found[str(pick)][1]}


def translation_downloads(where: Any, translations: Mapping[str, Translation], direction: Direction) -> None:
    """Two download buttons in ``where`` (a column): every translation of the direction as CSV and as JSONL."""
    rows: Sequence[Translation] = list(translations.values())
    stem = f"translations-{direction.source}-{direction.target}"
    left, right = where.columns(2)
    left.download_button(
        "Download translations (CSV)",
        translations_csv(rows),
        file_name=f"{stem}.csv",
        mime="text/csv",
        key="fq.tr_csv",
        on_click="ignore",
    )
    right.download_button(
        "Download translations (JSONL)",
        translations_jsonl(rows),
        file_name=f"{stem}.jsonl",
        mime="application/jsonl",
        key="fq.tr_jsonl",
        on_click="ignore",
    )


def show_translation(translations: Mapping[str, Translation], query_id: str) -> None:
    """The opened query's translation as plain text, or why there is none."""
    if not translations:
        return
    tr = translations.get(query_id)
    if tr is None:
        st.caption(literal(f"This query was not translated by the chosen chat model. {NOT_YET}"))
        return
    st.markdown(f"**Translation** into {literal(tr.target_lang)} by {literal(tr.model)}")
    if tr.translation.strip():
        st.text(tr.translation)
    else:
        st.caption("The model answered nothing: translate-test retrieved with the original text.")
