"""Reading a results file back: :func:`read_results` (``xlr.read_results``) -> :class:`EvalResults`.

The file is what :meth:`EvalResults.to_json` writes (``format`` ``xlr-results/1``); the result is equal
to the one written (spec, encoders, manifest, every direction's ids, positions, gold and ranks).  A file
that is not one gives one sentence naming the file and the field, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from xlr.data.reading import parse_json
from xlr.paths import InputFileError, read_bounded, user_path
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import DirectionResult, EvalSpec
from xlr.retrieval.metrics import check_ranks
from xlr.retrieval.quantized import VectorSpec
from xlr.retrieval.results import FORMAT, EvalResults
from xlr.retrieval.scoring import ScoringSpec

__all__ = ["MAX_RESULTS_BYTES", "ResultsFileError", "ranks_from_json", "read_results", "spec_from_dict"]

MAX_RESULTS_BYTES = 256 << 20
"""256 MiB: a larger results file is refused by its size, unread"""
_MAX_RANK = 2**62


class ResultsFileError(ValueError):
    """A results file that cannot be read back (not JSON, not xlr's layout, a bad field)."""


_NESTED = {"scoring": ScoringSpec, "vectors": VectorSpec}


def spec_from_dict(data: dict[str, Any]) -> EvalSpec:
    """The :class:`EvalSpec` of :func:`xlr.retrieval.results.spec_dict` (unknown keys refused)."""
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key == "directions":
            kwargs[key] = tuple(Direction.parse(d) for d in value)
        elif key == "ks":
            kwargs[key] = tuple(int(k) for k in value)
        elif key in _NESTED:
            kwargs[key] = _NESTED[key](**value)
        else:
            kwargs[key] = value
    return EvalSpec(**kwargs)


def ranks_from_json(values: Any, where: str) -> np.ndarray:
    """Gold ranks as read from JSON: a list of integers >= 1, as int64 (then :func:`check_ranks`).

    Each value must be a JSON integer: ``1.5``, ``"1"``, ``true``, NaN, infinity or ``10**30`` are
    refused by position (``ranks[1]: true is not an integer rank >= 1``), never truncated or cast.
    """
    if not isinstance(values, list):
        raise ResultsFileError(f"{where}: 'ranks' must be a list of integers >= 1, got {type(values).__name__}")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= _MAX_RANK:
            shown = json.dumps(v)[:40] if isinstance(v, (int, float, str, bool)) or v is None else type(v).__name__
            raise ResultsFileError(f"{where}: ranks[{i}]: {shown} is not an integer rank >= 1")
    return check_ranks(np.asarray(values, dtype=np.int64), f"{where}.ranks")


def _direction(entry: dict[str, Any], where: str) -> DirectionResult:
    ranks = ranks_from_json(entry["ranks"], where)
    ints = {k: np.asarray(entry[k], dtype=np.int64) for k in ("query_positions", "pool_positions", "gold")}
    ids = tuple(str(i) for i in entry["query_ids"])
    if not (len(ids) == ranks.size == ints["gold"].size == ints["query_positions"].size):
        raise ResultsFileError(f"{where}: query_ids, query_positions, gold and ranks must have one entry per query")
    return DirectionResult(
        model=str(entry["model"]),
        direction=Direction.parse(entry["direction"]),
        query_ids=ids,
        query_positions=ints["query_positions"],
        pool_positions=ints["pool_positions"],
        gold=ints["gold"],
        ranks=ranks,
        n_dropped=int(entry["n_dropped"]),
    )


def read_results(source: str | Path) -> EvalResults:
    """The :class:`EvalResults` in results file ``source`` (a path; or the JSON text itself)."""
    text, name = (source, "results") if isinstance(source, str) and source.lstrip().startswith("{") else (None, "")
    if text is None:
        path = user_path(source)
        name = str(path)
        try:
            text = read_bounded(path, MAX_RESULTS_BYTES, "a results file").decode("utf-8")
        except InputFileError as exc:
            raise ResultsFileError(str(exc).replace(": no such file", ": no such results file")) from None
        except UnicodeDecodeError as exc:
            raise ResultsFileError(f"{path}: cannot be read ({exc})") from None
    try:
        data = parse_json(text)
    except json.JSONDecodeError as exc:
        raise ResultsFileError(f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except ValueError as exc:
        raise ResultsFileError(f"{name}: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsFileError(
            f"{name}: not an xlr results file of format {FORMAT!r} (written by EvalResults.to_json or xlr eval --json)"
        )
    field = "spec"
    try:
        spec = spec_from_dict(data["spec"])
        field = "encoders"
        encoders = tuple(dict(e) for e in data["encoders"])
        field = "manifest"
        manifest = dict(data["manifest"])
        results = []
        for i, entry in enumerate(data["directions"]):
            field = f"directions[{i}]"
            results.append(_direction(entry, f"{name}: {field}"))
    except ResultsFileError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultsFileError(f"{name}: field {field}: {exc}") from None
    return EvalResults(tuple(results), spec, encoders, manifest)
