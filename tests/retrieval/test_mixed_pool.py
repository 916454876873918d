"""Mixed-language pools on a synthetic corpus whose same-language bias is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from xlr.data.records import Corpus, Document
from xlr.retrieval.directions import Direction
from xlr.retrieval.mixed_pool import mixed_pool, mixed_pool_table

N = 10
LANGS = ("s", "t", "o")
SAME = {5: 0, 6: 1, 7: 2}  # the s-document of id 5 is made the nearest neighbour of query 0, ...
OTHER = {8: 3}  # the o-document of id 8 is made the nearest neighbour of query 3


def build() -> tuple[Corpus, dict]:
    """Queries ``q_i = e_i``; gold ``t_i`` scores 0.9; ``o_i`` scores 0.5; ``s_i`` (the query's own
    document) scores 0.99 and must be left out; planted distractors score 0.95."""
    docs = [Document(f"id{i}", lang, "", f"{lang} {i}") for i in range(N) for lang in LANGS]
    corpus = Corpus("synthetic", docs)
    dim = N + len(docs)
    extra = iter(range(N, dim))

    def unit(main: int, weight: float) -> np.ndarray:
        v = np.zeros(dim)
        v[main] = weight
        v[next(extra)] = np.sqrt(1 - weight**2)
        return v

    doc_vecs = {}
    for p, d in enumerate(docs):
        i = int(d.id[2:])
        if d.lang == "t":
            doc_vecs[p] = unit(i, 0.9)
        elif d.lang == "o":
            doc_vecs[p] = unit(OTHER[i], 0.95) if i in OTHER else unit(i, 0.5)
        else:
            doc_vecs[p] = unit(SAME[i], 0.95) if i in SAME else unit(i, 0.99)
    query_vecs = {p: np.eye(dim)[int(d.id[2:])] for p, d in enumerate(docs)}

    def vectors(positions: np.ndarray, role: str) -> np.ndarray:
        table = query_vecs if role == "query" else doc_vecs
        return np.stack([table[int(p)] for p in positions]).astype(np.float32)

    return corpus, vectors


def test_known_same_language_bias():
    corpus, vectors = build()
    res = mixed_pool(corpus, vectors, Direction("s", "t"), gold="target", model="planted")
    assert res.pool_positions.size == 3 * N
    assert sorted(res.pool_languages) == sorted(LANGS)
    # queries 0, 1, 2: top-1 is another s-document; query 3: an o-document; the self-document never counts
    assert res.same_language == pytest.approx(0.3)
    assert res.other_language == pytest.approx(0.1)
    assert res.target_rate == pytest.approx(0.6)
    expected = np.ones(N, dtype=np.int64)
    expected[[0, 1, 2, 3]] = 2  # one planted distractor above the gold; the query itself (0.99) left out
    np.testing.assert_array_equal(res.ranks, expected)
    table = mixed_pool_table([res], ks=(1,))
    row = table.iloc[0]
    assert (row["recall@1"], row["top-1 own language"], row["top-1 other language"]) == pytest.approx((0.6, 0.3, 0.1))
    assert row["pool"] == 3 * N and row["gold"] == "t"


def test_any_linked_gold_takes_the_best_linked_document():
    corpus, vectors = build()
    res = mixed_pool(corpus, vectors, Direction("s", "t"), gold="any")
    # with any linked document as gold, id 8's own o-document was moved away but its t-document still ranks 1
    expected = np.ones(N, dtype=np.int64)
    expected[[0, 1, 2, 3]] = 2
    np.testing.assert_array_equal(res.ranks, expected)
    assert mixed_pool_table([res]).iloc[0]["gold"] == "any linked"


def test_rejects_unknown_gold():
    corpus, vectors = build()
    with pytest.raises(ValueError, match="gold must be one of"):
        mixed_pool(corpus, vectors, Direction("s", "t"), gold="nearest")
