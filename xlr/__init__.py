"""xlr: evaluate multilingual text encoders on cross-language retrieval.

The names a notebook needs, from the packages that hold them (the flow, bottom up:
``xlr.data`` -> ``xlr.encoders`` -> ``xlr.retrieval`` -> ``xlr.strategies`` ->
``xlr.stats`` -> ``xlr.report``; ``xlr.dashboard`` and ``xlr.cli`` on top)::

    import xlr

    data = xlr.load_dataset("xquad")                 # or a path: JSONL, XQuAD folder, Tatoeba folder
    encoder = xlr.load_encoder("e5-small")           # registry name, st:<hub id or path>, openai:<model>
    vectors = xlr.CorpusEmbeddings(data.corpus, encoder, xlr.EmbeddingCache())
    spec = xlr.EvalSpec(directions=xlr.parse_directions("de-en,zh-en"), ks=(1, 10))
    results = xlr.evaluate(vectors, spec)            # an EvalResults: direction results + spec + manifest
    print(results.to_frame("wide"))

Also ``xlr.search`` (one typed query), ``xlr.ScoringSpec`` (cosine, CSLS, margin), ``xlr.Runtime``
(device, precision, batch size) and ``xlr.compare_encoders`` (paired tests per direction).

Names are imported on first use, so ``import xlr`` loads neither torch nor pandas, streamlit or plotly.
The core (``data``, ``encoders`` base and cache, ``retrieval``, ``stats``, ``report`` tables) needs
numpy and pandas only; ``pip install xlr[st]`` adds sentence-transformers, ``xlr[dashboard]`` the
dashboard, ``xlr[all]`` everything.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

# public name -> module that defines it
_EXPORTS = {
    "Corpus": "xlr.data.records",
    "Document": "xlr.data.records",
    "CorpusError": "xlr.data.records",
    "load_corpus": "xlr.data.corpus",
    "load_dataset": "xlr.data.registry",
    "load_encoder": "xlr.encoders.registry",
    "EmbeddingCache": "xlr.encoders.cache",
    "CorpusEmbeddings": "xlr.encoders.corpus_vectors",
    "Direction": "xlr.retrieval.directions",
    "parse_directions": "xlr.retrieval.directions",
    "EvalSpec": "xlr.retrieval.evaluate",
    "evaluate": "xlr.retrieval.evaluate",
    "EvalResults": "xlr.retrieval.results",
    "read_results": "xlr.retrieval.results_io",
    "results_table": "xlr.retrieval.evaluate",
    "wide_table": "xlr.retrieval.evaluate",
    "compare_results": "xlr.stats.compare",
    "compare_encoders": "xlr.report.encoder_table",
    "ScoringSpec": "xlr.retrieval.scoring",
    "search": "xlr.retrieval.search",
    "Runtime": "xlr.encoders.device",
}
_ALIASES = {"load_dataset": "resolve_dataset"}

__all__ = [
    "Corpus",
    "CorpusEmbeddings",
    "CorpusError",
    "Direction",
    "Document",
    "EmbeddingCache",
    "EvalResults",
    "EvalSpec",
    "Runtime",
    "ScoringSpec",
    "__version__",
    "compare_encoders",
    "compare_results",
    "evaluate",
    "load_corpus",
    "load_dataset",
    "load_encoder",
    "parse_directions",
    "read_results",
    "results_table",
    "search",
    "wide_table",
]
assert set(__all__) == {"__version__", *_EXPORTS}

if TYPE_CHECKING:
    from xlr.data.corpus import load_corpus
    from xlr.data.records import Corpus, CorpusError, Document
    from xlr.data.registry import resolve_dataset as load_dataset
    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.corpus_vectors import CorpusEmbeddings
    from xlr.encoders.device import Runtime
    from xlr.encoders.registry import load_encoder
    from xlr.report.encoder_table import compare_encoders
    from xlr.retrieval.directions import Direction, parse_directions
    from xlr.retrieval.evaluate import EvalSpec, evaluate, results_table, wide_table
    from xlr.retrieval.results import EvalResults
    from xlr.retrieval.results_io import read_results
    from xlr.retrieval.scoring import ScoringSpec
    from xlr.retrieval.search import search
    from xlr.stats.compare import compare_results


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'xlr' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _ALIASES.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
