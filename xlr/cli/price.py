"""``xlr price``: what a speed-up costs per direction and per language (one encoder, two settings).

Reads the command line, calls :func:`xlr.report.price.price_of_speed`, prints and stages the outputs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from xlr.cli.options import (
    add_common,
    add_directions,
    add_significance,
    directions_from,
    first_ids,
    load_data,
    print_table,
)
from xlr.encoders.base import Encoder
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.device import Runtime, apply_runtime
from xlr.encoders.registry import load_encoder
from xlr.report.price import Setting, price_of_speed, speed_table
from xlr.report.sanitize import terminal_text
from xlr.retrieval.evaluate import EvalSpec
from xlr.retrieval.scoring import ScoringSpec

__all__ = ["add_price_command", "cmd_price"]


def add_price_command(sub: Any) -> None:
    p = sub.add_parser("price", help="the price of a speed-up per language: one encoder at two settings")
    add_common(p)
    p.add_argument("--model", required=True, help="encoder name (a sentence-transformers model for other backends)")
    p.add_argument(
        "--baseline-setting",
        type=Setting.parse,
        default=Setting(),
        help="backend/precision[/vectors[/rescoreN]] (default torch/fp32)",
    )
    p.add_argument(
        "--candidate-setting",
        type=Setting.parse,
        required=True,
        help="e.g. onnx/int8, openvino/int8, torch/fp32/int8, torch/fp32/ubinary/rescore40",
    )
    add_directions(p)
    p.add_argument("--first", type=first_ids, default=None, help="keep the first N linked ids (0 = all)")
    add_significance(p, "one metric to test (default recall@1), e.g. mrr or recall@10")
    p.add_argument("--timing-texts", type=int, default=200, help="texts timed per setting (default 200)")
    p.add_argument("--json", type=Path, help="write the sentence, the tables and the speed as JSON")


def cmd_price(args: argparse.Namespace) -> int:
    if args.backend is not None or args.precision is not None:
        raise ValueError(
            "xlr price takes the backend and precision in --baseline-setting and --candidate-setting, not --backend"
        )
    if args.timing_texts < 1:
        raise ValueError(f"--timing-texts must be >= 1, got {args.timing_texts}")
    metrics = args.metric or ["recall@1"]
    if len(metrics) != 1:
        raise ValueError("xlr price tests one --metric at a time")
    data = load_data(args)
    spec = EvalSpec(
        directions=directions_from(args, data.corpus),
        ks=(1, 5, 10),
        first=args.first,
        scoring=ScoringSpec(args.scoring, args.scoring_k),
        text_field=args.text_field,
    )

    def make(setting: Setting) -> Encoder:
        runtime = Runtime.from_options(args.device, setting.precision, args.encode_batch_size, setting.backend)
        enc = apply_runtime(load_encoder(args.model), runtime)
        if args.cache_dir is not None and hasattr(enc, "export_root"):
            enc.export_root = args.cache_dir.expanduser() / "models"
        return enc

    report = price_of_speed(
        data.corpus,
        make,
        spec,
        args.baseline_setting,
        args.candidate_setting,
        EmbeddingCache(args.cache_dir),
        metric=metrics[0],
        alpha=args.alpha,
        n_resamples=args.resamples,
        random_state=args.seed,
        timing_texts=args.timing_texts,
    )
    print(terminal_text(report.sentence() + "."))
    print(f"\nPer direction ({report.metric}; delta = {report.candidate} - {report.baseline}; Holm):")
    print_table(report.directions.round(4))
    print("\nPer language (mean delta over its directions; the worst one and its verdict):")
    print_table(report.marginals.round(4))
    table = speed_table(report)
    if report.speed[0].texts:
        print(f"\nSpeed (texts/s on {report.speed[0].texts} uncached texts, best of 2) and memory:")
    else:
        print("\nMemory (one engine at both settings, only the stored vectors differ: speed not timed):")
        table = table.drop(columns=["texts/s", "speed ratio"])
    print_table(table.astype(object).where(table.notna(), "unknown"))
    if args.json:
        doc = {
            "baseline": report.baseline,
            "candidate": report.candidate,
            "metric": report.metric,
            "sentence": report.sentence(),
            "directions": report.directions.to_dict(orient="records"),
            "marginals": report.marginals.to_dict(orient="records"),
            "speed": speed_table(report).to_dict(orient="records"),
        }
        args.output_plan.stage(args.json, json.dumps(doc, indent=1, default=str))
    return 0
