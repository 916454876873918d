"""Building an encoder from a name: :func:`load_encoder`.

A name is a catalogue name (``e5-small``, ``labse`` ... see :mod:`xlr.encoders.catalogue`),
``st:<hub id or local path>`` (any sentence-transformers model; a catalogued hub id gets its
card's prefixes and pinned revision) or ``openai:<model>`` (an OpenAI-compatible endpoint).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from xlr.encoders.base import Encoder, EncoderUnavailable
from xlr.encoders.catalogue import CATALOGUE, short_names, st_card

if TYPE_CHECKING:
    from xlr.encoders.api import ApiSettings

__all__ = ["load_encoder"]


def load_encoder(name: str, *, api: ApiSettings | None = None) -> Encoder:
    """Build the encoder called ``name``: a catalogue name, ``st:<hub id or path>`` or ``openai:<model>``.

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
        if not name[3:].strip():
            raise EncoderUnavailable("'st:' needs a hub id or a local path, e.g. st:sentence-transformers/LaBSE")
        return st_card(name).load()
    c = CATALOGUE.get(name)
    if c is None or not c.runnable:
        raise EncoderUnavailable(
            f"unknown encoder {name!r}; known: {', '.join(short_names())}, st:<hub id or local path> "
            "or openai:<model> (any OpenAI-compatible embeddings endpoint)"
        )
    return c.load()
