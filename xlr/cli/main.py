"""``python -m xlr``: evaluate encoders, search a corpus, list data sets and encoders.

Every error is one line on stderr (``xlr: error: ...``) and exit status 2;
no traceback.  The CLI holds no logic of its own: it calls the same functions
as the dashboard.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path

from xlr.cli import strategies as cli_strategies
from xlr.cli.api_options import add_api_flags, api_settings
from xlr.cli.runtime import add_runtime_flags, load_with_runtime, one_line_warnings
from xlr.data.registry import DATASETS, data_dir, resolve_dataset
from xlr.data.unique import unique
from xlr.encoders.api import OpenAIEncoder
from xlr.encoders.api_cost import estimate_cost
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.catalogue import catalogue_lines
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.engines.ray_engine import RaySpec, evaluate_ray, ray_session, require_ray
from xlr.report.outputs import OutputPlan, model_folders
from xlr.report.results import build_manifest, results_csv, results_json
from xlr.report.sanitize import terminal_frame, terminal_text
from xlr.report.support import flag_table, unsupported_map, unsupported_notes
from xlr.retrieval.directions import (
    all_directions,
    default_directions,
    parse_directions,
)
from xlr.retrieval.encode_plan import texts_to_encode
from xlr.retrieval.evaluate import EvalSpec, evaluate, model_label, results_table, wide_table
from xlr.retrieval.mixed_pool import GOLD_MODES, evaluate_mixed, mixed_pool_table
from xlr.retrieval.scoring import SCORING_METHODS, ScoringSpec
from xlr.retrieval.search import search

__all__ = ["main"]


def _progress_factory(enabled: bool):
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr."""
    if not enabled:
        return None
    from tqdm import tqdm

    state: dict[str, object] = {}

    def progress(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bar = tqdm(total=total, desc="encoding", unit="text", file=sys.stderr, leave=False)
            state["bar"] = bar
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            state.pop("bar", None)

    return progress


def _download_progress(enabled: bool):
    """A ``progress(bytes_done, total_or_None)`` callback for data set downloads."""
    if not enabled:
        return None
    from tqdm import tqdm

    state: dict[str, object] = {}

    def progress(done: int, total: int | None) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(
                total=total,
                desc="downloading",
                unit="B",
                unit_scale=True,
                file=sys.stderr,
            )
        bar.update(done - bar.n)

    return progress


def _load(args: argparse.Namespace):
    """Load ``--dataset``; then refuse any output that is one of its files or inside a local model folder."""
    data = resolve_dataset(
        args.dataset,
        lenient=args.lenient,
        progress=_download_progress(not args.no_progress),
    )
    models = args.model if isinstance(getattr(args, "model", None), list) else [getattr(args, "model", None) or ""]
    args.output_plan.refuse_inputs(data.files, model_folders(models))
    return data


def _unique(what: str, items):
    """``items`` without repeats; a repeat is reported on stderr as a note."""
    kept, repeated = unique(items)
    if repeated:
        shown = ", ".join(terminal_text(r) for r in repeated)
        print(f"xlr: note: repeated {what} used once: {shown}", file=sys.stderr)
    return list(kept)


OUTPUT_FLAGS = ("json", "csv", "markdown")  # argparse dests of output files, checked before any work


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--dataset",
        required=True,
        help=f"named data set ({', '.join(DATASETS)}) or a path",
    )
    p.add_argument(
        "--lenient",
        action="store_true",
        help="skip bad lines of a JSONL file and report them",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="embedding cache (default $XLR_CACHE_DIR)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument(
        "--scoring",
        choices=SCORING_METHODS,
        default="cosine",
        help="scoring rule (default cosine)",
    )
    p.add_argument(
        "--scoring-k",
        type=int,
        default=10,
        help="neighbourhood size for CSLS/margin (default 10)",
    )
    p.add_argument(
        "--text-field",
        choices=("text", "title+text"),
        default="text",
        help="what is encoded (default text)",
    )
    add_api_flags(p)
    add_runtime_flags(p)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m xlr", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    ev = sub.add_parser("eval", help="recall@k / MRR table of one or more encoders")
    _add_common(ev)
    ev.add_argument("--model", action="append", required=True, help="encoder name (repeatable)")
    ev.add_argument("--k", type=int, nargs="+", default=[1, 5, 10], help="k values (default 1 5 10)")
    dirs = ev.add_mutually_exclusive_group()
    dirs.add_argument(
        "--directions",
        help="comma-separated, e.g. ar-en,zh-en (default: every language -> en)",
    )
    dirs.add_argument("--all-directions", action="store_true", help="every ordered language pair")
    ev.add_argument(
        "--first",
        type=int,
        default=None,
        help="keep the first N linked ids (seed protocol: 1000)",
    )
    ev.add_argument(
        "--pool",
        choices=("direction", "all"),
        default="direction",
        help="all: also rank every language's documents at once and print the same-language bias per source",
    )
    ev.add_argument("--pool-gold", choices=GOLD_MODES, default="target", help="mixed pool gold: target or any linked")
    ev.add_argument("--json", type=Path, help="write rows + manifest as JSON")
    ev.add_argument("--csv", type=Path, help="write the tidy table as CSV")
    cli_strategies.add_eval_flags(ev)  # --query-pool/--query-langs/--map-n (query sets)
    ev.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (default) or ray: encode on Ray actors, rank pool shards as Ray tasks (docs/cluster.md)",
    )
    ev.add_argument(
        "--ray-address",
        default=None,
        help="Ray cluster to join (e.g. auto, ray://head:10001); default: a local Ray on 2 CPUs",
    )

    se = sub.add_parser("search", help="top-k documents for a typed query")
    _add_common(se)
    se.add_argument("--model", required=True)
    se.add_argument(
        "--lang",
        action="append",
        required=True,
        help="language(s) to search in (repeatable)",
    )
    se.add_argument(
        "--query-lang",
        default=None,
        help="language of the query (reference set for CSLS/margin)",
    )
    se.add_argument("--k", type=int, default=10)
    se.add_argument("query", help="the query text")

    cli_strategies.add_commands(sub, _add_common)  # compare, strategies, finetune
    sub.add_parser("datasets", help="list the named data sets")
    sub.add_parser("models", help="list the named encoders")
    return parser


