"""CLI commands for strategies, comparisons, fine-tuning and query sets (wired in by :mod:`xlr.cli`).

``python -m xlr compare``     paired significance of two results JSON files
``python -m xlr strategies``  baseline + every strategy, one table with deltas, tests and verdicts
``python -m xlr finetune``    fine-tune a sentence-transformers model on the fit ids
``python -m xlr eval --query-pool en|all``  evaluate a data set's questions (XQuAD) instead

Errors are ``ValueError``/``OSError``; :func:`xlr.cli.main` prints them as one line.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from xlr.cli.api_options import api_settings
from xlr.cli.runtime import add_runtime_flags, load_with_runtime
from xlr.data.registry import LoadedDataset
from xlr.data.unique import unique
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.encoders.device import Runtime
from xlr.report.comparison import compare_files
from xlr.report.results import build_manifest, results_csv, results_json
from xlr.report.sanitize import terminal_frame, terminal_lines, terminal_text
from xlr.retrieval.directions import (
    Direction,
    all_directions,
    default_directions,
    parse_directions,
)
from xlr.retrieval.evaluate import EvalSpec, wide_table
from xlr.retrieval.question_sets import QuerySpec, evaluate_queries, queries_table
from xlr.retrieval.scoring import ScoringSpec
from xlr.stats.compare import DEFAULT_METRICS, comparison_frame, format_comparison
from xlr.strategies.runner import run_strategies
from xlr.strategies.spec import Strategy, default_strategies
from xlr.strategies.split import Split, plan_split

__all__ = ["COMMANDS", "add_commands", "add_eval_flags", "cmd_eval_queries", "run"]

COMMANDS = ("compare", "strategies", "finetune")
Loader = Callable[[argparse.Namespace], LoadedDataset]


def _add_split(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--eval-first",
        type=int,
        default=None,
        help="evaluate the first N linked ids of each direction, fit on the rest "
        "(default: half of the smallest direction when something is fitted)",
    )
    g.add_argument(
        "--eval-ids",
        type=Path,
        default=None,
        help="file with the ids to evaluate, one a line",
    )
    g.add_argument(
        "--eval-all",
        action="store_true",
        help="evaluate every linked id (nothing left to fit on)",
    )


def _add_directions(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--directions",
        help="comma-separated, e.g. ar-en,zh-en (default: every language -> en)",
    )
    g.add_argument("--all-directions", action="store_true", help="every ordered language pair")


def _add_significance(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--metric",
        action="append",
        default=None,
        help=f"metric to test (repeatable; default {' and '.join(DEFAULT_METRICS)})",
    )
    p.add_argument(
        "--alpha",
        type=float,
        default=0.05,
        help="significance level after Holm (default 0.05)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="random seed of bootstrap and permutation (default 0)",
    )
    p.add_argument(
        "--resamples",
        type=int,
        default=10_000,
        help="bootstrap/permutation resamples (default 10000)",
    )


def add_eval_flags(ev: argparse.ArgumentParser) -> None:
    """``eval --query-pool POOL [--query-langs ar,de] [--map-n 20]``."""
    ev.add_argument(
        "--query-pool",
        default=None,
        help="evaluate the data set's questions (XQuAD) against the paragraphs of this language, "
        "or 'all' (every language; any paragraph with the gold id is relevant)",
    )
    ev.add_argument(
        "--query-langs",
        default=None,
        help="question languages, comma-separated (default all)",
    )
    ev.add_argument(
        "--map-n",
        type=int,
        default=20,
        help="cut-off of mAP for query sets (default 20)",
    )


def add_commands(sub: Any, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    cp = sub.add_parser("compare", help="paired significance: candidate results JSON vs baseline")
    cp.add_argument("--baseline", type=Path, required=True, help="results JSON of the baseline")
    cp.add_argument("--candidate", type=Path, required=True, help="results JSON of the candidate")
    cp.add_argument(
        "--baseline-model",
        default=None,
        help="model in the baseline file (if it holds several)",
    )
    cp.add_argument(
        "--candidate-model",
        default=None,
        help="model in the candidate file (if it holds several)",
    )
    _add_significance(cp)
    cp.add_argument("--json", type=Path, help="write the comparison as JSON")

    st = sub.add_parser(
        "strategies",
        help="baseline + every strategy: one table with deltas, tests, verdicts",
    )
    add_common(st)
    st.add_argument(
        "--model",
        action="append",
        required=True,
        help="encoder (repeatable; the first is the baseline, several enable fusion)",
    )
    st.add_argument(
        "--strategies",
        default=None,
        help="comma-separated, e.g. csls,center,procrustes,center+csls,title+text,rrf,zscore "
        "(default: every applicable one)",
    )
    st.add_argument(
        "--candidate-model",
        action="append",
        default=[],
        help="another encoder compared with the baseline, e.g. st:./finetuned (repeatable)",
    )
    st.add_argument("--target-lang", default="en", help="language Procrustes maps onto (default en)")
    st.add_argument("--k", type=int, nargs="+", default=[1, 5, 10], help="k values (default 1 5 10)")
    _add_directions(st)
    _add_split(st)
    _add_significance(st)
    st.add_argument(
        "--json",
        type=Path,
        help="write results, per-query ranks and comparisons as JSON",
    )
    st.add_argument("--markdown", type=Path, help="write the table as markdown")

    ft = sub.add_parser(
        "finetune",
        help="fine-tune a sentence-transformers model on pairs outside the evaluated ids",
    )
    ft.add_argument("--dataset", required=True, help="named data set or a path")
    ft.add_argument("--lenient", action="store_true", help="skip bad lines of a JSONL file")
    ft.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="embedding cache (default $XLR_CACHE_DIR)",
    )
    ft.add_argument("--no-progress", action="store_true", help="no progress bars")
    ft.add_argument(
        "--model",
        default="minilm-en",
        help="base model: minilm-en, labse, st:<id|path> ...",
    )
    ft.add_argument(
        "--output",
        type=Path,
        required=True,
        help="folder to save the fine-tuned model in",
    )
    ft.add_argument("--steps", type=int, default=100)
    ft.add_argument("--batch-size", type=int, default=32)
    ft.add_argument("--lr", type=float, default=2e-5)
    ft.add_argument("--warmup", type=int, default=10, help="warm-up steps (default 10)")
    ft.add_argument(
        "--max-pairs",
        type=int,
        default=None,
        help="train on a random subset of the fit pairs",
    )
    ft.add_argument("--max-seq-length", type=int, default=128)
    ft.add_argument("--text-field", choices=("text", "title+text"), default="text")
    ft.add_argument(
        "--device", default=None, help="auto (cuda, mps, cpu; default, or $XLR_DEVICE), cpu, cuda, cuda:N, mps"
    )
    add_runtime_flags(ft, device=False)
    ft.add_argument(
        "--compare",
        action="store_true",
        help="then evaluate base and fine-tuned model on the evaluated ids and test the difference",
    )
    ft.add_argument(
        "--json",
        type=Path,
        help="with --compare: write the comparison as a results JSON",
    )
    ft.add_argument("--markdown", type=Path, help="with --compare: write the table as markdown")
    _add_directions(ft)
    _add_split(ft)
    _add_significance(ft)


def _directions(args: argparse.Namespace, corpus) -> tuple[Direction, ...]:
    if args.directions:
        return parse_directions(args.directions, corpus)
    return all_directions(corpus) if args.all_directions else default_directions(corpus)


def _split(args: argparse.Namespace, corpus, directions, fits: bool) -> Split:
    if args.eval_ids is not None:
        ids = [x.strip() for x in args.eval_ids.read_text(encoding="utf-8").splitlines() if x.strip()]
        return Split(ids=tuple(ids))
    if args.eval_first is not None:
        return Split(first=args.eval_first)
    if args.eval_all or not fits:
        return Split()
    return Split.half(corpus, directions)


def _write(args: argparse.Namespace, path: Path, text: str) -> None:
    """Stage ``text`` for output ``path``; :func:`xlr.cli.main.main` writes all outputs together at the end."""
    args.output_plan.stage(path, text)


def _metrics(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(args.metric) if args.metric else DEFAULT_METRICS


def _cmd_compare(args: argparse.Namespace) -> int:
    comp = compare_files(
        args.baseline,
        args.candidate,
        baseline_model=args.baseline_model,
        candidate_model=args.candidate_model,
        metrics=_metrics(args),
        alpha=args.alpha,
        random_state=args.seed,
        n_resamples=args.resamples,
    )
    print(terminal_lines(format_comparison(comp)))
    if args.json:
        out = {
            "baseline": comp.baseline,
            "candidate": comp.candidate,
            "alpha": args.alpha,
            "seed": args.seed,
            "rows": json.loads(comparison_frame(comp).to_json(orient="records")),
            "verdicts": {
                m: {
                    "ok": v.ok,
                    "improves": list(v.improves),
                    "degrades": list(v.degrades),
                    "sentence": v.sentence,
                }
                for m, v in zip(comp.metrics, comp.verdicts)
            },
        }
        _write(args, args.json, json.dumps(out, indent=1, ensure_ascii=False))
    return 0


def _report(report, data, args) -> None:
    from xlr.report.strategy_table import (
        strategies_json,
        strategies_markdown,
        strategies_text,
    )

    print(terminal_lines(strategies_text(report)))
    for enc, stats in report.encoder_stats:
        print(
            f"{enc.identity.name}: {stats.summary()}",
            file=sys.stderr,
        )
    if getattr(args, "json", None):
        _write(args, args.json, strategies_json(report, data))
    if getattr(args, "markdown", None):
        _write(args, args.markdown, strategies_markdown(report))


def _cmd_strategies(args: argparse.Namespace, load: Loader, progress) -> int:
    data = load(args)
    corpus = data.corpus
    directions = _directions(args, corpus)
    models = list(dict.fromkeys(args.model))
    if args.strategies:
        strategies = [
            Strategy.parse(s, scoring_k=args.scoring_k, target_lang=args.target_lang)
            for s in args.strategies.split(",")
            if s.strip()
        ]
        strategies = [
            Strategy(s.scoring, s.post, s.text_field, s.fusion, tuple(models), s.target_lang) if s.fusion else s
            for s in strategies
        ]
    else:
        strategies = default_strategies(corpus, models, args.scoring_k, args.target_lang)
    candidates = list(dict.fromkeys(args.candidate_model))
    strategies += [Strategy(encoders=(c,)) for c in candidates if c not in models]
    split = _split(args, corpus, directions, any(s.fits for s in strategies))
    baseline = Strategy(
        ScoringSpec(args.scoring, args.scoring_k),
        text_field=args.text_field,
        target_lang=args.target_lang,
    )
    encoders = [
        load_with_runtime(m, args, api=api_settings(args)) for m in models + [c for c in candidates if c not in models]
    ]
    report = run_strategies(
        corpus,
        encoders,
        strategies,
        directions=directions,
        split=split,
        cache=EmbeddingCache(args.cache_dir),
        baseline=baseline,
        ks=tuple(args.k),
        metrics=_metrics(args),
        alpha=args.alpha,
        random_state=args.seed,
        n_resamples=args.resamples,
        progress=progress(not args.no_progress),
    )
    _report(report, data, args)
    return 0


def _cmd_finetune(args: argparse.Namespace, load: Loader, progress) -> int:
    from xlr.strategies.finetune import FinetuneSpec, finetune

    data = load(args)
    corpus = data.corpus
    directions = _directions(args, corpus)
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
        encoders = [load_with_runtime(m, args) for m in (args.model, res.encoder)]
        report = run_strategies(
            corpus,
            encoders,
            [Strategy(encoders=(res.encoder,))],
            directions=directions,
            split=split,
            cache=EmbeddingCache(args.cache_dir),
            baseline=Strategy(text_field=args.text_field),
            metrics=_metrics(args),
            alpha=args.alpha,
            random_state=args.seed,
            n_resamples=args.resamples,
            progress=progress(not args.no_progress),
        )
        print()
        _report(report, data, args)
    return 0


def cmd_eval_queries(args: argparse.Namespace, load: Loader, progress) -> int:
    """``eval --query-pool``: recall@k, MRR and mAP@n of the questions of the data set."""
    given = [
        flag
        for flag, on in (
            ("--directions", args.directions),
            ("--all-directions", args.all_directions),
            ("--first", args.first is not None),
        )
        if on
    ]
    if given:
        raise ValueError(f"{', '.join(given)} do not apply to --query-pool (use --query-langs)")
    data = load(args)
    if data.queries is None:
        raise ValueError(f"data set {data.name!r} has no questions; query sets come with XQuAD (--dataset xquad)")
    langs = unique(x.strip() for x in args.query_langs.split(",") if x.strip())[0] if args.query_langs else None
    spec = QuerySpec(
        pool=args.query_pool,
        query_langs=langs,
        ks=tuple(args.k),
        map_n=args.map_n,
        scoring=ScoringSpec(args.scoring, args.scoring_k),
        text_field=args.text_field,
    )
    cache = EmbeddingCache(args.cache_dir)
    results, runs = [], []
    for name in args.model:
        enc = load_with_runtime(name, args, api=api_settings(args))
        emb = CorpusEmbeddings(
            data.corpus,
            enc,
            cache,
            text_field=spec.text_field,
            progress=progress(not args.no_progress),
        )
        results.extend(evaluate_queries(data.corpus, data.queries, emb, spec))
        runs.append((enc, emb.stats))
    table = queries_table(results, spec)
    relevance = (
        "the paragraph with the gold id in " + spec.pool
        if spec.pool != "all"
        else "any paragraph with the gold id, in any language"
    )
    print(terminal_text(f"questions of {data.queries.name} -> paragraphs of pool {spec.pool!r}; relevant: {relevance}"))
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_columns", 20):
        print(terminal_frame(wide_table(table)).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    dropped = {r.direction.label: r.n_dropped for r in results if r.n_dropped}
    if dropped:
        print(
            f"xlr: note: questions without a paragraph in the pool were dropped: {dropped}",
            file=sys.stderr,
        )
    if args.json:
        spec_stub = EvalSpec(
            (Direction("query", "pool"),),
            ks=spec.ks,
            scoring=spec.scoring,
            text_field=spec.text_field,
        )
        manifest = build_manifest(data, spec_stub, runs)
        manifest["spec"] = {
            "query_set": data.queries.name,
            "pool": spec.pool,
            "relevant": relevance,
            "query_langs": [r.direction.source for r in results],
            "ks": list(spec.ks),
            "map_n": spec.map_n,
            "scoring": {"method": spec.scoring.method, "k": spec.scoring.k},
            "text_field": spec.text_field,
            "dropped_queries": dropped,
            "ties": "pessimistic: a document tied with a relevant one counts as ranked above it",
        }
        _write(args, args.json, results_json(table, manifest, results))
    if args.csv:
        _write(args, args.csv, results_csv(table, columns=None))
    return 0


def run(args: argparse.Namespace, load: Loader, progress) -> int:
    """Dispatch one of :data:`COMMANDS` (``load(args)`` loads the data set, ``progress(enabled)`` a bar)."""
    if args.command == "compare":
        return _cmd_compare(args)
    if args.command == "strategies":
        return _cmd_strategies(args, load, progress)
    return _cmd_finetune(args, load, progress)
