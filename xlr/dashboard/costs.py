"""Cost before work: what an action would encode and how long that takes, before it starts.

Every estimate counts the texts the disk cache lacks for the encoder and prices them at the rate
measured for that encoder on texts of similar length (:mod:`xlr.dashboard.rates`; "unknown" until
measured). The Strategies page encodes only what the chosen strategies need
(:func:`xlr.strategies.needs.encoding_needs`); ad-hoc search states the pool's cost before encoding it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import streamlit as st

from xlr.dashboard import resources as res
from xlr.dashboard.jobs import missing_texts, texts_to_encode
from xlr.dashboard.rates import Estimate
from xlr.dashboard.state import Context, DataKey, digest
from xlr.dashboard.ui import prepare, require, search_pool
from xlr.encoders.base import Role
from xlr.strategies.needs import encoding_needs
from xlr.strategies.spec import Strategy
from xlr.strategies.split import SplitPlan

__all__ = ["chat_encoding_cost", "pool_cost", "prepare_strategies", "strategy_cost"]


def _estimate(key: str, texts: list[str], starts: int = 0) -> Estimate:
    """Seconds to encode ``texts`` with the encoder ``key`` at its measured rates ("unknown" with no rate book)."""
    rates = res.board().rates
    return rates.estimate(key, texts, starts) if rates is not None else Estimate(key, len(texts), None)


@st.cache_data(show_spinner="Counting what a run would encode…", ttl=30, max_entries=16)
def _uncached(dkey: DataKey, model: str, needs_key: str, _needs: list[tuple[np.ndarray, Role]]) -> tuple[int, Estimate]:
    """(distinct texts needed, estimate for those the cache lacks) of ``model`` on the whole data set."""
    emb = res.embeddings(dkey, model)
    total, missing, starts = texts_to_encode(emb, _needs)
    return total, _estimate(model, missing, starts)


def _needs(ctx: Context, plan: SplitPlan, strategies: Sequence[Strategy]) -> list[tuple[np.ndarray, Role]]:
    return encoding_needs(res.dataset(*ctx.dkey).corpus, plan, strategies)


def prepare_strategies(ctx: Context, models: Sequence[str], plan: SplitPlan, strategies: Sequence[Strategy]) -> None:
    """Encode what a run of ``strategies`` needs (:func:`~xlr.strategies.needs.encoding_needs`) as background
    jobs (progress bars, Cancel, other pages and sessions usable meanwhile); stops the page until done."""
    needs = _needs(ctx, plan, strategies)
    require([prepare(ctx.dkey, ctx.key(m), needs) for m in models])


def strategy_cost(ctx: Context, models: Sequence[str], plan: SplitPlan, strategies: Sequence[Strategy]) -> str:
    """What *Run* on the Strategies page will encode for the chosen ``strategies`` and how long that takes
    at the rate measured for each encoder on texts of that length ("unknown" until measured)."""
    needs = _needs(ctx, plan, strategies)
    key = digest([f"{r}:{digest([str(p) for p in pos])}" for pos, r in needs])
    parts = []
    for model in models:
        total, est = _uncached(ctx.dkey, ctx.key(model), key, needs)
        parts.append(f"{est.sentence().replace(ctx.key(model), model, 1)} (of {total} texts; the rest is cached)")
    return "Encoding cost of a run: " + "; ".join(parts) + "."


def pool_cost(ctx: Context, model: str, langs: Sequence[str], whole: bool) -> Estimate:
    """What searching the documents of ``langs`` (whole data set, or the selection) with ``model`` would
    encode first, and for how long (the pool is encoded once, then cached)."""
    sub = search_pool(ctx, whole)
    pos = [sub.positions(lang) for lang in langs if lang in sub.languages]
    pool = np.concatenate(pos) if pos else np.zeros(0, np.int64)
    if not whole:  # the selection's documents are the same texts as in the whole data set
        ids = {sub.documents[int(i)].id for i in pool}
        full = ctx.data.corpus
        pool = np.asarray(
            [
                i
                for lang in langs
                if lang in full.languages
                for i in full.positions(lang)
                if full.documents[int(i)].id in ids
            ],
            dtype=np.int64,
        )
    needs: list[tuple[np.ndarray, Role]] = [(pool, "document")]
    _, est = _uncached(ctx.dkey, ctx.key(model), digest([str(p) for p in pool]), needs)
    return est


def chat_encoding_cost(
    ctx: Context, plan: SplitPlan, retriever: str, kinds: Sequence[str], title_match: str
) -> str | None:
    """What the chat strategies' encoder embeds once the answers are back, and for how long, before anything
    is sent; ``None`` when it embeds nothing (generate-title matched by trigrams).

    translate-test: every translated query (new texts, priced at the length of the queries they translate)
    and the target pools the cache lacks; generate-title with the ``encoder`` match: every answer (priced at
    the length of the pool titles) and the pool titles the cache lacks. Encoded in the server's process,
    so no process start-up is added."""
    corpus = res.dataset(*ctx.dkey).corpus
    emb = res.embeddings(ctx.dkey, ctx.key(retriever))
    new: list[str] = []  # stand-ins of the same length for texts that do not exist before the answers
    lacking: list[str] = []
    for i in range(len(plan.directions)):
        q_pos, p_pos = plan.positions(corpus, i)
        if "translate-test" in kinds:
            new += corpus.texts(q_pos)
            lacking += missing_texts(emb, corpus.texts(p_pos), "document")
        if "generate-title" in kinds and title_match == "encoder":
            titles = [t for p in p_pos if (t := corpus.documents[int(p)].title.strip())]
            new += titles[: len(q_pos)] or [""] * len(q_pos)
            lacking += missing_texts(emb, titles, "document")
    if not new and not lacking:
        return None
    texts = new + list(dict.fromkeys(lacking))
    key = ctx.key(retriever)
    est = _estimate(key, texts)
    return (
        f"Then {est.sentence().replace(key, retriever, 1)}: {len(new)} answers or translations (new texts) and "
        f"{len(texts) - len(new)} pool texts the cache lacks."
    )
