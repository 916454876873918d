"""Option groups shared by the commands, and the small pieces every command uses.

Each option is declared once here (data set, scoring, directions, split, significance, query
sets, outputs); the commands in :mod:`xlr.cli.evaluate`, :mod:`xlr.cli.strategies` and
:mod:`xlr.cli.main` combine them.  Nothing here computes: it reads the command line and calls
:mod:`xlr`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from xlr.cli.api_options import add_api_flags
from xlr.cli.runtime import add_runtime_flags
from xlr.data.registry import DATASETS, LoadedDataset, resolve_dataset
from xlr.data.unique import unique
from xlr.encoders.cache import default_cache_dir
from xlr.paths import user_path
from xlr.report.outputs import model_folders
from xlr.report.sanitize import terminal_text
from xlr.report.text import format_frame
from xlr.retrieval.directions import Direction, choose_directions
from xlr.retrieval.scoring import SCORING_METHODS
from xlr.stats.compare import DEFAULT_METRICS

__all__ = [
    "OUTPUT_FLAGS",
    "add_common",
    "add_data_flags",
    "add_directions",
    "add_significance",
    "add_split",
    "bounded_int",
    "directions_from",
    "download_progress",
    "encoding_progress",
    "load_data",
    "metrics_from",
    "note",
    "print_table",
    "run_inputs",
    "unique_noted",
]

OUTPUT_FLAGS = (
    "json",
    "csv",
    "markdown",
    "trec_run",
    "trec_qrels",
    "mteb_json",
    "translations_out",
)  # argparse dests of output files, checked before any work


def first_ids(text: str) -> int | None:
    """``--first N``: a whole number >= 0; ``0`` means all ids (``None``), as the dashboard's "0 = all"."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number (0 = all ids), got {text!r}") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (all ids) or more, got {n}")
    return n or None


def add_data_flags(p: argparse.ArgumentParser) -> None:
    """``--dataset``, ``--lenient``, ``--cache-dir``, ``--no-progress``."""
    p.add_argument("--dataset", required=True, help=f"named data set ({', '.join(DATASETS)}) or a path")
    p.add_argument(
        "--languages",
        default=None,
        help="comma-separated languages to load, in any form (sw, swh, zho-CN), or 'all' "
        "(default: the data set's default selection; tatoeba: ar, zh, de, el, fr)",
    )
    p.add_argument(
        "--pattern",
        default=None,
        help=r"line-aligned folder: regex on file names with a group 'lang', e.g. 'newstest2019-ref\.(?P<lang>.+)\.txt'",
    )
    p.add_argument("--lenient", action="store_true", help="skip bad lines of a JSONL file and report them")
    p.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (default $XLR_CACHE_DIR)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def add_common(p: argparse.ArgumentParser) -> None:
    """The data set, scoring, text field, API and runtime options of every encoding command."""
    add_data_flags(p)
    p.add_argument("--scoring", choices=SCORING_METHODS, default="cosine", help="scoring rule (default cosine)")
    p.add_argument("--scoring-k", type=int, default=10, help="neighbourhood size for CSLS/margin (default 10)")
    p.add_argument(
        "--text-field", choices=("text", "title+text"), default="text", help="what is encoded (default text)"
    )
    add_api_flags(p)
    add_runtime_flags(p)


