"""Which texts an evaluation will send to an encoder, known before it encodes any.

Used to show, before a paid API run starts, how many texts and tokens it will cost
(:func:`xlr.encoders.api_cost.estimate_cost`).  The plan follows :func:`~xlr.retrieval.evaluate.evaluate`:
the query positions of every direction in the ``query`` role and the pool positions in the
``document`` role; two roles whose prefixes coincide share one cache namespace, so their
texts are counted once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xlr.data.records import Corpus
from xlr.encoders.api import OpenAIEncoder
from xlr.encoders.api_cost import CostEstimate, estimate_cost
from xlr.encoders.base import Encoder
from xlr.retrieval.directions import direction_positions
from xlr.retrieval.evaluate import EvalSpec

__all__ = ["api_cost_estimates", "texts_to_encode"]


def texts_to_encode(corpus: Corpus, spec: EvalSpec, encoder: Encoder) -> list[str]:
    """Distinct ``(cache namespace, text)`` pairs an evaluation of ``spec`` needs, as a list of texts.

    An upper bound on what is sent: texts already in the embedding cache are not sent again.
    """
    by_role: dict[str, list[np.ndarray]] = {"query": [], "document": []}
    for d in spec.directions:
        _, q_pos, p_pos = direction_positions(corpus, d, spec.first, random_state=spec.seed)
        by_role["query"].append(q_pos)
        by_role["document"].append(p_pos)
    seen: set[tuple[str, str]] = set()
    out: list[str] = []
    identity = encoder.planned_identity if isinstance(encoder, OpenAIEncoder) else encoder.identity  # nothing sent
    for role, parts in by_role.items():
        ns = identity.cache_key(role)  # type: ignore[arg-type]
        positions = np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.int64)
        for text in corpus.texts(positions, field=spec.text_field):
            if (ns, text) not in seen:
                seen.add((ns, text))
                out.append(text)
    return out


def api_cost_estimates(
    corpus: Corpus, spec: EvalSpec, encoders: Sequence[Encoder], *, price: float | None = None
) -> list[CostEstimate]:
    """For each API encoder among ``encoders``: what evaluating ``spec`` will send and cost (``price``:
    per million tokens, overriding the table). Said before anything is sent; an upper bound (texts
    already in the cache are not sent)."""
    out = []
    for enc in encoders:
        if isinstance(enc, OpenAIEncoder):
            prices = {enc.model: price} if price is not None else None
            texts = texts_to_encode(corpus, spec, enc)
            out.append(
                estimate_cost(enc.planned_identity.name, enc.model, texts, local=enc.endpoint.is_local, prices=prices)
            )
    return out
