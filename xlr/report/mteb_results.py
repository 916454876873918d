"""Published figures from MTEB's results repository (embeddings-benchmark/results), beside measured ones.

Reads the repository's own layout, a folder (any depth) or JSON files::

    results/<org>__<model>/<model revision>/<Task>.json      (+ model_meta.json with "name")

Two task-file layouts are understood:

* mteb >= 1.11: ``{"task_name", "dataset_revision", "mteb_version", "scores": {"<split>": [{"hf_subset":
  "ara-eng", "languages": ["ara-Arab", "eng-Latn"], "accuracy", "f1", "precision", "recall", "main_score",
  "mteb_version"?}, ...]}}`` (a score's own ``mteb_version`` wins over the file's range ``"1.36.32-1.39.7"``);
* older: ``{"mteb_dataset_name", "dataset_revision", "mteb_version", "<split>": {"ara-eng": {...}, ...}}``.

Each score becomes one :class:`PublishedFigure` per metric.  Pair convention (bitext tasks): the first language
of ``hf_subset`` is MTEB's ``sentence1``, the queries; the second is the pool — ``ara-eng`` is xlr's ``ar->en``.
:func:`published_for` finds the figure of a direction by language (:func:`xlr.data.languages.match_key`:
``cmn-eng`` serves ``zh->en``).  The model cards' hand table (:mod:`xlr.encoders.catalogue`, mteb 1.12.75
accuracy for five pairs) stays the offline default when no results are given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from xlr.data.languages import match_key
from xlr.data.reading import parse_json, read_input_bytes
from xlr.data.records import CorpusError, LoadIssue

__all__ = [
    "MTEB_METRICS",
    "PublishedFigure",
    "TASK_OF_DATASET",
    "published_for",
    "published_table",
    "read_mteb_results",
]

MTEB_METRICS = ("accuracy", "f1", "precision", "recall")
TASK_OF_DATASET = {"tatoeba": "Tatoeba", "ntrex": "NTREXBitextMining", "flores": "FloresBitextMining"}
"""MTEB's task for xlr's named data sets (a path's corpus names none: pass ``task=``)."""
MAX_RESULTS_BYTES = 64 * 2**20


@dataclass(frozen=True)
class PublishedFigure:
    """One published score: ``model`` (hub id) at ``model_revision``, ``task`` at ``dataset_revision``,
    ``split``, pair ``subset`` (``"ara-eng"``) with ``source``/``target`` codes as MTEB writes them,
    ``metric``, ``value``, ``mteb_version``, and the ``path`` it was read from."""

    model: str
    model_revision: str
    task: str
    dataset_revision: str
    split: str
    subset: str
    source: str
    target: str
    metric: str
    value: float
    mteb_version: str
    path: str


def _files(source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    if isinstance(source, (str, os.PathLike)):
        root = Path(source).expanduser()
        if root.is_dir():
            return sorted(p for p in root.rglob("*.json") if p.is_file() and p.name != "model_meta.json")
        return [root]
    return [Path(p).expanduser() for p in source]


def _json(path: Path) -> Any:
    data = read_input_bytes(path, str(path), "MTEB results file", cap=MAX_RESULTS_BYTES)
    try:
        return parse_json(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorpusError(LoadIssue(str(path), None, None, f"not an MTEB results file: {exc}")) from None


def _model(path: Path) -> tuple[str, str]:
    """``(hub id, revision)`` from ``model_meta.json`` beside the file, else from the folder names."""
    meta = path.with_name("model_meta.json")
    if meta.is_file():
        doc = _json(meta)
        if isinstance(doc, dict) and isinstance(doc.get("name"), str):
            return doc["name"], str(doc.get("revision") or path.parent.name)
    return path.parent.parent.name.replace("__", "/", 1), path.parent.name


def _pair(subset: str, languages: Any) -> tuple[str, str] | None:
    if isinstance(languages, list) and len(languages) == 2 and all(isinstance(x, str) for x in languages):
        return languages[0], languages[1]
    parts = subset.split("-")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def _scores(doc: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
    """``(split, score dict with hf_subset)`` of either layout."""
    if isinstance(doc.get("scores"), dict):
        for split, entries in doc["scores"].items():
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("hf_subset"), str):
                    yield split, entry
        return
    for split, per in doc.items():
        if isinstance(per, dict) and split not in ("scores",):
            for subset, entry in per.items():
                if isinstance(entry, dict):
                    yield split, {**entry, "hf_subset": subset}


def read_mteb_results(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], *, task: str | None = None
) -> list[PublishedFigure]:
    """Every pair score of the results under ``source`` (folder, file or files), optionally of one ``task``.

    A file that is not JSON, or not an object, raises :class:`~xlr.data.records.CorpusError` naming it;
    entries without a readable pair or metric are skipped.
    """
    out = []
    for path in _files(source):
        doc = _json(path)
        if not isinstance(doc, dict):
            raise CorpusError(LoadIssue(str(path), None, None, "not an MTEB results file: expected a JSON object"))
        name = str(doc.get("task_name") or doc.get("mteb_dataset_name") or path.stem)
        if task is not None and name != task:
            continue
        model, revision = _model(path)
        version = str(doc.get("mteb_version") or "")
        for split, entry in _scores(doc):
            pair = _pair(entry["hf_subset"], entry.get("languages"))
            if pair is None:
                continue
            for metric in MTEB_METRICS:
                value = entry.get(metric)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append(
                        PublishedFigure(
                            model,
                            revision,
                            name,
                            str(doc.get("dataset_revision") or ""),
                            split,
                            entry["hf_subset"],
                            pair[0],
                            pair[1],
                            metric,
                            float(value),
                            str(entry.get("mteb_version") or version),
                            str(path),
                        )
                    )
    return out


def published_for(
    figures: Iterable[PublishedFigure],
    model: str | Sequence[str],
    source: str,
    target: str,
    metric: str = "accuracy",
) -> PublishedFigure | None:
    """The figure of ``model`` (a hub id, or several names it may go by) for direction ``source->target`` (codes
    in any form; MTEB's sentence1 is the source), or ``None``.  Split ``test`` is preferred; among several, the
    newest MTEB version."""
    names = {model} if isinstance(model, str) else set(model)
    s, t = match_key(source), match_key(target)
    hits = [
        f
        for f in figures
        if f.model in names and f.metric == metric and match_key(f.source) == s and match_key(f.target) == t
    ]
    if not hits:
        return None
    return max(hits, key=lambda f: (f.split == "test", _version(f.mteb_version)))


def _version(text: str) -> tuple[int, ...]:
    head = text.split("-")[-1]
    return tuple(int(p) for p in head.split(".") if p.isdigit())


def published_table(
    figures: Iterable[PublishedFigure],
    models: Mapping[str, str | Sequence[str]],
    directions: Iterable[tuple[str, str]],
) -> pd.DataFrame:
    """Published figures beside a run: one row per (encoder, direction) that has any, with MTEB's accuracy,
    F1, precision and recall and where they come from (task, dataset revision, MTEB version, model revision).

    ``models`` maps an encoder's name in the run to its hub id (the results' model name), or to several names.
    """
    figs = list(figures)
    rows = []
    for name, hub in models.items():
        for source, target in directions:
            found = {m: published_for(figs, hub, source, target, m) for m in MTEB_METRICS}
            first = next((f for f in found.values() if f is not None), None)
            if first is None:
                continue
            rows.append(
                {"model": name, "direction": f"{source}->{target}", "pair": first.subset}
                | {f"mteb_{m}": (f.value if f is not None else None) for m, f in found.items()}
                | {
                    "task": first.task,
                    "dataset_revision": first.dataset_revision,
                    "mteb_version": first.mteb_version,
                    "model_revision": first.model_revision,
                }
            )
    return pd.DataFrame(rows)