def add_directions(p: argparse.ArgumentParser) -> None:
    """``--directions ar-en,zh-en`` or ``--all-directions`` (default: every language -> en)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--directions", help="comma-separated, e.g. ar-en,zh-en (default: every language -> en)")
    g.add_argument("--all-directions", action="store_true", help="every ordered language pair")


def add_split(p: argparse.ArgumentParser) -> None:
    """Which ids are evaluated (the rest is what strategies fit on)."""
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--eval-first",
        type=int,
        default=None,
        help="evaluate the first N linked ids of each direction, fit on the rest "
        "(default: half of the smallest direction when something is fitted)",
    )
    g.add_argument("--eval-ids", type=Path, default=None, help="file with the ids to evaluate, one a line")
    g.add_argument("--eval-all", action="store_true", help="evaluate every linked id (nothing left to fit on)")


def add_significance(p: argparse.ArgumentParser, metric_help: str = "") -> None:
    """``--metric``, ``--alpha``, ``--seed``, ``--resamples`` of the paired tests (``metric_help``: the
    ``--metric`` help of a command that reads it differently, e.g. one metric only)."""
    p.add_argument(
        "--metric",
        action="append",
        default=None,
        help=metric_help or f"metric to test (repeatable; default {' and '.join(DEFAULT_METRICS)})",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm (default 0.05)")
    p.add_argument("--seed", type=int, default=0, help="random seed of bootstrap and permutation (default 0)")
    p.add_argument(
        "--resamples",
        type=bounded_int("--resamples", 1, MAX_RESAMPLES),
        default=10_000,
        help=f"bootstrap/permutation resamples (default 10000, at most {MAX_RESAMPLES:,})",
    )


MAX_RESAMPLES = 1_000_000  # a million resamples of 10,000 queries is already minutes; 1e11 would never end


def bounded_int(flag: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer from ``low`` to ``high``, else one sentence naming the flag's value."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is not an integer from {low:,} to {high:,}")
        return value

    parse.__name__ = flag  # argparse names the type in "invalid <name> value" messages
    return parse


def metrics_from(args: argparse.Namespace) -> tuple[str, ...]:
    return tuple(args.metric) if args.metric else DEFAULT_METRICS


def directions_from(args: argparse.Namespace, corpus: Any) -> tuple[Direction, ...]:
    return choose_directions(corpus, args.directions, every_pair=args.all_directions)


def note(text: str) -> None:
    """``xlr: note: ...`` on stderr, escaped for the terminal."""
    print(f"xlr: note: {terminal_text(text)}", file=sys.stderr)


def unique_noted(what: str, items: Iterable[Any]) -> list[Any]:
    """``items`` without repeats; a repeat is reported on stderr as a note."""
    kept, repeated = unique(items)
    if repeated:
        note(f"repeated {what} used once: {', '.join(str(r) for r in repeated)}")
    return list(kept)


def print_table(frame: Any) -> None:
    print(format_frame(frame))


def _models(args: argparse.Namespace) -> list[str]:
    """Every encoder name of the command line: ``--model`` (one or several) and ``--candidate-model``."""
    model = getattr(args, "model", None)
    names = model if isinstance(model, list) else [model or ""]
    return [*names, *(getattr(args, "candidate_model", None) or [])]


def run_inputs(args: argparse.Namespace) -> tuple[list[Path], list[Path]]:
    """``(files, folders)`` the command line names as inputs, known before any work: the data set
    path, ``--eval-ids``, ``--baseline``/``--candidate``, local ``st:`` model folders (base, several,
    candidates) and the embedding cache.  No output may be one of them or inside one."""
    files = [user_path(p) for p in (getattr(args, f, None) for f in ("baseline", "candidate", "eval_ids")) if p]
    folders = list(model_folders(_models(args)))
    dataset = getattr(args, "dataset", None)
    if dataset and dataset not in DATASETS:
        path = user_path(dataset)
        (folders if path.is_dir() else files).append(path)
    if hasattr(args, "cache_dir"):
        folders.append(user_path(args.cache_dir) if args.cache_dir is not None else default_cache_dir())
    return files, folders


def load_data(args: argparse.Namespace) -> LoadedDataset:
    """Load ``--dataset``; then refuse any output that is one of its files or inside a local model folder."""
    data = resolve_dataset(
        args.dataset,
        lenient=args.lenient,
        progress=download_progress(not args.no_progress),
        languages=getattr(args, "languages", None),
        pattern=getattr(args, "pattern", None),
    )
    args.output_plan.refuse_inputs(data.files, model_folders(_models(args)))
    report = data.corpus.report
    if report is not None and (report.skipped or report.unlinked):
        note(report.summary())
    return data


def encoding_progress(enabled: bool) -> Callable[[int, int], None] | None:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr (a new bar per request);
    ``None`` without tqdm (``pip install xlr[cli]``)."""
    if not enabled or importlib.util.find_spec("tqdm") is None:
        return None
    from tqdm import tqdm

    bars: list[Any] = []

    def progress(done: int, total: int) -> None:
        bar = bars[0] if bars else None
        if bar is None or bar.total != total or done < bar.n:
            if bar is not None:
                bar.close()
            bars[:] = [tqdm(total=total, desc="encoding", unit="text", file=sys.stderr, leave=False)]
            bar = bars[0]
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            bars.clear()

    return progress


def download_progress(enabled: bool) -> Callable[[int, int | None], None] | None:
    """A ``progress(bytes_done, total_or_None)`` callback for data set downloads (``None`` without tqdm)."""
    if not enabled or importlib.util.find_spec("tqdm") is None:
        return None
    from tqdm import tqdm

    bars: list[Any] = []

    def progress(done: int, total: int | None) -> None:
        if not bars:
            bars.append(tqdm(total=total, desc="downloading", unit="B", unit_scale=True, file=sys.stderr))
        bars[0].update(done - bars[0].n)

    return progress