def _cmd_eval(args: argparse.Namespace) -> int:
    if args.ray_address and args.engine != "ray":
        raise ValueError("--ray-address needs --engine ray")
    if args.engine == "ray":
        require_ray()  # before any work: one sentence if Ray is missing
    if args.directions:
        _unique(
            "direction",
            (d.label for part in args.directions.split(",") if part.strip() for d in parse_directions(part)),
        )
    if args.query_pool:
        if args.engine != "local":
            raise ValueError("--query-pool runs on the local engine only; leave out --engine ray")
        return cli_strategies.cmd_eval_queries(args, _load, _progress_factory)
    progress = _progress_factory(not args.no_progress)
    data = _load(args)
    corpus = data.corpus
    if corpus.report is not None and (corpus.report.skipped or corpus.report.unlinked):
        print(f"xlr: note: {terminal_text(corpus.report.summary())}", file=sys.stderr)
    if args.directions:
        directions = parse_directions(args.directions, corpus)
    elif args.all_directions:
        directions = all_directions(corpus)
    else:
        directions = default_directions(corpus)
    spec = EvalSpec(
        directions=directions,
        ks=tuple(args.k),
        first=args.first,
        scoring=ScoringSpec(args.scoring, args.scoring_k),
        text_field=args.text_field,
    )
    cache = EmbeddingCache(args.cache_dir)
    encoders = [load_with_runtime(name, args, api=api_settings(args)) for name in args.model]
    for enc in encoders:  # what an API run will send and cost, said before anything is sent
        if isinstance(enc, OpenAIEncoder):
            prices = {enc.model: args.api_price} if args.api_price is not None else None
            est = estimate_cost(
                enc.identity.name,
                enc.model,
                texts_to_encode(corpus, spec, enc),
                local=enc.endpoint.is_local,
                prices=prices,
            )
            print(f"xlr: {terminal_text(est.sentence())}; texts already cached are not sent", file=sys.stderr)
            est.check(args.api_max_cost)
    results, runs = [], []
    ray_spec = RaySpec(address=args.ray_address)
    with ray_session(ray_spec) if args.engine == "ray" else contextlib.nullcontext():
        for name, enc in zip(args.model, encoders):
            if args.engine == "ray":
                res, enc, stats = evaluate_ray(corpus, name, cache, spec, ray_spec, progress=progress, encoder=enc)
            else:
                emb = CorpusEmbeddings(corpus, enc, cache, text_field=spec.text_field, progress=progress)
                res, stats = evaluate(corpus, emb, spec), emb.stats
            results.extend(res)
            runs.append((enc, stats))
    table = results_table(results, spec.ks)
    manifest = build_manifest(data, spec, runs, results)
    manifest["engine"] = {"name": args.engine} | ({"ray_address": args.ray_address} if args.ray_address else {})
    flags = unsupported_map([e.identity.name for e in encoders], spec.directions)
    manifest["unsupported_languages"] = flags
    manifest["api_usage"] = {
        e.identity.name: {"requests": e.requests, "tokens_reported": e.usage_tokens}
        for e in encoders
        if isinstance(e, OpenAIEncoder)
    }
    wide = flag_table(wide_table(table), {model_label(e.identity.name, spec): e.identity.name for e in encoders}, flags)
    shown = terminal_frame(wide)
    with_pd_options(lambda: print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}")))
    for note in unsupported_notes(flags):
        print(f"note: {terminal_text(note)}")
    for enc, stats in runs:
        billed = f", {enc.usage_tokens:,} tokens reported by the server" if isinstance(enc, OpenAIEncoder) else ""
        print(
            f"{terminal_text(enc.identity.name)}: {stats.summary()}{billed}",
            file=sys.stderr,
        )
    if args.pool == "all":
        mixed = [
            r
            for enc in encoders
            for r in evaluate_mixed(
                corpus,
                CorpusEmbeddings(corpus, enc, cache, text_field=spec.text_field, progress=progress),
                directions,
                first=args.first,
                gold=args.pool_gold,
            )
        ]
        print("\nMixed-language pool (every language's documents of the linked ids; query left out):")
        with_pd_options(
            lambda: print(
                terminal_frame(mixed_pool_table(mixed, spec.ks)).to_string(
                    index=False, float_format=lambda v: f"{v:.3f}"
                )
            )
        )
    if args.json:
        args.output_plan.stage(args.json, results_json(table, manifest, results))
    if args.csv:
        args.output_plan.stage(args.csv, results_csv(table))
    return 0


