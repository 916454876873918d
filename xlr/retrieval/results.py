"""EvalResults: what :func:`xlr.evaluate` returns, one object for notebooks, the CLI, the dashboard and reports.

An :class:`EvalResults` is a sequence of :class:`~xlr.retrieval.evaluate.DirectionResult` (one per model
and direction, with every query's gold rank) that also carries the :class:`~xlr.retrieval.evaluate.EvalSpec`,
the identity of each encoder and a manifest (corpus, files, versions).  From it:

* :meth:`EvalResults.to_frame` -- the tidy table (``"long"``: one row per model, direction and metric with
  ``value`` and ``n_queries``) or the ``"wide"`` one (a column per metric);
* :meth:`EvalResults.to_json` and :func:`xlr.read_results` -- a results file, read back equal;
* :meth:`EvalResults.to_trec_run` / :meth:`EvalResults.to_trec_qrels` -- for ranx, ir_measures, trec_eval;
* :meth:`EvalResults.to_mteb_json` -- MTEB's result layout for bitext mining;
* ``_repr_html_`` -- the wide table in a notebook.

**One mean**: every metric value is :func:`xlr.retrieval.metrics.summarize` of a direction's ranks (the
mean over its queries of the per-query values); :meth:`DirectionResult.summary`, :func:`results_table`
and :meth:`EvalResults.to_frame` all read it from there.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import pandas as pd

from xlr.atomic import atomic_write_text
from xlr.retrieval.exchange import mteb_json, trec_qrels, trec_run
from xlr.retrieval.metrics import metric_names, summarize

if TYPE_CHECKING:
    from xlr.data.records import Corpus
    from xlr.retrieval.evaluate import DirectionResult, EvalSpec

__all__ = ["FORMAT", "TABLE_COLUMNS", "EvalResults", "long_table", "run_manifest", "spec_dict", "wide_table"]

TABLE_COLUMNS = ["model", "source", "target", "metric", "value", "n_queries"]
FORMAT = "xlr-results/1"
"""The ``format`` entry of a results file :func:`xlr.read_results` reads back whole."""


def long_table(results: Iterable[DirectionResult], ks: Iterable[int]) -> pd.DataFrame:
    """Tidy table: one row per (model, source, target, metric) with ``value`` and ``n_queries``;
    metrics ``recall@k`` per k then ``mrr``, each the mean of :func:`~xlr.retrieval.metrics.summarize`."""
    names = metric_names(ks)
    rows = []
    for r in results:
        means = summarize(r.ranks, ks)
        rows += [
            {
                "model": r.model,
                "source": r.direction.source,
                "target": r.direction.target,
                "metric": m,
                "value": means[m],
                "n_queries": r.n_queries,
            }
            for m in names
        ]
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def wide_table(table: pd.DataFrame) -> pd.DataFrame:
    """Model x direction rows, one column per metric (for printing and the overview)."""
    if table.empty:
        return pd.DataFrame()
    t = table.assign(direction=table["source"] + "->" + table["target"])
    wide = t.pivot_table(
        index=["model", "direction", "n_queries"],
        columns="metric",
        values="value",
        sort=False,
    )
    order = [c for c in table["metric"].drop_duplicates()]
    return wide[order].reset_index()


def _plain(value: Any) -> Any:
    """A JSON-ready copy of a spec field (dataclasses as dicts, directions as labels, tuples as lists)."""
    label = getattr(value, "label", None)
    if hasattr(value, "source") and hasattr(value, "target") and isinstance(label, str):
        return label
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def spec_dict(spec: EvalSpec) -> dict[str, Any]:
    """Every field of ``spec`` as JSON values (directions as ``"s->t"`` labels); read back by
    :func:`xlr.retrieval.results_io.spec_from_dict`."""
    out = _plain(spec)
    assert isinstance(out, dict)
    return out


def run_manifest(corpus: Corpus) -> dict[str, Any]:
    """What :func:`xlr.evaluate` records about a run: time, xlr version, the corpus (name, size,
    languages, the sha256 of each file it was read from).  The CLI adds more (packages, data set files)."""
    import datetime as _dt

    from xlr import __version__

    hashes = dict(corpus.report.sha256) if corpus.report is not None else {}
    return {
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "xlr_version": __version__,
        "corpus": {
            "name": corpus.name,
            "n_documents": len(corpus),
            "languages": list(corpus.languages),
            "files": [{"path": p, "sha256": h} for p, h in hashes.items()],
        },
    }


def _same(a: DirectionResult, b: DirectionResult) -> bool:
    return all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) else x == y
        for x, y in ((getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    )


@dataclass(frozen=True, eq=False)
class EvalResults(Sequence["DirectionResult"]):
    """The results of one evaluation: a sequence of direction results, with their spec, encoders and manifest.

    ``results``: one :class:`~xlr.retrieval.evaluate.DirectionResult` per model and direction, in order;
    ``spec``: the :class:`~xlr.retrieval.evaluate.EvalSpec`; ``encoders``: one entry per encoder
    (its identity, the label its rows carry as ``model``, how it ran); ``manifest``: facts about the run
    (corpus, files and their sha256, versions, time).  ``a + b`` joins two evaluations of the same spec
    (e.g. two encoders).  Equality compares everything, ranks included.
    """

    results: tuple[DirectionResult, ...]
    spec: EvalSpec
    encoders: tuple[Mapping[str, Any], ...] = ()
    manifest: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "results", tuple(self.results))
        object.__setattr__(self, "encoders", tuple(dict(e) for e in self.encoders))
        object.__setattr__(self, "manifest", dict(self.manifest))

    # -- the sequence -------------------------------------------------------------------------
    @overload
    def __getitem__(self, index: int) -> DirectionResult: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[DirectionResult]: ...
    def __getitem__(self, index: int | slice) -> DirectionResult | Sequence[DirectionResult]:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[DirectionResult]:
        return iter(self.results)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvalResults):
            return NotImplemented
        return (
            spec_dict(self.spec) == spec_dict(other.spec)
            and self.encoders == other.encoders
            and json.dumps(self.manifest, sort_keys=True, default=str)
            == json.dumps(other.manifest, sort_keys=True, default=str)
            and len(self) == len(other)
            and all(_same(a, b) for a, b in zip(self, other))
        )

    __hash__ = None  # type: ignore[assignment]

    def __add__(self, other: EvalResults) -> EvalResults:
        if not isinstance(other, EvalResults):
            return NotImplemented
        if spec_dict(self.spec) != spec_dict(other.spec):
            raise ValueError("only results of the same spec can be joined (directions, k, sample, scoring differ)")
        return EvalResults(self.results + other.results, self.spec, self.encoders + other.encoders, self.manifest)

    def __repr__(self) -> str:
        models = ", ".join(self.models)
        return f"EvalResults({len(self)} direction results; models: {models}; metrics: {', '.join(self.metrics)})"

    # -- tables -------------------------------------------------------------------------------
    @property
    def models(self) -> list[str]:
        """The ``model`` labels of the rows, in order of appearance."""
        return list(dict.fromkeys(r.model for r in self))

    @property
    def metrics(self) -> list[str]:
        """``recall@k`` for each k of the spec, then ``mrr``."""
        return metric_names(self.spec.ks)

    def to_frame(self, layout: str = "long") -> pd.DataFrame:
        """``"long"``: columns ``model, source, target, metric, value, n_queries`` (one row per metric);
        ``"wide"``: ``model, direction, n_queries`` and one column per metric."""
        if layout not in ("long", "wide"):
            raise ValueError(f"layout must be 'long' or 'wide', got {layout!r}")
        table = long_table(self, self.spec.ks)
        return table if layout == "long" else wide_table(table)

    def _repr_html_(self) -> str:
        encoders = ", ".join(str(e.get("name", "?")) for e in self.encoders) or "unknown"
        caption = (
            f"xlr results: {len(self)} direction results, {self.spec.sampling}, "
            f"scoring {self.spec.scoring.label}; encoders: {encoders}; ties count against the gold"
        )
        frame = self.to_frame("wide").to_html(index=False, float_format=lambda v: f"{v:.3f}", escape=True)
        return f"<div><p>{html.escape(caption)}</p>{frame}</div>"

    # -- files --------------------------------------------------------------------------------
    def to_json(self, path: str | Path | None = None) -> str:
        """The results file: ``format``, ``spec``, ``encoders``, ``manifest``, ``directions`` (every
        direction's query ids, positions, gold and ranks) plus ``rows`` (the long table) and ``per_query``
        (ranks by model and direction, what ``xlr compare`` reads).  Written atomically to ``path`` if given;
        :func:`xlr.read_results` reads it back equal."""
        rows = [
            {c: (v.item() if isinstance(v, np.generic) else v) for c, v in row.items()}
            for row in self.to_frame("long").to_dict("records")
        ]
        per_query: dict[str, dict[str, Any]] = {}
        for r in self:
            per_query.setdefault(r.model, {})[r.direction.label] = {
                "query_ids": list(r.query_ids),
                "ranks": [int(x) for x in r.ranks],
            }
        directions = [
            {
                "model": r.model,
                "direction": r.direction.label,
                "query_ids": list(r.query_ids),
                "query_positions": [int(x) for x in r.query_positions],
                "pool_positions": [int(x) for x in r.pool_positions],
                "gold": [int(x) for x in r.gold],
                "ranks": [int(x) for x in r.ranks],
                "n_dropped": int(r.n_dropped),
            }
            for r in self
        ]
        doc = {
            "format": FORMAT,
            "spec": spec_dict(self.spec),
            "encoders": list(self.encoders),
            "manifest": dict(self.manifest),
            "rows": rows,
            "per_query": per_query,
            "directions": directions,
        }
        text = json.dumps(doc, ensure_ascii=False, indent=1, default=str)
        if path is not None:
            atomic_write_text(Path(path), text)
        return text

    def to_trec_run(self, model: str | None = None, path: str | Path | None = None) -> str:
        """A TREC run (``qid Q0 docid rank score tag``) of one model: see :func:`xlr.retrieval.exchange.trec_run`."""
        return _maybe_write(trec_run(self, model), path)

    def to_trec_qrels(self, path: str | Path | None = None) -> str:
        """The qrels of the run (``qid 0 docid 1`` per gold): see :func:`xlr.retrieval.exchange.trec_qrels`."""
        return _maybe_write(trec_qrels(self), path)

    def to_mteb_json(self, model: str | None = None, path: str | Path | None = None, **kwargs: Any) -> str:
        """One model's results in MTEB's bitext-mining result layout: see :func:`xlr.retrieval.exchange.mteb_json`."""
        return _maybe_write(mteb_json(self, model, **kwargs), path)


def _maybe_write(text: str, path: str | Path | None) -> str:
    if path is not None:
        atomic_write_text(Path(path), text)
    return text
