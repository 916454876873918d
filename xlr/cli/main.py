"""``python -m xlr`` (or ``xlr``): evaluate encoders, search a corpus, list data sets and encoders.

Every error is one line on stderr (``xlr: error: ...``) and exit status 2; no traceback.
The CLI holds no logic of its own: it reads the command line and calls the same functions
as the dashboard.  Commands: ``eval`` (:mod:`xlr.cli.evaluate`), ``compare``, ``strategies``,
``finetune`` (:mod:`xlr.cli.strategies`), ``search``, ``datasets``, ``models`` (here).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from xlr.cli import strategies as cli_strategies
from xlr.cli.api_options import api_settings
from xlr.cli.evaluate import add_eval_command, cmd_eval
from xlr.cli.options import OUTPUT_FLAGS, add_common, encoding_progress, load_data, run_inputs, unique_noted
from xlr.cli.price import add_price_command, cmd_price
from xlr.cli.runtime import load_with_runtime, one_line_warnings
from xlr.data.registry import DATASETS, data_dir, local_path, selected_files, wrong_size
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.catalogue import catalogue_lines
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.report.outputs import OutputPlan
from xlr.report.sanitize import terminal_text
from xlr.retrieval.scoring import ScoringSpec
from xlr.retrieval.search import search

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xlr", description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    add_eval_command(sub)
    se = sub.add_parser("search", help="top-k documents for a typed query")
    add_common(se)
    se.add_argument("--model", required=True)
    se.add_argument("--lang", action="append", required=True, help="language(s) to search in (repeatable)")
    se.add_argument("--query-lang", default=None, help="language of the query (reference set for CSLS/margin)")
    se.add_argument("--k", type=int, default=10)
    se.add_argument("query", help="the query text")
    cli_strategies.add_commands(sub)  # compare, strategies, finetune
    add_price_command(sub)
    sub.add_parser("datasets", help="list the named data sets")
    sub.add_parser("models", help="list the catalogue of encoders and what each needs to run")
    return parser


def _cmd_search(args: argparse.Namespace) -> int:
    data = load_data(args)
    enc = load_with_runtime(args.model, args, api=api_settings(args))
    progress = encoding_progress(not args.no_progress)
    emb = CorpusEmbeddings(
        data.corpus, enc, EmbeddingCache(args.cache_dir), text_field=args.text_field, progress=progress
    )
    res = search(
        data.corpus,
        emb,
        args.query,
        args.lang,
        k=args.k,
        scoring=ScoringSpec(args.scoring, args.scoring_k),
        query_lang=args.query_lang,
    )
    for hit in res.hits:
        d = hit.document
        title = f"{d.title} | " if d.title else ""
        print(
            terminal_text(f"{hit.rank:>3}  {hit.score:.4f}  {d.lang}  {d.id}  {title}{' '.join(d.text.split())[:100]}")
        )
    print(f"{terminal_text(res.model)}: {res.seconds * 1000:.1f} ms", file=sys.stderr)
    return 0


def _cmd_datasets() -> int:
    root = data_dir()
    print(f"data directory: {root}")
    for spec in DATASETS.values():
        default = selected_files(spec)
        have = sum(local_path(root, f).is_file() and not wrong_size(local_path(root, f), f) for f in default)
        state = "present" if have == len(default) else f"{have}/{len(default)} files"
        if len(default) < len(spec.files):
            every = sum(local_path(root, f).is_file() and not wrong_size(local_path(root, f), f) for f in spec.files)
            state += f"; {every}/{len(spec.files)} files of every language"
        wrong = [w for f in spec.files if (w := wrong_size(local_path(root, f), f))]
        if wrong:
            state += f"; wrong size: {'; '.join(wrong)}"
        print(f"{spec.name:10} [{state}] {spec.description}")
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    for flag in ("model", "k", "lang", "metric"):  # repeatable options of every command: each value once
        if isinstance(getattr(args, flag, None), list):
            setattr(args, flag, unique_noted(f"--{flag}", getattr(args, flag)))
    if args.command == "eval":
        return cmd_eval(args)
    if args.command == "search":
        return _cmd_search(args)
    if args.command == "price":
        return cmd_price(args)
    if args.command in cli_strategies.COMMANDS:
        return cli_strategies.run(args)
    if args.command == "datasets":
        return _cmd_datasets()
    print("\n".join(catalogue_lines()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    one_line_warnings()
    try:
        args.output_plan = OutputPlan(
            {"--" + f.replace("_", "-"): getattr(args, f, None) for f in OUTPUT_FLAGS},
            folders={"--output": getattr(args, "output", None)},
        )
        args.output_plan.refuse_inputs(*run_inputs(args))  # before any work
        rc = _dispatch(args)
        args.output_plan.commit()
        return rc
    except (ValueError, OSError) as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        print(f"xlr: error: {terminal_text(msg)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("xlr: interrupted", file=sys.stderr)
        return 130
