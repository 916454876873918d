"""Remove repeats from a user's list (directions, models, languages, k values), keeping first appearances."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

__all__ = ["unique"]

T = TypeVar("T", bound=Hashable)


def unique(items: Iterable[T]) -> tuple[tuple[T, ...], tuple[T, ...]]:
    """``(kept, repeated)``: ``kept`` holds each item once in first-appearance order; ``repeated``
    holds each item that appeared more than once, once, in the order of its first repeat.

    ``unique(["de-en", "ar-en", "de-en"])`` -> ``(("de-en", "ar-en"), ("de-en",))``; an empty
    input gives ``((), ())``.
    """
    kept: dict[T, None] = {}
    repeated: dict[T, None] = {}
    for item in items:
        if item in kept:
            repeated.setdefault(item, None)
        else:
            kept[item] = None
    return tuple(kept), tuple(repeated)
