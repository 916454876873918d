"""Strategies as values: what to change (scoring, post-processing, input field, fusion, encoders), parsed from names."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from xlr.data.records import Corpus
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import (
    EvalSpec,
    model_label,
)
from xlr.retrieval.scoring import SCORING_METHODS, ScoringSpec
from xlr.strategies.fusion import FusionSpec

__all__ = ["POST_STEPS", "Strategy", "default_strategies", "strategies_for"]

POST_STEPS = ("center", "procrustes")


_SCORING_TOKEN = re.compile(r"^(cosine|csls|margin-ratio|margin-distance)(?::(\d+)|\(k=(\d+)\))?$")


_RRF_TOKEN = re.compile(r"^(rrf|rrf-z)(?::([0-9.]+)|\(k=([0-9.]+)\))?$")


@dataclass(frozen=True)
class Strategy:
    """One retrieval method; the default instance is the baseline (cosine, text, one encoder).

    ``encoders``: ``()`` = the run's baseline encoder (for a fusion: every encoder of
    the run); one name = evaluate that encoder instead (e.g. a fine-tuned model);
    several names = the encoders a ``fusion`` combines.  ``post`` steps run in order.
    """

    scoring: ScoringSpec = field(default_factory=ScoringSpec)
    post: tuple[str, ...] = ()
    text_field: str = "text"
    fusion: FusionSpec | None = None
    encoders: tuple[str, ...] = ()
    target_lang: str = "en"

    def __post_init__(self) -> None:
        object.__setattr__(self, "post", tuple(self.post))
        object.__setattr__(self, "encoders", tuple(self.encoders))
        for step in self.post:
            if step not in POST_STEPS:
                raise ValueError(f"unknown post-processing step {step!r}; choose from {', '.join(POST_STEPS)}")
        if len(set(self.post)) != len(self.post):
            raise ValueError(f"post-processing steps repeat: {'+'.join(self.post)}")
        if self.text_field not in ("text", "title+text"):
            raise ValueError(f"text_field must be 'text' or 'title+text', got {self.text_field!r}")
        if self.fusion is None and len(self.encoders) > 1:
            raise ValueError(f"{len(self.encoders)} encoders without a fusion method: choose rrf or zscore")
        if self.fusion is not None and len(self.encoders) == 1:
            raise ValueError("a fusion needs at least two encoders")

    @property
    def fits(self) -> bool:
        """True when the strategy fits statistics on the fit ids (centering, Procrustes)."""
        return bool(self.post)

    @property
    def name(self) -> str:
        """Short label: ``baseline``, ``csls(k=10)``, ``center+procrustes``, ``rrf(k=60)``, ``st:/m``."""
        parts = [self.encoders[0]] if self.encoders and self.fusion is None else []
        parts += [self.scoring.label] if self.scoring.method != "cosine" else []
        parts += [self.text_field] if self.text_field != "text" else []
        parts += list(self.post) + ([self.fusion.label] if self.fusion else [])
        return "+".join(parts) or "baseline"

    def label(self, baseline_encoder: str, encoders: Sequence[str] = ()) -> str:
        """The model name of the result rows (via :func:`xlr.retrieval.evaluate.model_label`)."""
        names = tuple(self.encoders) or (tuple(encoders) if self.fusion else (baseline_encoder,))
        extra = list(self.post) + ([self.fusion.label] if self.fusion else [])
        # model_label reads only the scoring and the text field of the spec
        spec = EvalSpec(
            (Direction("query", "pool"),),
            scoring=self.scoring,
            text_field=self.text_field,
        )
        return model_label("|".join(names), spec, "+".join(extra) or None)

    @classmethod
    def parse(cls, text: str, *, scoring_k: int = 10, target_lang: str = "en") -> Strategy:
        """Read ``"baseline"`` or ``+``-joined tokens, e.g. ``"center+csls"``, ``"rrf"``, ``"title+text"``.

        Tokens: ``cosine|csls|margin-ratio|margin-distance`` (optionally ``csls:5`` or
        ``csls(k=5)``; default k = ``scoring_k``), ``center``, ``procrustes``,
        ``title+text`` (or ``title``), ``rrf`` (``rrf:60``), ``rrf-z`` (ties broken by z-score), ``zscore``.
        """
        t = text.strip().replace("title+text", "title")
        if t == "baseline":
            return cls(target_lang=target_lang)
        scoring, post, field_, fusion = None, [], "text", None
        for token in t.split("+"):
            token = token.strip()
            m, r = _SCORING_TOKEN.match(token), _RRF_TOKEN.match(token)
            if m:
                if scoring is not None:
                    raise ValueError(f"strategy {text!r}: more than one scoring rule")
                scoring = ScoringSpec(m.group(1), int(m.group(2) or m.group(3) or scoring_k))
            elif token in POST_STEPS:
                post.append(token)
            elif token == "title":
                field_ = "title+text"
            elif r or token == "zscore":
                if fusion is not None:
                    raise ValueError(f"strategy {text!r}: more than one fusion method")
                fusion = (
                    FusionSpec(r.group(1), float(r.group(2) or r.group(3) or 60))
                    if r is not None
                    else FusionSpec("zscore")
                )
            else:
                raise ValueError(
                    f"strategy {text!r}: unknown part {token!r}; use baseline or +-joined parts of "
                    f"{', '.join(SCORING_METHODS)}, {', '.join(POST_STEPS)}, title+text, rrf, rrf-z, "
                    "zscore"
                )
        return cls(
            scoring or ScoringSpec("cosine", scoring_k),
            tuple(post),
            field_,
            fusion,
            target_lang=target_lang,
        )


def default_strategies(
    corpus: Corpus, models: Sequence[str], scoring_k: int = 10, target_lang: str = "en"
) -> list[Strategy]:
    """Every applicable strategy, in this order: the three CSLS/margin rules, ``center``,
    ``center+csls``, ``procrustes`` and ``center+procrustes`` (when the corpus has
    ``target_lang``), ``title+text`` (when some document has a title), and with several
    models each extra model alone, ``rrf``, ``rrf-z`` and ``zscore`` over all of them."""
    names = ["csls", "margin-ratio", "margin-distance", "center", "center+csls"]
    if target_lang in corpus.languages:
        names += ["procrustes", "center+procrustes"]
    if any(d.title for d in corpus.documents):
        names.append("title+text")
    out = [Strategy.parse(n, scoring_k=scoring_k, target_lang=target_lang) for n in names]
    if len(models) > 1:
        out += [Strategy(encoders=(m,)) for m in models[1:]]
        out += [Strategy(fusion=FusionSpec(f), encoders=tuple(models)) for f in ("rrf", "rrf-z", "zscore")]
    return out


def strategies_for(
    corpus: Corpus,
    models: Sequence[str],
    names: str | None = None,
    *,
    candidates: Sequence[str] = (),
    scoring_k: int = 10,
    target_lang: str = "en",
) -> list[Strategy]:
    """The strategies a run compares with its baseline: the comma-separated ``names`` (a fusion among
    them fuses every model), else :func:`default_strategies`; then each of ``candidates`` (another
    encoder as a strategy) not already among ``models``."""
    models = list(dict.fromkeys(models))
    if names:
        parsed = [
            Strategy.parse(s, scoring_k=scoring_k, target_lang=target_lang) for s in names.split(",") if s.strip()
        ]
        out = [
            Strategy(s.scoring, s.post, s.text_field, s.fusion, tuple(models), s.target_lang) if s.fusion else s
            for s in parsed
        ]
    else:
        out = default_strategies(corpus, models, scoring_k, target_lang)
    return out + [Strategy(encoders=(c,)) for c in dict.fromkeys(candidates) if c not in models]