def with_pd_options(fn) -> None:
    import pandas as pd

    with pd.option_context("display.width", 200, "display.max_rows", 500, "display.max_columns", 20):
        fn()


def _cmd_search(args: argparse.Namespace) -> int:
    data = _load(args)
    enc = load_with_runtime(args.model, args, api=api_settings(args))
    emb = CorpusEmbeddings(
        data.corpus,
        enc,
        EmbeddingCache(args.cache_dir),
        text_field=args.text_field,
        progress=_progress_factory(not args.no_progress),
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
        snippet = " ".join(d.text.split())[:100]
        title = f"{d.title} | " if d.title else ""
        print(terminal_text(f"{hit.rank:>3}  {hit.score:.4f}  {d.lang}  {d.id}  {title}{snippet}"))
    print(f"{terminal_text(res.model)}: {res.seconds * 1000:.1f} ms", file=sys.stderr)
    return 0


def _cmd_datasets() -> int:
    root = data_dir()
    print(f"data directory: {root}")
    for spec in DATASETS.values():
        have = sum((root / f.relpath).is_file() for f in spec.files)
        state = "present" if have == len(spec.files) else f"{have}/{len(spec.files)} files"
        print(f"{spec.name:10} [{state}] {spec.description}")
    return 0


def _cmd_models() -> int:
    for line in catalogue_lines():
        print(line)
    return 0


def _dispatch(args: argparse.Namespace) -> int:
    for flag in ("model", "k", "lang", "metric"):  # repeatable options of every command: each value once
        if isinstance(getattr(args, flag, None), list):
            setattr(args, flag, _unique(f"--{flag}", getattr(args, flag)))
    if args.command == "eval":
        return _cmd_eval(args)
    if args.command == "search":
        return _cmd_search(args)
    if args.command in cli_strategies.COMMANDS:
        return cli_strategies.run(args, _load, _progress_factory)
    if args.command == "datasets":
        return _cmd_datasets()
    return _cmd_models()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    one_line_warnings()
    try:
        args.output_plan = OutputPlan({f"--{f}": getattr(args, f, None) for f in OUTPUT_FLAGS})
        args.output_plan.refuse_inputs(
            [p for p in (getattr(args, "baseline", None), getattr(args, "candidate", None)) if p is not None]
        )
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
