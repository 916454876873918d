"""``xlr eval``: the recall@k / MRR table of one or more encoders (or of a data set's questions).

Reads the command line, calls :mod:`xlr`, prints and stages the outputs; nothing is computed here.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from xlr.cli.api_options import api_settings
from xlr.cli.options import (
    add_common,
    add_directions,
    directions_from,
    encoding_progress,
    first_ids,
    load_data,
    note,
    print_table,
    unique_noted,
)
from xlr.cli.runtime import load_with_runtime, runtime_from
from xlr.data.unique import unique
from xlr.encoders.api import OpenAIEncoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.catalogue import card
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.engines.ray_engine import RaySpec, evaluate_ray, ray_session, require_ray
from xlr.report.mteb_results import TASK_OF_DATASET, published_table, read_mteb_results
from xlr.report.results import build_manifest, relevance, results_csv, results_json
from xlr.report.sanitize import terminal_text
from xlr.report.summary import summary_text
from xlr.report.support import flag_table, run_facts, unsupported_notes
from xlr.retrieval.bitext import bitext_table
from xlr.retrieval.directions import parse_directions
from xlr.retrieval.encode_plan import api_cost_estimates
from xlr.retrieval.evaluate import EvalSpec, evaluate, model_label, vector_calibration, wide_table
from xlr.retrieval.metrics import metric_names
from xlr.retrieval.mixed_pool import GOLD_MODES, evaluate_mixed, mixed_pool_table
from xlr.retrieval.quantized import VECTOR_PRECISIONS, VectorSpec
from xlr.retrieval.question_sets import QuerySpec, evaluate_queries, queries_table
from xlr.retrieval.results import EvalResults
from xlr.retrieval.scoring import ScoringSpec

__all__ = ["add_eval_command", "cmd_eval"]


def add_eval_command(sub: Any) -> None:
    ev = sub.add_parser("eval", help="recall@k / MRR table of one or more encoders")
    add_common(ev)
    ev.add_argument("--model", action="append", required=True, help="encoder name (repeatable)")
    ev.add_argument("--k", type=int, nargs="+", default=[1, 5, 10], help="k values (default 1 5 10)")
    add_directions(ev)
    which = ev.add_mutually_exclusive_group()
    which.add_argument(
        "--first", type=first_ids, default=None, help="keep the first N linked ids (0 = all; seed protocol: 1000)"
    )
    which.add_argument(
        "--sample",
        type=int,
        default=None,
        metavar="N",
        help="N linked ids per direction drawn at random (with --sample-seed; said in the manifest and caption)",
    )
    ev.add_argument("--sample-seed", type=int, default=0, help="seed of --sample (default 0)")
    ev.add_argument(
        "--pool",
        choices=("direction", "all"),
        default="direction",
        help="all: also rank every language's documents at once and print the same-language bias per source",
    )
    ev.add_argument("--pool-gold", choices=GOLD_MODES, default="target", help="mixed pool gold: target or any linked")
    ev.add_argument("--json", type=Path, help="write rows + manifest as JSON")
    ev.add_argument("--csv", type=Path, help="write the tidy table as CSV")
    ev.add_argument(
        "--summary",
        action="store_true",
        help="print each language's marginals (as query, as document) and the worst directions instead of "
        "one row per direction (the full table still goes to --json/--csv)",
    )
    ev.add_argument("--worst", type=int, default=10, help="directions listed by --summary (default 10)")
    ev.add_argument(
        "--pairwise",
        action="store_true",
        help="one score product per language pair serves both directions (cosine, symmetric encoders; "
        "the reverse direction equals the per-direction kernel up to near-ties within BLAS rounding)",
    )
    ev.add_argument(
        "--bitext",
        action="store_true",
        help="also MTEB's bitext mining scores: accuracy, precision, recall and F1 of top-1 cosine mining "
        "(xlr.retrieval.bitext; the source language is MTEB's sentence1)",
    )
    ev.add_argument(
        "--mteb-results",
        type=Path,
        default=None,
        help="folder or JSON file of embeddings-benchmark/results: print the published MTEB figures of each "
        "encoder and direction beside the measured ones (task, dataset revision and MTEB version stated)",
    )
    ev.add_argument("--mteb-task", default=None, help="MTEB task of --mteb-results (default: from the data set)")
    ev.add_argument("--trec-run", type=Path, help="write a TREC run (ranx, ir_measures, trec_eval; one --model)")
    ev.add_argument("--trec-qrels", type=Path, help="write the TREC qrels of the run (the gold of each query)")
    ev.add_argument(
        "--mteb-json",
        type=Path,
        help="write MTEB's result JSON (bitext mining; with --bitext it holds MTEB's F1; one --model)",
    )
    ev.add_argument(
        "--query-pool",
        default=None,
        help="evaluate the data set's questions (XQuAD) against the paragraphs of this language, "
        "or 'all' (every language; any paragraph with the gold id is relevant)",
    )
    ev.add_argument("--query-langs", default=None, help="question languages, comma-separated (default all)")
    ev.add_argument("--map-n", type=int, default=20, help="cut-off of mAP for query sets (default 20)")
    ev.add_argument(
        "--vectors",
        choices=VECTOR_PRECISIONS,
        default="float32",
        help="store and rank the vectors as float32 (default), calibrated int8, ubinary (Hamming) or cbinary "
        "(Hamming of bits centred on the pool mean); "
        "quantized after encoding (docs/encoding.md)",
    )
    ev.add_argument(
        "--rescore",
        type=int,
        default=0,
        help="with int8/ubinary/cbinary vectors: rescore the N best candidates with the float32 query (default 0: off)",
    )
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


def cmd_eval(args: argparse.Namespace) -> int:
    if args.ray_address and args.engine != "ray":
        raise ValueError("--ray-address needs --engine ray")
    if args.worst < 1:
        raise ValueError(f"--worst must be a positive number of directions, got {args.worst}")
    if args.pairwise and args.engine != "local":
        raise ValueError("--pairwise runs on the local engine only; leave out --engine ray")
    if args.engine == "ray":
        require_ray()  # before any work: one sentence if Ray is missing
    if args.directions:
        unique_noted(
            "direction", (d.label for p in args.directions.split(",") if p.strip() for d in parse_directions(p))
        )
    for flag, value in (("--trec-run", args.trec_run), ("--mteb-json", args.mteb_json)):
        if value is not None and len(args.model) != 1:
            raise ValueError(f"{flag} writes one encoder's results: give one --model")
    if args.vectors != "float32" and (args.query_pool or args.pool == "all"):
        raise ValueError(
            "--vectors int8/ubinary/cbinary applies to the directions' pools, not to --query-pool or --pool all"
        )
    if args.query_pool:
        if any(v is not None for v in (args.trec_run, args.trec_qrels, args.mteb_json)):
            raise ValueError("--trec-run, --trec-qrels and --mteb-json apply to directions, not to --query-pool")
        if args.engine != "local":
            raise ValueError("--query-pool runs on the local engine only; leave out --engine ray")
        return _cmd_eval_queries(args)
    progress = encoding_progress(not args.no_progress)
    data = load_data(args)
    corpus = data.corpus
    spec = EvalSpec(
        directions=directions_from(args, corpus),
        ks=tuple(args.k),
        first=args.sample if args.sample is not None else args.first,
        scoring=ScoringSpec(args.scoring, args.scoring_k),
        text_field=args.text_field,
        vectors=VectorSpec(args.vectors, args.rescore),
        seed=args.sample_seed if args.sample is not None else None,
    )
    if spec.vectors.precision != "float32" and args.engine != "local":
        raise ValueError("--vectors int8/ubinary/cbinary runs on the local engine only; leave out --engine ray")
    cache = EmbeddingCache(args.cache_dir)
    encoders = [load_with_runtime(name, args, api=api_settings(args)) for name in args.model]
    for est in api_cost_estimates(corpus, spec, encoders, price=args.api_price):  # said before anything is sent
        print(f"xlr: {terminal_text(est.sentence())}; texts already cached are not sent", file=sys.stderr)
        est.check(args.api_max_cost)
    joined: EvalResults | None = None
    runs, vector_facts = [], []
    mined: list[pd.DataFrame] = []
    ray_spec = RaySpec(address=args.ray_address)
    with ray_session(ray_spec) if args.engine == "ray" else contextlib.nullcontext():
        for name, enc in zip(args.model, encoders):
            if args.engine == "ray":
                res, enc, stats = evaluate_ray(
                    corpus,
                    name,
                    cache,
                    spec,
                    ray_spec,
                    progress=progress,
                    encoder=enc,
                    runtime=runtime_from(args),
                    api=api_settings(args),
                )
            else:
                emb = CorpusEmbeddings(corpus, enc, cache, text_field=spec.text_field, progress=progress)
                res, stats = evaluate(corpus, emb, spec, pairwise=args.pairwise), emb.stats
                if spec.vectors.precision != "float32":
                    vector_facts.append(_vector_facts(corpus, emb, spec))
            joined = res if joined is None else joined + res
            runs.append((enc, stats))
            if args.bitext:
                mined.append(_bitext_rows(corpus, enc, cache, spec))
    assert joined is not None  # --model is required
    table = joined.to_frame("long")
    facts = run_facts(encoders, spec.directions, engine=args.engine, ray_address=args.ray_address)
    if vector_facts:
        facts["vectors"] = vector_facts
    bitext = pd.concat(mined, ignore_index=True) if mined else None
    if bitext is not None:
        table = pd.concat([table, bitext], ignore_index=True)
        facts["bitext"] = {
            "mirrors": "mteb/evaluation/evaluators/BitextMiningEvaluator.py (top-1 cosine, sklearn weighted averages)",
            "ties": "pessimistic: a document tied with the gold is the prediction",
            "rows": bitext.to_dict("records"),
        }
    published = _published(args, data.name, encoders, spec) if args.mteb_results is not None else None
    if published is not None:
        facts["published"] = published.to_dict("records")
    results = dataclasses.replace(joined, manifest=build_manifest(data, spec, runs, joined, extra=facts))
    flags = facts["unsupported_languages"]
    labels = {model_label(e.identity.label, spec): e.identity.name for e in encoders}
    print(f"{terminal_text(data.name)}: {spec.sampling} per direction")
    if args.summary:
        print(summary_text(results, table, metric_names(spec.ks)[0], worst=args.worst), end="")
    else:
        print_table(flag_table(results.to_frame("wide"), labels, flags))
    if published is not None:
        if published.empty:
            note(f"no published figure in {args.mteb_results} for these encoders and directions")
        else:
            print("\nPublished (MTEB results repository; source = MTEB's sentence1):")
            print_table(published)
    if bitext is not None:
        print("\nMTEB bitext mining (source = MTEB's sentence1; F1 is MTEB's headline score):")
        print_table(wide_table(bitext))
    for line in unsupported_notes(flags):
        print(f"note: {terminal_text(line)}")
    for enc, stats in runs:
        billed = f", {enc.usage_tokens:,} tokens reported by the server" if isinstance(enc, OpenAIEncoder) else ""
        print(f"{terminal_text(enc.identity.name)}: {stats.summary()}{billed}", file=sys.stderr)
    if args.pool == "all":
        mixed = [
            r
            for enc in encoders
            for r in evaluate_mixed(
                corpus,
                CorpusEmbeddings(corpus, enc, cache, text_field=spec.text_field, progress=progress),
                spec.directions,
                first=spec.first,
                gold=args.pool_gold,
                random_state=spec.seed,
            )
        ]
        print("\nMixed-language pool (every language's documents of the linked ids; query left out):")
        print_table(mixed_pool_table(mixed, spec.ks))
    if args.json:
        args.output_plan.stage(args.json, results.to_json())
    if args.csv:
        args.output_plan.stage(args.csv, results_csv(table))
    if args.trec_run:
        args.output_plan.stage(args.trec_run, results.to_trec_run())
    if args.trec_qrels:
        args.output_plan.stage(args.trec_qrels, results.to_trec_qrels())
    if args.mteb_json:
        task = args.mteb_task or ("Tatoeba" if data.name.startswith("tatoeba") else data.name)
        args.output_plan.stage(args.mteb_json, results.to_mteb_json(task_name=task, bitext_scores=bitext))
    return 0


def _vector_facts(corpus: Any, emb: CorpusEmbeddings, spec: EvalSpec) -> dict[str, Any]:
    """The manifest entry of quantized vectors: precision, rescore, bytes per vector, calibration hash, key."""
    from xlr.retrieval.code_cache import codes_key
    from xlr.retrieval.quantized import bytes_per_vector, quantized_key

    ident = emb.encoder.identity
    cal = vector_calibration(corpus, emb, spec)
    out: dict[str, Any] = {
        "encoder": ident.name,
        "precision": spec.vectors.precision,
        "rescore": spec.vectors.rescore,
        "bytes_per_vector": bytes_per_vector(spec.vectors.precision, ident.dim),
        "calibration": "pool documents of every direction (document role)" if cal is not None else None,
        "calibration_sha256": cal.data_sha256 if cal is not None else None,
        "key": quantized_key(ident.cache_key("document"), spec.vectors, cal),
        "codes": codes_key(ident, spec.vectors.precision, cal),  # the cache folder of the stored codes
    }
    return out


def _published(args: argparse.Namespace, dataset: str, encoders: list[Any], spec: EvalSpec) -> pd.DataFrame:
    """The published figures of ``--mteb-results`` for the run's encoders (by hub id) and directions."""
    task = args.mteb_task or TASK_OF_DATASET.get(dataset.lower())
    figures = read_mteb_results(args.mteb_results, task=task)
    hubs: dict[str, list[str]] = {}
    for enc in encoders:
        name = enc.identity.name
        c = card(name)
        hubs[name] = [name.removeprefix("st:")] + ([c.model] if c is not None else [])
    return published_table(figures, hubs, [(d.source, d.target) for d in spec.directions])


