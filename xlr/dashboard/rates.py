"""Encoding rates per encoder and text-length bucket: what an estimate of "how long" rests on.

No streamlit here. A rate measured on XQuAD paragraphs says nothing of Tatoeba sentences (issue 19:
"about 11506 s at 0 texts/s" for a 200 s job), so rates are kept per encoder key (name, device,
precision) and per **length bucket** of the texts (characters: ≤ 80, ≤ 300, ≤ 1200, longer). Every
finished encoding adds its texts and seconds to its bucket (the rate is their ratio, so it is refined
as jobs run); the book is a small JSON file next to the embedding cache, so it survives restarts.

A job of mixed lengths adds to each bucket it holds: its texts there and a share of its seconds in
proportion to their characters (booked whole to its majority bucket, Tatoeba's few sentences over 80
characters never got a rate and every larger estimate stayed unknown: ``bench/strategies_estimate.py``).

A dashboard job encodes in a fresh child process (one per role it encodes), whose start-up (interpreter,
imports, model load) and the job's read-back of the vectors after it hardly depend on the number of
texts: they are booked apart (:data:`STARTUP`), and an estimate adds them once per process the job will
start. Booked as encoding time, the first visit's small jobs (50 texts a role) measured half the rate of
a long job and the Strategies estimate was 2.3 times the measured time (``bench/strategies_estimate.py``).

An estimate for texts in a bucket never measured for that encoder is ``None``: shown as "unknown",
never as "0 texts/s"; except that up to :data:`BORROW` of the texts may take the rate of the nearest
measured bucket (the longer one on a tie), which the estimate's sentence says.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from xlr.atomic import atomic_write_text

__all__ = ["BORROW", "BUCKETS", "STARTUP", "Estimate", "RateBook", "bucket", "duration_text", "rate_text"]

BUCKETS = (80, 300, 1200)
"""Upper bounds (characters) of the length buckets; longer texts form the last bucket."""
_NAMES = ("short sentences", "sentences", "paragraphs", "long texts")
STARTUP = "process start-up"
"""The book's entry ``[starts, seconds]`` of an encoder's encoding processes (not a length bucket)."""
BORROW = 0.1
"""The largest share of an estimate's texts that may be priced at a neighbouring bucket's rate."""


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
    borrowed: tuple[tuple[str, str], ...] = ()
    """``(bucket, bucket whose rate it took)`` for the few texts of an unmeasured length (:data:`BORROW`)."""

    def sentence(self) -> str:
        """``e5-small: 380 texts, about 20 s`` or ``…, time unknown (no rate measured yet on paragraphs)``;
        ``… (sentences at the rate of short sentences)`` where a few texts borrowed a rate."""
        head = f"{self.encoder}: {self.texts} text{'s' if self.texts != 1 else ''} to encode"
        if self.texts == 0:
            return f"{self.encoder}: nothing to encode (cached)"
        if self.seconds is None:
            return f"{head}, time unknown (no rate measured yet on {', '.join(self.unmeasured)})"
        lent = "; ".join(f"{b} at the rate of {m}" for b, m in self.borrowed)
        return f"{head}, {duration_text(self.seconds)}" + (f" ({lent})" if lent else "")


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

    def record(self, encoder: str, texts: Sequence[str], seconds: float, startup: float | None = None) -> None:
        """Add an encoding of ``texts`` that took ``seconds``: each bucket gets its texts and the share of
        ``seconds`` its characters make of all the texts' characters. ``startup``: the job's seconds around that
        encoding (its process's start-up, the read-back; not in ``seconds``), booked under :data:`STARTUP`."""
        if not texts or seconds <= 0:
            return
        if startup is not None and startup >= 0:
            with self._lock:
                cell = self._data.setdefault(encoder, {}).setdefault(STARTUP, [0.0, 0.0])
                cell[0] += 1
                cell[1] += float(startup)
        counts, chars = Counter[str](), Counter[str]()
        for t in texts:
            counts[bucket(t)] += 1
            chars[bucket(t)] += max(len(t), 1)
        whole = sum(chars.values())
        with self._lock:
            for b, n in counts.items():
                cell = self._data.setdefault(encoder, {}).setdefault(b, [0.0, 0.0])
                cell[0] += n
                cell[1] += float(seconds) * chars[b] / whole
            try:
                atomic_write_text(self.path, json.dumps(self._data, indent=1, sort_keys=True))
            except OSError:
                pass  # a read-only cache: the rate still serves this process

    def rate(self, encoder: str, bucket_name: str) -> float | None:
        """Texts per second of ``encoder`` on ``bucket_name`` texts, ``None`` if never measured."""
        with self._lock:
            cell = self._data.get(encoder, {}).get(bucket_name)
        return cell[0] / cell[1] if cell and cell[0] > 0 and cell[1] > 0 else None

    def startup(self, encoder: str) -> float:
        """Mean seconds an encoding process of ``encoder`` took around its encoding (0 if never measured)."""
        with self._lock:
            cell = self._data.get(encoder, {}).get(STARTUP)
        return cell[1] / cell[0] if cell and cell[0] > 0 else 0.0

    def estimate(self, encoder: str, texts: Sequence[str], starts: int = 0) -> Estimate:
        """Expected seconds to encode ``texts`` with ``encoder``: each bucket at its own rate, plus ``starts``
        times the encoder's mean process start-up (:meth:`startup`)."""
        counts = Counter(bucket(t) for t in texts)
        rates = {b: self.rate(encoder, b) for b in _NAMES}
        measured = [b for b in _NAMES if rates[b] is not None]
        unmeasured = sorted(b for b in counts if rates[b] is None)
        borrowed: list[tuple[str, str]] = []
        if unmeasured and measured and sum(counts[b] for b in unmeasured) <= BORROW * len(texts):
            for b in unmeasured:  # the nearest measured bucket; the longer (slower) one on a tie
                near = min(measured, key=lambda m: (abs(_NAMES.index(m) - _NAMES.index(b)), -_NAMES.index(m)))
                rates[b] = rates[near]
                borrowed.append((b, near))
            unmeasured = []
        if unmeasured:
            return Estimate(encoder, len(texts), None, tuple(unmeasured))
        total = starts * self.startup(encoder) + sum(n / r for b, n in counts.items() if (r := rates[b]))
        return Estimate(encoder, len(texts), total, (), tuple(borrowed))
