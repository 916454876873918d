"""``xlr strategies``' chat strategies: ``--strategies translate-test,generate-title`` and the ``--chat-*`` flags.

Flags -> :class:`~xlr.encoders.chat.ChatModel` (the ``--api-*`` flags give the endpoint, timeouts,
retries, concurrency and ``--api-max-cost``) -> :mod:`xlr.strategies.generative`; nothing is
computed here.  The cost of every prompt not cached yet is estimated and checked against
``--api-max-cost`` before anything is sent (0 sends nothing that costs).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from xlr.cli.api_options import api_settings, finite
from xlr.cli.options import metrics_from
from xlr.data.records import Corpus
from xlr.encoders.api_cost import BudgetError
from xlr.encoders.base import Encoder
from xlr.encoders.cache import CacheStats, EmbeddingCache
from xlr.encoders.chat import ChatModel, ChatParams
from xlr.report.sanitize import terminal_text
from xlr.report.translations import direction_translations, translations_csv, translations_jsonl
from xlr.retrieval.directions import Direction
from xlr.strategies.generative import (
    GENERATIVE,
    TITLE,
    TRANSLATE,
    add_runs,
    generate_title,
    title_not_applicable,
    title_prompts,
    title_ties_note,
    total_cost,
    translate_prompts,
    translate_test,
)
from xlr.strategies.runner import StrategyReport, StrategyRun
from xlr.strategies.split import Split, plan_split
from xlr.strategies.title_match import TITLE_MATCHES

__all__ = ["add_chat_flags", "run_generative", "split_names"]


def add_chat_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("chat strategies (translate-test, generate-title)")
    g.add_argument(
        "--chat-model",
        help="chat:<model> (or the bare name) behind the --api-base chat-completions endpoint, e.g. chat:llama3.1",
    )
    g.add_argument(
        "--retriever",
        help="encoder that ranks the translated queries and, with --title-match encoder, matches the generated "
        "titles (default: the first --model)",
    )
    g.add_argument(
        "--title-match",
        choices=TITLE_MATCHES,
        default="trigram",
        help="generate-title: after the exact normalised match, rank the pool's titles by character-trigram "
        "similarity (default) or by the --retriever encoder's cosine over the titles",
    )
    g.add_argument("--chat-max-answer-tokens", type=int, default=64, help="max_tokens of an answer (default 64)")
    g.add_argument("--chat-seed", type=int, default=0, help="seed sent with every request (default 0)")
    g.add_argument("--chat-price-in", type=finite(positive=False), default=None, help="USD per million input tokens")
    g.add_argument(
        "--translations-out",
        type=Path,
        default=None,
        help="write translate-test's translations (id, languages, original, translation, model, template hash): "
        "CSV when the name ends in .csv, else JSONL",
    )
    g.add_argument("--chat-price-out", type=finite(positive=False), default=None, help="USD per million output tokens")


def split_names(names: str | None) -> tuple[str | None, tuple[str, ...]]:
    """``--strategies`` -> (the encoder strategies, or None when none was named; the chat strategies named)."""
    if not names:
        return None, ()
    parts = [s.strip() for s in names.split(",") if s.strip()]
    chat = tuple(dict.fromkeys(s for s in parts if s in GENERATIVE))
    rest = ",".join(s for s in parts if s not in GENERATIVE)
    return rest, chat


def run_generative(
    args: argparse.Namespace,
    kinds: tuple[str, ...],
    run_rest: Callable[[], StrategyReport],
    load: Callable[[str], Encoder],
    corpus: Corpus,
    directions: Sequence[Direction],
    split: Split,
) -> StrategyReport:
    """Estimate and check the chat cost, run ``run_rest()`` (the encoder strategies), then ``kinds``."""
    if not args.chat_model:
        raise ValueError(f"{', '.join(kinds)} need(s) a chat model: pass --chat-model chat:<model>")
    params = ChatParams(
        seed=args.chat_seed,
        max_answer_tokens=args.chat_max_answer_tokens,
        price_in=args.chat_price_in,
        price_out=args.chat_price_out,
    )
    chat = ChatModel(args.chat_model, api_settings(args), params, cache_dir=args.cache_dir)
    plan = plan_split(corpus, directions, split)
    notes: list[str] = []
    if "generate-title" in kinds and (why := title_not_applicable(corpus)):
        notes.append(why)
        print(terminal_text(why), file=sys.stderr)
        kinds = tuple(k for k in kinds if k != "generate-title")
    if "generate-title" in kinds and (ties := title_ties_note(corpus, plan)):
        notes.append(ties)
        print(terminal_text(ties), file=sys.stderr)
    costs = [chat.estimate(TRANSLATE, translate_prompts(corpus, plan))] if "translate-test" in kinds else []
    costs += [chat.estimate(TITLE, title_prompts(corpus, plan))] if "generate-title" in kinds else []
    for c in costs:
        print(terminal_text(c.sentence()), file=sys.stderr)
    usd = total_cost(costs)
    if args.api_max_cost is not None and costs and (usd is None or usd > args.api_max_cost):
        for c in costs:
            c.check(args.api_max_cost)
        raise BudgetError(f"{chat.name}: the estimated cost ${usd:.6f} is over the limit of ${args.api_max_cost:g}")
    report = run_rest()
    runs: list[StrategyRun] = []
    stats: list[tuple[Encoder, CacheStats]] = []
    if "translate-test" in kinds:
        retriever = load(args.retriever or args.model[0])
        run, st = translate_test(corpus, plan, chat, retriever, cache=EmbeddingCache(args.cache_dir))
        runs.append(run)
        stats.append((retriever, st))
        if args.translations_out:
            scope = chat.cached(TRANSLATE)
            rows = [
                t
                for i, d in enumerate(plan.directions)
                for t in direction_translations(corpus, d, scope, plan.evaluated[i])
            ]
            text = (
                translations_csv(rows) if args.translations_out.suffix.lower() == ".csv" else translations_jsonl(rows)
            )
            args.output_plan.stage(args.translations_out, text)
    if "generate-title" in kinds:
        matcher = load(args.retriever or args.model[0]) if args.title_match == "encoder" else None
        run = generate_title(corpus, plan, chat, title_encoder=matcher, cache=EmbeddingCache(args.cache_dir))
        runs.append(run)
        if matcher is not None:
            m = run.details["title_match"]
            stats.append((matcher, CacheStats(m["texts_encoded"], m["texts_cached"])))
    print(
        terminal_text(
            f"{chat.name}: {chat.requests} requests, {chat.prompt_tokens:,} prompt + "
            f"{chat.completion_tokens:,} completion tokens (server counts)"
        ),
        file=sys.stderr,
    )
    return add_runs(
        report,
        runs,
        stats=stats,
        notes=notes,
        metrics=metrics_from(args),
        alpha=args.alpha,
        random_state=args.seed,
        n_resamples=args.resamples,
    )