def _bitext_rows(corpus: Any, enc: Any, cache: EmbeddingCache, spec: EvalSpec) -> pd.DataFrame:
    """MTEB's bitext scores of every direction from the cached vectors (float32, cosine: MTEB's protocol)."""
    if spec.scoring.method != "cosine":
        raise ValueError("--bitext mines by cosine, as MTEB does; leave out --scoring")
    emb = CorpusEmbeddings(corpus, enc, cache, text_field=spec.text_field)
    label = model_label(enc.identity.name, spec)
    return bitext_table(corpus, emb.vectors, spec.directions, label, first=spec.first, random_state=spec.seed)


def _cmd_eval_queries(args: argparse.Namespace) -> int:
    """``eval --query-pool``: recall@k, MRR and mAP@n of the questions of the data set."""
    flags = (
        ("--directions", args.directions),
        ("--all-directions", args.all_directions),
        ("--first", args.first),
        ("--summary", args.summary),
        ("--pairwise", args.pairwise),
        ("--bitext", args.bitext),
        ("--sample", args.sample),
    )
    given = [flag for flag, value in flags if value not in (None, False)]
    if given:
        raise ValueError(f"{', '.join(given)} do not apply to --query-pool (use --query-langs)")
    data = load_data(args)
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
        progress = encoding_progress(not args.no_progress)
        emb = CorpusEmbeddings(data.corpus, enc, cache, text_field=spec.text_field, progress=progress)
        results.extend(evaluate_queries(data.corpus, data.queries, emb, spec))
        runs.append((enc, emb.stats))
    table = queries_table(results, spec)
    print(
        terminal_text(f"questions of {data.queries.name} -> paragraphs of pool {spec.pool!r}; relevant: ")
        + terminal_text(relevance(spec))
    )
    print_table(wide_table(table))
    dropped = {r.direction.label: r.n_dropped for r in results if r.n_dropped}
    if dropped:
        note(f"questions without a paragraph in the pool were dropped: {dropped}")
    if args.json:
        args.output_plan.stage(args.json, results_json(table, build_manifest(data, spec, runs, results), results))
    if args.csv:
        args.output_plan.stage(args.csv, results_csv(table, columns=None))
    return 0
