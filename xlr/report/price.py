"""The price of a speed-up, per language: one encoder at two settings, side by side.

A :class:`Setting` is how the encoder runs and how its vectors are stored: backend (torch, onnx,
openvino), weight precision (fp32, fp16, bf16, int8) and vector precision (float32, int8,
ubinary, optionally rescored).  :func:`price_of_speed` evaluates both settings on the same
queries and reports

* per direction: baseline, candidate, ``delta = candidate - baseline`` and the paired test with
  Holm across the directions (:func:`xlr.report.matrix.difference_matrix`);
* per language: the mean delta over the directions with the language as query (and as
  document), the worst such direction and whether it is significant after Holm;
* speed: texts per second of each setting's engine on the same texts, not cached (the load or
  export is done first, outside the clock), and its ratio; not timed when both settings run the
  same engine (only the vectors differ: a ratio would be noise); memory: bytes per stored vector
  and bytes of the weights on disk.

The one sentence (:meth:`PriceReport.sentence`) reads like "onnx int8 costs 0.3 points of
recall@1 on average over 15 directions, but 4.0 in amh->en (significant)" (the largest loss).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from xlr.data.records import Corpus
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.device import BACKEND_PRECISIONS, BACKENDS
from xlr.report.matrix import difference_matrix
from xlr.retrieval.directions import direction_positions
from xlr.retrieval.evaluate import DirectionResult, EvalSpec, evaluate, model_label
from xlr.retrieval.quantized import VECTOR_PRECISIONS, VectorSpec, bytes_per_vector
from xlr.stats.significance import RandomState

__all__ = [
    "MARGINAL_DELTA_COLUMNS",
    "PriceReport",
    "Setting",
    "SpeedFacts",
    "price_of_speed",
    "price_report",
    "setting_facts",
    "speed_table",
    "time_encoders",
    "timing_sample",
]

MARGINAL_DELTA_COLUMNS = ["language", "role", "mean_delta", "n_directions", "worst", "worst_delta", "worst_effect"]


class SettingError(ValueError):
    """A setting that cannot be read (``backend/precision[/vectors[/rescoreN]]``)."""


@dataclass(frozen=True)
class Setting:
    """``backend/precision[/vectors[/rescoreN]]``, e.g. ``torch/fp32``, ``onnx/int8``, ``torch/fp32/ubinary/rescore40``."""

    backend: str = "torch"
    precision: str = "fp32"
    vectors: str = "float32"
    rescore: int = 0

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise SettingError(f"unknown backend {self.backend!r} in a setting; choose {', '.join(BACKENDS)}")
        if self.precision not in BACKEND_PRECISIONS[self.backend]:
            allowed = "/".join(BACKEND_PRECISIONS[self.backend])
            raise SettingError(f"backend {self.backend} runs {allowed} weights, not {self.precision!r}")
        VectorSpec(self.vectors, self.rescore)  # checks vectors and rescore

    @classmethod
    def parse(cls, text: str) -> Setting:
        parts = [p.strip().lower() for p in text.split("/")]
        if not 2 <= len(parts) <= 4 or not all(parts):
            raise SettingError(
                f"setting {text!r}: expected backend/precision[/vectors[/rescoreN]], e.g. onnx/int8 or "
                f"torch/fp32/ubinary (vectors: {', '.join(VECTOR_PRECISIONS)})"
            )
        rescore = 0
        if len(parts) == 4:
            tail = parts[3].removeprefix("rescore")
            if not tail.isdigit():
                raise SettingError(f"setting {text!r}: the fourth part must be rescoreN, e.g. rescore40")
            rescore = int(tail)
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "float32", rescore)

    @property
    def label(self) -> str:
        vec = VectorSpec(self.vectors, self.rescore).label
        return " ".join(x for x in (self.backend, self.precision, vec) if x)

    @property
    def vector_spec(self) -> VectorSpec:
        return VectorSpec(self.vectors, self.rescore)


@dataclass(frozen=True)
class SpeedFacts:
    """One setting's engine speed on ``texts`` uncached texts and its memory."""

    setting: str
    texts: int
    seconds: float
    bytes_per_vector: int
    weights_bytes: int | None

    @property
    def texts_per_second(self) -> float:
        """``nan`` when not measured (``texts == 0``: memory only, see :func:`setting_facts`)."""
        if self.texts == 0:
            return float("nan")
        return self.texts / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class PriceReport:
    """See the module docstring; ``directions`` has :data:`~xlr.report.matrix.DIFFERENCE_COLUMNS`."""

    baseline: str
    candidate: str
    metric: str
    directions: pd.DataFrame
    marginals: pd.DataFrame
    speed: tuple[SpeedFacts, SpeedFacts]
    results: tuple[DirectionResult, ...]

    @property
    def speed_ratio(self) -> float:
        """Candidate texts/s over baseline texts/s (> 1: the candidate is faster; ``nan``: not measured)."""
        return self.speed[1].texts_per_second / self.speed[0].texts_per_second

    def sentence(self) -> str:
        d = self.directions
        mean = float(d["delta"].mean()) * 100
        verb = "costs" if mean <= 0 else "gains"
        out = f"{self.candidate} {verb} {abs(mean):.1f} points of {self.metric} on average over {len(d)} directions"
        worst = d.loc[d["delta"].idxmin()]
        if float(worst["delta"]) < 0:
            sig = "significant" if worst["effect"] == "degraded" else "not significant"
            where = f"{worst['source']}->{worst['target']}"
            loses = "" if mean <= 0 else "loses "  # after "gains X on average", a bare "but Y" reads as a gain
            out += f", but {loses}{abs(float(worst['delta'])) * 100:.1f} in {where} ({sig})"
        degraded = int((d["effect"] == "degraded").sum())
        out += f"; {degraded} direction{'s' if degraded != 1 else ''} significantly worse after Holm"
        if self.speed_ratio != self.speed_ratio:  # nan: speed not measured
            return out
        return out + f"; {self.speed_ratio:.2f}x the speed of {self.baseline}"


