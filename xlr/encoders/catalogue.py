"""Model cards: what each encoder people compare was trained on and what it scored.

One :class:`ModelCard` per model, keyed by the hub id (``model``) and reachable from a
registry name through :func:`card`.  Facts come from the model cards on the hub and,
for ``published``, from MTEB's results repository (Tatoeba test split, accuracy of
``X->eng`` nearest-neighbour search, which equals recall@1 with English as the pool).

``languages`` is ``None`` when the card lists too many languages to enumerate
usefully (then every language counts as supported); otherwise it is the tuple of
ISO 639-1 codes the model was trained on, and :func:`unsupported` names the
languages of a direction outside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["CATALOGUE", "MTEB_SOURCE", "ModelCard", "card", "unsupported"]

MTEB_SOURCE = "MTEB results repository (embeddings-benchmark/results), Tatoeba test split, X->eng accuracy"


@dataclass(frozen=True)
class ModelCard:
    """Facts from a model's card; ``published`` maps ``"<lang>-en"`` to Tatoeba accuracy."""

    model: str
    languages: tuple[str, ...] | None
    dim: int
    max_tokens: int
    query_prefix: str = ""
    document_prefix: str = ""
    licence: str = ""
    size: str = ""
    published: Mapping[str, float] = field(default_factory=dict)
    source: str = ""


_USEM3_LANGS = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")

CATALOGUE: dict[str, ModelCard] = {
    c.model: c
    for c in (
        ModelCard(
            "intfloat/multilingual-e5-small",
            None,
            384,
            512,
            query_prefix="query: ",
            document_prefix="passage: ",
            licence="MIT",
            size="118M parameters",
            published={"ar-en": 0.799, "zh-en": 0.921, "de-en": 0.979, "el-en": 0.896, "fr-en": 0.924},
            source=MTEB_SOURCE,
        ),
        ModelCard(
            "sentence-transformers/LaBSE",
            None,
            768,
            256,
            licence="Apache-2.0",
            size="471M parameters",
            published={"ar-en": 0.911, "zh-en": 0.963, "de-en": 0.994, "el-en": 0.965, "fr-en": 0.960},
            source=MTEB_SOURCE,
        ),
        ModelCard(
            "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
            None,
            384,
            128,
            licence="Apache-2.0",
            size="118M parameters",
            published={"ar-en": 0.906, "zh-en": 0.961, "de-en": 0.977, "el-en": 0.965, "fr-en": 0.935},
            source=MTEB_SOURCE,
        ),
        ModelCard(
            "sentence-transformers/distiluse-base-multilingual-cased-v2",
            None,
            512,
            128,
            licence="Apache-2.0",
            size="135M parameters",
        ),
        ModelCard(
            "sentence-transformers/all-MiniLM-L6-v2",
            ("en",),
            384,
            256,
            licence="Apache-2.0",
            size="22.7M parameters",
            published={"ar-en": 0.003, "zh-en": 0.027, "de-en": 0.086, "el-en": 0.003, "fr-en": 0.086},
            source=MTEB_SOURCE,
        ),
        ModelCard(
            "google/universal-sentence-encoder-multilingual/3",
            _USEM3_LANGS,
            512,
            128,
            licence="Apache-2.0",
            size="68.9M parameters",
        ),
    )
}

# registry names -> hub ids (the bundled encoders are packaged copies of these models)
_ALIASES = {
    "e5-small": "intfloat/multilingual-e5-small",
    "e5-small-asym": "intfloat/multilingual-e5-small",
    "labse": "sentence-transformers/LaBSE",
    "distiluse-v2": "sentence-transformers/distiluse-base-multilingual-cased-v2",
    "minilm-en": "sentence-transformers/all-MiniLM-L6-v2",
    "use-m3": "google/universal-sentence-encoder-multilingual/3",
}


def card(name: str) -> ModelCard | None:
    """The card of a registry name, an ``st:<hub id>`` or a hub id; ``None`` when unknown."""
    key = name[3:] if name.startswith("st:") else name
    return CATALOGUE.get(_ALIASES.get(key, key))


def unsupported(name: str, languages: Iterable[str]) -> tuple[str, ...]:
    """The languages among ``languages`` that the model's card does not list (sorted, unique).

    Unknown models and cards with ``languages=None`` support everything: ``()``.
    """
    c = card(name)
    if c is None or c.languages is None:
        return ()
    return tuple(sorted({lang for lang in languages if lang not in c.languages}))
