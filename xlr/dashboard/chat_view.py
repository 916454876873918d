"""The Strategies page's chat strategies: translate-test and generate-title through a chat endpoint.

Widgets -> :class:`ChatChoice` (model, base URL, strategies, retriever); the cost of every prompt not
cached yet is stated before anything is sent, checked against the server's cap
(``$XLR_DASHBOARD_MAX_COST``), and nothing is sent before the visitor ticks the confirmation; an
operator who does not allow API encoders (:class:`xlr.dashboard.policy.ServePolicy`) gets no chat
either. :func:`add_chat_runs` runs them after the encoder strategies (:mod:`xlr.strategies.generative`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import streamlit as st

from xlr.dashboard import url
from xlr.dashboard.policy import ALLOW_API, MAX_COST
from xlr.dashboard.serve import serve_policy
from xlr.dashboard.state import literal
from xlr.data.records import Corpus
from xlr.encoders.api import ApiSettings, resolve_base_url
from xlr.encoders.api_cost import BudgetError
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.chat import ChatModel
from xlr.strategies.generative import (
    GENERATIVE,
    TITLE,
    TRANSLATE,
    add_runs,
    generate_title,
    title_not_applicable,
    title_prompts,
    title_ties_note,
    translate_prompts,
    translate_test,
)
from xlr.strategies.runner import StrategyReport
from xlr.strategies.split import SplitPlan
from xlr.strategies.title_match import TITLE_MATCHES

__all__ = ["ChatChoice", "add_chat_runs", "chat_choice"]


@dataclass(frozen=True)
class ChatChoice:
    """What the visitor chose and confirmed; ``key`` goes into the page's run parameters."""

    model: str
    base_url: str
    kinds: tuple[str, ...]
    retriever: str
    title_match: str = "trigram"

    @property
    def key(self) -> tuple[str, ...]:
        return (self.model, self.base_url, self.retriever, self.title_match, *self.kinds)

    def chat(self, cache_dir: object = None) -> ChatModel:
        return ChatModel(self.model, ApiSettings(base_url=self.base_url), cache_dir=cache_dir)  # type: ignore[arg-type]


def chat_choice(
    corpus: Corpus,
    plan: SplitPlan,
    models: Sequence[str],
    cache: EmbeddingCache,
    encoding_cost: Callable[[ChatChoice], str | None] | None = None,
) -> ChatChoice | None:
    """The expander's widgets; ``None`` until a model, a strategy and the confirmation are given.

    ``encoding_cost(choice)``: the sentence on what the retriever encodes once the answers are back
    (:func:`xlr.dashboard.costs.chat_encoding_cost`), shown with the prompts' price before anything is sent."""
    with st.expander("Chat strategies: translate-test, generate-title (any OpenAI-compatible chat endpoint)"):
        policy = serve_policy()
        if not policy.api:
            st.caption(f"Not accepted on this server (the operator allows them with {ALLOW_API}=1).")
            return None
        options = [k for k in GENERATIVE if k != "generate-title" or title_not_applicable(corpus) is None]
        url.from_url("chat_model", "strat.chat_model", default="")
        url.from_url("chat", "strat.chat_kinds", url.parse_list(options), default=[])
        url.from_url("retriever", "strat.chat_retriever", url.parse_choice(list(models)))
        url.from_url("title_match", "strat.chat_title_match", url.parse_choice(TITLE_MATCHES), default="trigram")
        c1, c2 = st.columns(2)
        model = c1.text_input("Chat model", placeholder="chat:llama3.1", key="strat.chat_model").strip()
        base = c2.text_input("Base URL", value=resolve_base_url(), key="strat.chat_base").strip()
        kinds = tuple(st.multiselect("Chat strategies", options, key="strat.chat_kinds"))
        if why := title_not_applicable(corpus):
            st.caption(literal(why))
        elif "generate-title" in kinds and (ties := title_ties_note(corpus, plan)):
            st.caption(literal(ties))
        retriever = st.selectbox("Retriever of the translated queries", list(models), key="strat.chat_retriever")
        match = st.radio(
            "generate-title: match the generated titles by",
            TITLE_MATCHES,
            horizontal=True,
            key="strat.chat_title_match",
            help="After the exact normalised match: character trigrams, or the retriever's cosine over the titles.",
        )
        url.url_params(  # the base URL stays out of links: it may name a private host
            chat_model=("strat.chat_model", model),
            chat=("strat.chat_kinds", list(kinds)),
            retriever=("strat.chat_retriever", retriever, models[0] if models else None),
            title_match=("strat.chat_title_match", match, "trigram"),
        )
        if not model or not kinds:
            return None
        choice = ChatChoice(model, base, kinds, str(retriever), str(match))
        try:
            chat = choice.chat(cache.root)
            costs = [chat.estimate(TRANSLATE, translate_prompts(corpus, plan))] if "translate-test" in kinds else []
            costs += [chat.estimate(TITLE, title_prompts(corpus, plan))] if "generate-title" in kinds else []
            for c in costs:
                c.check(policy.max_cost)
        except BudgetError as exc:
            st.error(literal(f"{exc} (the server's limit, ${MAX_COST})."))
            return None
        except ValueError as exc:
            st.error(literal(str(exc)))
            return None
        for c in costs:
            st.caption(literal(f"{c.sentence()}; answers already cached are not asked again."))
        if encoding_cost is not None and (then := encoding_cost(choice)):
            st.caption(literal(then))
        label = f"Send the prompts to {chat.endpoint.label} (model {chat.model})"
        if not st.checkbox(label, key="strat.chat_send", help="Nothing is sent before this is ticked."):
            return None
        return choice


def add_chat_runs(
    choice: ChatChoice,
    report: StrategyReport,
    corpus: Corpus,
    plan: SplitPlan,
    encoder: Callable[[str], Encoder],
    cache: EmbeddingCache,
    *,
    alpha: float,
    n_resamples: int,
) -> StrategyReport:
    """``report`` with the chosen chat strategies run and compared with its baseline."""
    chat = choice.chat(cache.root)
    runs, stats = [], []
    if "translate-test" in choice.kinds:
        retriever = encoder(choice.retriever)
        run, st_ = translate_test(corpus, plan, chat, retriever, cache=cache)
        runs.append(run)
        stats.append((retriever, st_))
    if "generate-title" in choice.kinds:
        matcher = encoder(choice.retriever) if choice.title_match == "encoder" else None
        runs.append(generate_title(corpus, plan, chat, title_encoder=matcher, cache=cache))
    return add_runs(report, runs, stats=stats, alpha=alpha, random_state=0, n_resamples=n_resamples)