def marginal_deltas(directions: pd.DataFrame) -> pd.DataFrame:
    """Per language and role: mean delta over its directions, the worst one and its effect."""
    rows = []
    for role, side in (("query", "source"), ("document", "target")):
        for lang, group in directions.groupby(side, sort=True):
            worst = group.loc[group["delta"].idxmin()]
            rows.append(
                {
                    "language": lang,
                    "role": role,
                    "mean_delta": float(group["delta"].mean()),
                    "n_directions": len(group),
                    "worst": f"{worst['source']}->{worst['target']}",
                    "worst_delta": float(worst["delta"]),
                    "worst_effect": str(worst["effect"]),
                }
            )
    return pd.DataFrame(rows, columns=MARGINAL_DELTA_COLUMNS)


def _weights_bytes(encoder: Encoder) -> int | None:
    """Bytes on disk of what the engine runs: the exported model (``None`` before it is exported, even if
    this process has not loaded it), else the folder's weight files."""
    export = getattr(encoder, "export_dir", None) or getattr(encoder, "export_target", None)
    if isinstance(export, Path):  # an exported backend: its model, or unknown until exported
        return (export / "model.onnx").stat().st_size if (export / "model.onnx").is_file() else None
    folder = getattr(encoder, "_folder", None)
    if isinstance(folder, Path) and folder.is_dir():
        files = [p for p in folder.rglob("*") if p.suffix in (".safetensors", ".bin") and p.is_file()]
        return sum(p.stat().st_size for p in files) or None
    return None


def timing_sample(corpus: Corpus, spec: EvalSpec, n: int) -> list[str]:
    """The first ``n`` distinct query texts of the evaluation, in direction order."""
    out: dict[str, None] = {}
    for d in spec.directions:
        _, q_pos, _ = direction_positions(corpus, d, spec.first, random_state=spec.seed)
        for t in corpus.texts(q_pos, field=spec.text_field):
            out.setdefault(t)
            if len(out) >= n:
                return list(out)
    return list(out)


