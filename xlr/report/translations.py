"""translate-test's translations read back from the chat generation cache (nothing is sent).

A translation is found again by rendering the query's :data:`~xlr.strategies.generative.TRANSLATE`
prompt (:func:`~xlr.strategies.generative.translate_fields`) and looking its input hash up in a
cache scope of that template (:func:`xlr.encoders.chat_cache.cached_scopes`: one per endpoint,
chat model and parameters), so the Failed queries page and ``xlr strategies --translations-out``
show exactly what translate-test retrieved with, for any query the chat model has translated,
whichever run asked for it.

A :class:`Translation`'s ``translation`` is the cleaned answer
(:func:`~xlr.strategies.generative.clean_answer`, capped at the scope's ``max_chars``); an empty one
means the model answered nothing and translate-test retrieved with the original text.  Translations
are plain text: callers show them literally, never as Markdown or HTML.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from xlr.data.records import Corpus
from xlr.encoders.chat_cache import CachedScope, cached_scopes, input_hash
from xlr.report.sanitize import csv_safe
from xlr.retrieval.directions import Direction
from xlr.strategies.generative import TRANSLATE, clean_answer, translate_fields

__all__ = [
    "TRANSLATION_COLUMNS",
    "Translation",
    "direction_translations",
    "translation_scopes",
    "translations_csv",
    "translations_jsonl",
]

TRANSLATION_COLUMNS = ("id", "source_lang", "target_lang", "original", "translation", "model", "template_hash")


@dataclass(frozen=True)
class Translation:
    """One query's translation: its id, languages, original text, the cleaned answer, the chat model
    (``chat:<model>``) and the prompt template's hash."""

    id: str
    source_lang: str
    target_lang: str
    original: str
    translation: str
    model: str
    template_hash: str


def translation_scopes(cache_root: Path) -> list[CachedScope]:
    """The cache scopes holding translate-test answers of the current template, newest first."""
    return cached_scopes(cache_root, TRANSLATE.name, TRANSLATE.hash)


def _max_chars(scope: CachedScope) -> int:
    v = scope.scope.get("max_chars")
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 1 else 400


def direction_translations(
    corpus: Corpus, direction: Direction, scope: CachedScope, ids: Iterable[str] | None = None
) -> list[Translation]:
    """The translations ``scope`` holds for the queries of ``direction`` (its linked ids, or ``ids``), in id order.

    A query whose prompt ``scope`` never answered is left out (it was not translated by that model).
    """
    linked = corpus.linked_ids(direction.source, direction.target)
    if ids is not None:
        wanted = set(ids)
        linked = tuple(i for i in linked if i in wanted)
    model = f"chat:{scope.scope.get('model')}"
    out = []
    for i in linked:
        doc = corpus.documents[corpus.index(i, direction.source)]
        system, user = TRANSLATE.render(translate_fields(doc, direction))
        raw = scope.answers.get(input_hash(system, user))
        if raw is None:
            continue
        text = clean_answer(raw, max_chars=_max_chars(scope), one_line=False)
        out.append(Translation(i, direction.source, direction.target, doc.text, text, model, TRANSLATE.hash))
    return out


def translations_csv(rows: Sequence[Translation]) -> str:
    """CSV with :data:`TRANSLATION_COLUMNS`, spreadsheet-safe (:func:`xlr.report.sanitize.csv_safe`)."""
    frame = pd.DataFrame([asdict(r) for r in rows], columns=list(TRANSLATION_COLUMNS))
    text: str = csv_safe(frame).to_csv(index=False)
    return text


def translations_jsonl(rows: Sequence[Translation]) -> str:
    """One JSON object per line with :data:`TRANSLATION_COLUMNS` as keys (UTF-8 text kept as it is)."""
    return "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in rows)
