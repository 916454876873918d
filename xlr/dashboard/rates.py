"""Encoding rates per encoder and text-length bucket: what an estimate of "how long" rests on.

No streamlit here. A rate measured on XQuAD paragraphs says nothing of Tatoeba sentences (issue 19:
"about 11506 s at 0 texts/s" for a 200 s job), so rates are kept per encoder key (name, device,
precision) and per **length bucket** of the texts (characters: ≤ 80, ≤ 300, ≤ 1200, longer). Every
finished encoding adds its texts and seconds to its bucket (the rate is their ratio, so it is refined
as jobs run); the book is a small JSON file next to the embedding cache, so it survives restarts.

An estimate for texts in a bucket never measured for that encoder is ``None``: shown as "unknown",
never as "0 texts/s".
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xlr.atomic import atomic_write_text

__all__ = ["BUCKETS", "Estimate", "RateBook", "bucket", "duration_text", "rate_text"]

BUCKETS = (80, 300, 1200)
"""Upper bounds (characters) of the length buckets; longer texts form the last bucket."""
_NAMES = ("short sentences", "sentences", "paragraphs", "long texts")


def bucket(text: str) -> str:
    """The length bucket of ``text``: ``short sentences`` (≤ 80 characters) … ``long texts`` (> 1200)."""
    n = len(text)
    return next((name for name, top in zip(_NAMES, BUCKETS) if n <= top), _NAMES[-1])


def rate_text(rate: float | None) -> str:
    """``26 texts/s``, ``0.4 texts/s``; ``rate unknown`` for ``None`` or 0 (never "0 texts/s")."""
    if not rate or rate <= 0:
        return "rate unknown"
    return f"{rate:.0f} texts/s" if rate >= 10 else f"{rate:.1f} texts/s"


def duration_text(seconds: float | None) -> str:
    """``about 40 s``, ``about 3 min``, ``about 1.5 h``; ``unknown`` for ``None``."""
    if seconds is None:
        return "unknown"
    if seconds < 90:
        return f"about {max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


@dataclass(frozen=True)
class Estimate:
    """``texts`` to encode and the expected ``seconds`` (``None``: a bucket never measured for the encoder)."""

    encoder: str
    texts: int
    seconds: float | None
    unmeasured: tuple[str, ...] = ()

    def sentence(self) -> str:
        """``e5-small: 380 texts, about 20 s`` or ``…, time unknown (no rate measured yet on paragraphs)``."""
        head = f"{self.encoder}: {self.texts} text{'s' if self.texts != 1 else ''} to encode"
        if self.texts == 0:
            return f"{self.encoder}: nothing to encode (cached)"
        if self.seconds is None:
            return f"{head}, time unknown (no rate measured yet on {', '.join(self.unmeasured)})"
        return f"{head}, {duration_text(self.seconds)}"


class RateBook:
    """``{encoder key: {bucket: [texts, seconds]}}`` in ``path`` (JSON; rewritten atomically on record)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, list[float]]] = {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(raw, dict):
                self._data = {
                    str(k): {
                        str(b): [float(x) for x in v][:2] for b, v in per.items() if isinstance(v, list) and len(v) >= 2
                    }
                    for k, per in raw.items()
                    if isinstance(per, dict)
                }
        except (OSError, ValueError, TypeError):
            self._data = {}  # no book yet, or an unreadable one: rates are measured again

    def record(self, encoder: str, texts: Sequence[str], seconds: float) -> None:
        """Add an encoding of ``texts`` that took ``seconds`` to the bucket most of them fall in."""
        if not texts or seconds <= 0:
            return
        b = Counter(bucket(t) for t in texts).most_common(1)[0][0]
        with self._lock:
            cell = self._data.setdefault(encoder, {}).setdefault(b, [0.0, 0.0])
            cell[0] += len(texts)
            cell[1] += float(seconds)
            try:
                atomic_write_text(self.path, json.dumps(self._data, indent=1, sort_keys=True))
            except OSError:
                pass  # a read-only cache: the rate still serves this process

    def rate(self, encoder: str, bucket_name: str) -> float | None:
        """Texts per second of ``encoder`` on ``bucket_name`` texts, ``None`` if never measured."""
        with self._lock:
            cell = self._data.get(encoder, {}).get(bucket_name)
        return cell[0] / cell[1] if cell and cell[0] > 0 and cell[1] > 0 else None

    def estimate(self, encoder: str, texts: Sequence[str]) -> Estimate:
        """Expected seconds to encode ``texts`` with ``encoder`` (each bucket at its own rate)."""
        counts = Counter(bucket(t) for t in texts)
        total, unmeasured = 0.0, []
        for b, n in counts.items():
            r = self.rate(encoder, b)
            if r is None:
                unmeasured.append(b)
            else:
                total += n / r
        return Estimate(encoder, len(texts), None if unmeasured else total, tuple(sorted(unmeasured)))
