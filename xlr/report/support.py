"""Languages an encoder was not trained on, per evaluated direction (from the model cards).

A direction whose source or target language is missing from the encoder's card
(:func:`xlr.encoders.catalogue.unsupported`) is still scored, but flagged: in the CLI
table (column ``unsupported``), in the manifest (``unsupported_languages``) and in the
dashboard, so that a low figure reads as "not trained on it", not as a weak model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from xlr.encoders.api import OpenAIEncoder
from xlr.encoders.base import Encoder
from xlr.encoders.catalogue import unsupported
from xlr.retrieval.directions import Direction

__all__ = ["flag_table", "run_facts", "unsupported_map", "unsupported_notes"]


def unsupported_map(names: Sequence[str], directions: Sequence[Direction]) -> dict[str, dict[str, list[str]]]:
    """``{encoder name: {direction label: [languages not on its card]}}``, only non-empty entries."""
    out: dict[str, dict[str, list[str]]] = {}
    for name in names:
        per = {d.label: list(unsupported(name, (d.source, d.target))) for d in directions}
        per = {k: v for k, v in per.items() if v}
        if per:
            out[name] = per
    return out


def flag_table(wide: pd.DataFrame, labels: dict[str, str], flags: dict[str, dict[str, list[str]]]) -> pd.DataFrame:
    """``wide`` (model x direction rows) with an ``unsupported`` column: the languages the card lacks, or ``""``.

    ``labels`` maps a table ``model`` label (``use-m3+csls(k=10)``) to its encoder name (``use-m3``).
    """
    if wide.empty:
        return wide
    col = [
        ",".join(flags.get(labels.get(m, m), {}).get(d, []))
        for m, d in zip(wide["model"], wide["direction"], strict=True)
    ]
    return wide.assign(unsupported=col)


def unsupported_notes(flags: dict[str, dict[str, list[str]]]) -> list[str]:
    """One line per encoder listing languages, not directions:
    ``use-m3 was not trained on amh, swa (model card): 74 directions with them are scored but unsupported``."""
    notes = []
    for name, per in flags.items():
        langs = sorted({lang for v in per.values() for lang in v})
        n = len(per)
        notes.append(
            f"{name} was not trained on {', '.join(langs)} (model card): {n} direction{'s' if n != 1 else ''} "
            f"with {'it' if len(langs) == 1 else 'them'} {'is' if n == 1 else 'are'} scored but unsupported"
        )
    return notes


def run_facts(
    encoders: Sequence[Encoder],
    directions: Sequence[Direction],
    *,
    engine: str = "local",
    ray_address: str | None = None,
) -> dict[str, Any]:
    """Manifest entries of an evaluation run: the engine, languages the cards lack, API usage."""
    return {
        "engine": {"name": engine} | ({"ray_address": ray_address} if ray_address else {}),
        "unsupported_languages": unsupported_map([e.identity.name for e in encoders], directions),
        "api_usage": {
            e.identity.name: {"requests": e.requests, "tokens_reported": e.usage_tokens}
            for e in encoders
            if isinstance(e, OpenAIEncoder)
        },
    }
