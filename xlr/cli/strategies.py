"""``xlr compare``, ``xlr strategies`` and ``xlr finetune`` (wired in by :mod:`xlr.cli.main`).

``compare``     paired significance of two results JSON files
``strategies``  baseline + every strategy, one table with deltas, tests and verdicts
``finetune``    fine-tune a sentence-transformers model on the fit ids (and compare it)

Reads the command line, calls :mod:`xlr`, prints and stages outputs; nothing is computed here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from xlr.cli.api_options import api_settings
from xlr.cli.generative import add_chat_flags, run_generative, split_names
from xlr.cli.options import (
    add_common,
    add_data_flags,
    add_directions,
    add_significance,
    add_split,
    directions_from,
    encoding_progress,
    load_data,
    metrics_from,
)
from xlr.cli.runtime import add_runtime_flags, load_with_runtime
from xlr.data.registry import LoadedDataset
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.device import Runtime
from xlr.report.comparison import compare_files, comparison_json, format_comparison
from xlr.report.sanitize import terminal_lines, terminal_text
from xlr.report.strategy_table import strategies_json, strategies_markdown, strategies_text
from xlr.retrieval.scoring import ScoringSpec
from xlr.strategies.runner import StrategyReport, run_strategies
from xlr.strategies.spec import Strategy, strategies_for
from xlr.strategies.split import Split, plan_split

__all__ = ["COMMANDS", "add_commands", "run"]

COMMANDS = ("compare", "strategies", "finetune")


def add_commands(sub: Any) -> None:
    cp = sub.add_parser("compare", help="paired significance: candidate results JSON vs baseline")
    cp.add_argument("--baseline", type=Path, required=True, help="results JSON of the baseline")
    cp.add_argument("--candidate", type=Path, required=True, help="results JSON of the candidate")
    cp.add_argument("--baseline-model", default=None, help="model in the baseline file (if it holds several)")
    cp.add_argument("--candidate-model", default=None, help="model in the candidate file (if it holds several)")
    add_significance(cp)
    cp.add_argument("--json", type=Path, help="write the comparison as JSON")

    st = sub.add_parser("strategies", help="baseline + every strategy: one table with deltas, tests, verdicts")
    add_common(st)
    st.add_argument(
        "--model",
        action="append",
        required=True,
        help="encoder (repeatable; the first is the baseline, several enable fusion)",
    )
    st.add_argument(
        "--strategies",
        "--strategy",
        default=None,
        help="comma-separated, e.g. csls,center,procrustes,center+csls,title+text,rrf,zscore, and the chat "
        "strategies translate-test and generate-title (default: every applicable encoder strategy)",
    )
    st.add_argument(
        "--candidate-model",
        action="append",
        default=[],
        help="another encoder compared with the baseline, e.g. st:./finetuned (repeatable)",
    )
    st.add_argument("--target-lang", default="en", help="language Procrustes maps onto (default en)")
    st.add_argument("--k", type=int, nargs="+", default=[1, 5, 10], help="k values (default 1 5 10)")
    add_directions(st)
    add_split(st)
    add_significance(st)
    st.add_argument("--json", type=Path, help="write results, per-query ranks and comparisons as JSON")
    st.add_argument("--markdown", type=Path, help="write the table as markdown")
    add_chat_flags(st)

    ft = sub.add_parser("finetune", help="fine-tune a sentence-transformers model on pairs outside the evaluated ids")
    add_data_flags(ft)
    ft.add_argument("--model", default="minilm-en", help="base model: minilm-en, labse, st:<id|path> ...")
    ft.add_argument("--output", type=Path, required=True, help="folder to save the fine-tuned model in")
    ft.add_argument("--steps", type=int, default=100)
    ft.add_argument("--batch-size", type=int, default=32)
    ft.add_argument("--lr", type=float, default=2e-5)
    ft.add_argument("--warmup", type=int, default=10, help="warm-up steps (default 10)")
    ft.add_argument("--max-pairs", type=int, default=None, help="train on a random subset of the fit pairs")
    ft.add_argument("--max-seq-length", type=int, default=128)
    ft.add_argument("--text-field", choices=("text", "title+text"), default="text")
    add_runtime_flags(ft)
    ft.add_argument(
        "--compare",
        action="store_true",
        help="then evaluate base and fine-tuned model on the evaluated ids and test the difference",
    )
    ft.add_argument("--json", type=Path, help="with --compare: write the comparison as a results JSON")
    ft.add_argument("--markdown", type=Path, help="with --compare: write the table as markdown")
    add_directions(ft)
    add_split(ft)
    add_significance(ft)


def _cmd_compare(args: argparse.Namespace) -> int:
    comp = compare_files(
        args.baseline,
        args.candidate,
        baseline_model=args.baseline_model,
        candidate_model=args.candidate_model,
        metrics=metrics_from(args),
        alpha=args.alpha,
        random_state=args.seed,
        n_resamples=args.resamples,
    )
    print(terminal_lines(format_comparison(comp)))
    if args.json:
        args.output_plan.stage(args.json, comparison_json(comp, alpha=args.alpha, seed=args.seed))
    return 0


def _report(report: StrategyReport, data: LoadedDataset, args: argparse.Namespace) -> None:
    print(terminal_lines(strategies_text(report)))
    for enc, stats in report.encoder_stats:
        print(f"{terminal_text(enc.identity.name)}: {stats.summary()}", file=sys.stderr)
    if getattr(args, "json", None):
        args.output_plan.stage(args.json, strategies_json(report, data))
    if getattr(args, "markdown", None):
        args.output_plan.stage(args.markdown, strategies_markdown(report))


def _split(args: argparse.Namespace, corpus: Any, directions: Any, fits: bool) -> Split:
    return Split.choose(
        corpus, directions, ids_file=args.eval_ids, first=args.eval_first, evaluate_all=args.eval_all, fits=fits
    )


def _cmd_strategies(args: argparse.Namespace) -> int:
    if args.translations_out and "translate-test" not in split_names(args.strategies)[1]:
        raise ValueError("--translations-out needs translate-test in --strategies")
    data = load_data(args)
    corpus = data.corpus
    directions = directions_from(args, corpus)
    models = list(dict.fromkeys(args.model))
    names, chat_kinds = split_names(args.strategies)
    extra = [c for c in dict.fromkeys(args.candidate_model) if c not in models]
    if names == "":  # only chat strategies named: no encoder strategy beside them, candidates still compared
        strategies = [Strategy(encoders=(c,)) for c in extra]
    else:
        strategies = strategies_for(
            corpus,
            models,
            names,
            candidates=args.candidate_model,
            scoring_k=args.scoring_k,
            target_lang=args.target_lang,
        )
    loaded = {m: load_with_runtime(m, args, api=api_settings(args)) for m in models + extra}
    split = _split(args, corpus, directions, any(s.fits for s in strategies))

    def run_rest() -> StrategyReport:
        return run_strategies(
            corpus,
            list(loaded.values()),
            strategies,
            directions=directions,
            split=split,
            cache=EmbeddingCache(args.cache_dir),
            baseline=Strategy(
                ScoringSpec(args.scoring, args.scoring_k), text_field=args.text_field, target_lang=args.target_lang
            ),
            ks=tuple(args.k),
            metrics=metrics_from(args),
            alpha=args.alpha,
            random_state=args.seed,
            n_resamples=args.resamples,
            progress=encoding_progress(not args.no_progress),
        )

    def load(name: str) -> Encoder:
        return loaded[name] if name in loaded else load_with_runtime(name, args, api=api_settings(args))

    report = run_generative(args, chat_kinds, run_rest, load, corpus, directions, split) if chat_kinds else run_rest()
    _report(report, data, args)
    return 0


def _cmd_finetune(args: argparse.Namespace) -> int:
    from xlr.strategies.finetune import FinetuneSpec, finetune

    if getattr(args, "backend", None) not in (None, "torch"):
        raise ValueError("finetune trains with torch; leave out --backend (evaluate the result with --backend later)")
    data = load_data(args)
    corpus = data.corpus
    directions = directions_from(args, corpus)
    split = _split(args, corpus, directions, True)
    plan = plan_split(corpus, directions, split)
    spec = FinetuneSpec(
        args.model,
        str(args.output),
        steps=args.steps,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        warmup_steps=args.warmup,
        max_pairs=args.max_pairs,
        max_seq_length=args.max_seq_length,
        text_field=args.text_field,
        device=Runtime.from_options(args.device).device,
        random_state=args.seed,
    )
    print(f"split: {plan.description}")

    def step(i: int, n: int, loss: float) -> None:
        print(f"step {i:>4}/{n}  loss {loss:.4f}", flush=True)

    res = finetune(corpus, plan, spec, callback=step)
    print(
        f"trained on {res.n_pairs} pairs, {len(res.losses)} steps on {res.device} in {res.seconds:.1f} s; "
        f"loss {res.losses[0]:.4f} -> {res.losses[-1]:.4f}"
    )
    print(f"saved: {res.output_dir}  (evaluate it as --model {res.encoder})")
    if args.compare:
        report = run_strategies(
            corpus,
            [load_with_runtime(m, args) for m in (args.model, res.encoder)],
            [Strategy(encoders=(res.encoder,))],
            directions=directions,
            split=split,
            cache=EmbeddingCache(args.cache_dir),
            baseline=Strategy(text_field=args.text_field),
            metrics=metrics_from(args),
            alpha=args.alpha,
            random_state=args.seed,
            n_resamples=args.resamples,
            progress=encoding_progress(not args.no_progress),
        )
        print()
        _report(report, data, args)
    return 0


def run(args: argparse.Namespace) -> int:
    """Run one of :data:`COMMANDS`."""
    if args.command == "compare":
        return _cmd_compare(args)
    if args.command == "strategies":
        return _cmd_strategies(args)
    return _cmd_finetune(args)
