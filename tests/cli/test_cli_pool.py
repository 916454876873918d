"""`python -m xlr eval --pool all` on XQuAD: the same-language bias per source language (a real process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xlr.data.registry import resolve_dataset
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import default_directions
from xlr.retrieval.mixed_pool import evaluate_mixed

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_cli_prints_the_bias_per_source_language(shared_data, e5):
    out = subprocess.run(
        [sys.executable, "-m", "xlr", "eval", "--dataset", "xquad", "--model", "e5-small", "--first", "10",
         "--k", "1", "10", "--pool", "all", "--no-progress"],
        cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=900, check=True,
    ).stdout  # fmt: skip
    assert "Mixed-language pool" in out
    table = out.split("Mixed-language pool", 1)[1].splitlines()[1:]
    assert table[0].split()[-8:] == ["top-1", "own", "language", "top-1", "other", "language", "top-1", "target"]
    rows = {line.split()[1]: line.split() for line in table[1:] if line.strip()}
    corpus = resolve_dataset("xquad", download_missing=False).corpus
    directions = default_directions(corpus)
    assert sorted(rows) == sorted(d.source for d in directions)
    expected = evaluate_mixed(corpus, CorpusEmbeddings(corpus, e5, EmbeddingCache()), directions, first=10)
    for r in expected:
        cells = rows[r.direction.source]
        assert cells[4] == str(r.pool_positions.size) == "70"  # 10 ids x 7 languages
        own, other, target = (float(c) for c in cells[-3:])  # the last three columns
        assert own == pytest.approx(r.same_language, abs=5e-4) and other == pytest.approx(r.other_language, abs=5e-4)
        assert own + other + target == pytest.approx(1.0, abs=2e-3)
    assert all(0 <= r.same_language <= 1 for r in expected) and np.isfinite([r.other_language for r in expected]).all()
