"""Results in the formats the field exchanges: TREC run and qrels files, MTEB result JSON.

**TREC** (ranx, ir_measures, trec_eval).  Query ids are ``<source>-><target>:<id>`` (one run holds every
direction of a model), document ids ``<target>:<id>``; the qrels hold each query's gold (relevance 1).
xlr keeps the gold's rank, not the documents above it, so a query whose gold has rank r gets r lines:
r - 1 placeholder documents ``~above-1 .. ~above-(r-1)`` (never relevant, ids no corpus document can
have) and then the gold, with scores ``-1, -2, ..., -r`` (no ties: the pessimistic rank is already in r).
Any tool then computes xlr's recall@k, MRR, nDCG... exactly.  ``depth`` cuts each query's list (the gold
is left out when r > depth, so MRR becomes MRR@depth).  Whitespace in ids is written as ``%20``-style
escapes (the format splits on blanks).

**MTEB** (``results/<model>/<revision>/Tatoeba.json`` in embeddings-benchmark/results; task type bitext
mining).  One entry per direction under ``scores.test``; ``hf_subset`` is ``"<src>-<tgt>"`` in ISO 639-3
(Tatoeba's own codes: ``zh`` is ``cmn``) and ``languages`` adds the script (``"cmn-Hans"``).
Direction convention: MTEB's ``deu-eng`` embeds the ``deu`` sentences and looks each one up among the
``eng`` ones, i.e. xlr's direction ``de->en`` (queries in the first language).  ``accuracy`` is xlr's
recall@1 (pessimistic ties; MTEB takes the first maximum, so exact ties can make MTEB's higher).  MTEB's
headline ``f1`` (with ``precision`` and ``recall``) comes from ``bitext_scores``: the table of
:func:`xlr.retrieval.bitext.bitext_table` (MTEB's own computation, top-1 mining) or any function of a
direction result; ``main_score`` is that ``f1``, else ``accuracy``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd

from xlr.data.languages import describe
from xlr.data.pins_tatoeba import TATOEBA
from xlr.data.tatoeba import TATOEBA_FILE, corpus_codes
from xlr.retrieval.metrics import summarize

if TYPE_CHECKING:
    from xlr.retrieval.evaluate import DirectionResult
    from xlr.retrieval.results import EvalResults

__all__ = ["from_bitext_table", "mteb_json", "mteb_language", "trec_qrels", "trec_run"]

_BLANK = re.compile(r"\s")
_UPSTREAM = sorted({m.group(1) for name in TATOEBA if (m := TATOEBA_FILE.match(name))} | {"eng"})
_ISO639_3 = {short: code for code, short in corpus_codes(_UPSTREAM).items()}
"""xlr's Tatoeba code -> Tatoeba's (and MTEB's) own ISO 639-3 code: ``zh`` -> ``cmn``, ``sw`` -> ``swh``."""


def _token(text: str) -> str:
    return _BLANK.sub(lambda m: f"%{ord(m.group()):02X}", text)


def _qid(r: DirectionResult, query_id: str) -> str:
    return _token(f"{r.direction.label}:{query_id}")


def _docid(r: DirectionResult, query_id: str) -> str:
    return _token(f"{r.direction.target}:{query_id}")


def _one_model(results: EvalResults, model: str | None) -> str:
    models = results.models
    if model is None:
        if len(models) != 1:
            raise ValueError(f"these results hold {len(models)} models ({', '.join(models)}): name one with model=")
        return models[0]
    if model not in models:
        raise ValueError(f"no results for model {model!r} (models: {', '.join(models)})")
    return model


def trec_run(results: EvalResults, model: str | None = None, *, depth: int | None = None) -> str:
    """The TREC run of ``model`` (default: the only one) over every direction, as text (see module doc)."""
    model = _one_model(results, model)
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise ValueError(f"depth must be a positive integer or None, got {depth!r}")
    tag = _token(model)
    lines: list[str] = []
    for r in results:
        if r.model != model:
            continue
        for qid, rank in zip(r.query_ids, r.ranks):
            q, rank = _qid(r, qid), int(rank)
            shown = rank if depth is None else min(rank, depth)
            lines += [f"{q} Q0 ~above-{i} {i} {-i} {tag}" for i in range(1, min(rank, shown + 1))]
            if rank <= shown:
                lines.append(f"{q} Q0 {_docid(r, qid)} {rank} {-rank} {tag}")
    return "".join(line + "\n" for line in lines)


def trec_qrels(results: EvalResults) -> str:
    """``qid 0 docid 1`` for the gold of every query of every direction (one line per query)."""
    seen: set[str] = set()
    lines = []
    for r in results:
        for qid in r.query_ids:
            line = f"{_qid(r, qid)} 0 {_docid(r, qid)} 1"
            if line not in seen:
                seen.add(line)
                lines.append(line)
    return "".join(line + "\n" for line in lines)


def mteb_language(code: str) -> tuple[str, str]:
    """``(ISO 639-3, "<iso3>-<Script>")`` of a corpus language code, as MTEB writes them
    (``"zh"`` -> ``("cmn", "cmn-Hans")``, ``"de"`` -> ``("deu", "deu-Latn")``)."""
    import langcodes

    info = describe(code)
    iso3 = _ISO639_3.get(code)
    base = code.replace("_", "-").split("-")[0]
    if iso3 is None and info.known and len(base) == 3:
        iso3 = base.lower()  # written as ISO 639-3 already (swh_Latn, zho-CN): keep it
    if iso3 is None:
        try:
            iso3 = langcodes.Language.get(info.language).to_alpha3() if info.known else code
        except (LookupError, ValueError):
            iso3 = code
    return iso3, f"{iso3}-{info.script}" if info.script else iso3


def from_bitext_table(table: pd.DataFrame) -> Callable[[DirectionResult], dict[str, float]]:
    """The ``bitext_scores`` hook of :func:`mteb_json` from a :func:`xlr.retrieval.bitext.bitext_table` frame
    (matched by model, source and target; a direction without rows gets no F1)."""
    wanted = {"bitext_precision": "precision", "bitext_recall": "recall", "bitext_f1": "f1"}
    by_key: dict[tuple[str, str, str], dict[str, float]] = {}
    for row in table[table["metric"].isin(list(wanted))].itertuples(index=False):
        by_key.setdefault((str(row.model), str(row.source), str(row.target)), {})[wanted[str(row.metric)]] = float(
            row.value
        )
    return lambda r: by_key.get((r.model, r.direction.source, r.direction.target), {})


def mteb_json(
    results: EvalResults,
    model: str | None = None,
    *,
    task_name: str = "Tatoeba",
    dataset_revision: str | None = None,
    bitext_scores: Callable[[DirectionResult], Mapping[str, float]] | pd.DataFrame | None = None,
) -> str:
    """``model``'s directions in MTEB's result layout (see module doc), as JSON text.

    ``bitext_scores``: MTEB's precision/recall/F1 per direction, either a function of a direction result
    returning ``{"precision", "recall", "f1"}`` or the table of :func:`xlr.retrieval.bitext.bitext_table`
    (rows ``bitext_precision``/``bitext_recall``/``bitext_f1``; ``xlr eval --bitext`` prints the same).
    """
    from xlr import __version__

    model = _one_model(results, model)
    if isinstance(bitext_scores, pd.DataFrame):
        bitext_scores = from_bitext_table(bitext_scores)
    scores = []
    for r in results:
        if r.model != model:
            continue
        src, src_tag = mteb_language(r.direction.source)
        tgt, tgt_tag = mteb_language(r.direction.target)
        entry: dict[str, Any] = {}
        extra = dict(bitext_scores(r)) if bitext_scores is not None else {}
        for key in ("precision", "recall", "f1"):
            if key in extra:
                entry[key] = round(float(extra[key]), 6)
        accuracy = round(summarize(r.ranks, (1,))["recall@1"], 6)
        entry["accuracy"] = accuracy
        entry["main_score"] = entry.get("f1", accuracy)
        entry |= {"hf_subset": f"{src}-{tgt}", "languages": [src_tag, tgt_tag], "mteb_version": f"xlr-{__version__}"}
        scores.append(entry)
    doc = {
        "dataset_revision": dataset_revision,
        "task_name": task_name,
        "mteb_version": f"xlr-{__version__}",
        "scores": {"test": scores},
        "evaluation_time": None,
        "kg_co2_emissions": None,
        "date": None,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)