def time_encoders(encoders: Sequence[Encoder], texts: list[str], rounds: int = 2) -> list[float]:
    """Best-of-``rounds`` seconds per encoder on ``texts``, rounds alternating (after one warm-up batch)."""
    for enc in encoders:
        enc.encode(texts[:8], role="query")  # loads (or exports) the engine outside the clock
    best = [float("inf")] * len(encoders)
    for _ in range(rounds):
        for i, enc in enumerate(encoders):
            start = time.perf_counter()
            enc.encode(texts, role="query")
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def price_of_speed(
    corpus: Corpus,
    make_encoder: Callable[[Setting], Encoder],
    spec: EvalSpec,
    baseline: Setting,
    candidate: Setting,
    cache: EmbeddingCache,
    *,
    metric: str = "recall@1",
    alpha: float = 0.05,
    n_resamples: int = 10_000,
    random_state: RandomState = 0,
    timing_texts: int = 200,
) -> PriceReport:
    """Evaluate ``spec`` with the encoder at ``baseline`` and at ``candidate``; see the module docstring.

    ``make_encoder(setting)`` builds the encoder (not loaded) for a setting's backend and weight
    precision; the vector precision of each setting replaces ``spec.vectors``.
    """
    if baseline == candidate:
        raise SettingError(f"the two settings are the same ({baseline.label}); compare two different ones")
    results: list[DirectionResult] = []
    labels, encoders = [], []
    for setting in (baseline, candidate):
        enc = make_encoder(setting)
        s = dataclasses.replace(spec, vectors=setting.vector_spec)
        label = model_label(enc.identity.label, s)
        results.extend(evaluate(corpus, CorpusEmbeddings(corpus, enc, cache, text_field=s.text_field), s, model=label))
        labels.append(label)
        encoders.append(enc)
    if labels[0] == labels[1]:
        labels = [f"{labels[0]} ({baseline.label})", f"{labels[1]} ({candidate.label})"]
        results = [dataclasses.replace(r, model=labels[i // len(spec.directions)]) for i, r in enumerate(results)]
    # one engine at both settings (only the vectors differ): timing it twice would report noise as a speed-up
    same_engine = encoders[0].identity == encoders[1].identity
    texts = [] if same_engine else timing_sample(corpus, spec, timing_texts)
    seconds = time_encoders(encoders, texts) if texts else [0.0, 0.0]
    speed = setting_facts((baseline, candidate), encoders, len(texts), seconds)
    return price_report(
        tuple(results), labels[0], labels[1], metric, speed, alpha=alpha, n_resamples=n_resamples,
        random_state=random_state,
    )  # fmt: skip


def setting_facts(
    settings: Sequence[Setting], encoders: Sequence[Encoder], texts: int = 0, seconds: Sequence[float] = (0.0, 0.0)
) -> tuple[SpeedFacts, SpeedFacts]:
    """Speed and memory of two settings' encoders (``texts == 0``: memory only, speed not measured)."""
    facts = [
        SpeedFacts(st.label, texts, sec, bytes_per_vector(st.vectors, enc.identity.dim), _weights_bytes(enc))
        for st, enc, sec in zip(settings, encoders, seconds)
    ]
    return facts[0], facts[1]


def price_report(
    results: Sequence[DirectionResult],
    baseline: str,
    candidate: str,
    metric: str,
    speed: tuple[SpeedFacts, SpeedFacts],
    *,
    alpha: float = 0.05,
    n_resamples: int = 10_000,
    random_state: RandomState = 0,
) -> PriceReport:
    """The report from both settings' ``results`` (models labelled ``baseline`` and ``candidate``):
    the paired test per direction with Holm (:func:`~xlr.report.matrix.difference_matrix`) and the
    per-language marginals (:func:`marginal_deltas`)."""
    directions = difference_matrix(
        list(results), baseline, candidate, metric, alpha=alpha, n_resamples=n_resamples, random_state=random_state
    )
    return PriceReport(baseline, candidate, metric, directions, marginal_deltas(directions), speed, tuple(results))


def speed_table(report: PriceReport) -> pd.DataFrame:
    """One row per setting: texts/s, ratio to the baseline, bytes per vector, weights on disk (MB)."""
    base = report.speed[0].texts_per_second
    return pd.DataFrame(
        [
            {
                "setting": s.setting,
                "texts/s": None if s.texts == 0 else round(s.texts_per_second, 1),
                "speed ratio": None if s.texts == 0 else round(s.texts_per_second / base, 2),
                "bytes/vector": s.bytes_per_vector,
                "weights MB": None if s.weights_bytes is None else round(s.weights_bytes / 1e6, 1),
            }
            for s in report.speed
        ]
    )
