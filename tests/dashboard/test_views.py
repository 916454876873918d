from __future__ import annotations

import numpy as np
import pytest

from xlr.dashboard import views
from xlr.data.records import Corpus, Document
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import DirectionResult, EvalSpec, evaluate_vectors
from xlr.retrieval.ranks import gold_ranks


def unit(rng, n, d=8):
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture()
def corpus() -> Corpus:
    docs = []
    for i in range(6):
        docs.append(Document(f"Q{i}", "en", f"title {i}", f"English text {i}"))
        docs.append(Document(f"Q{i}", "de", f"Titel {i}", f"Deutscher Text {i}"))
        if i % 2 == 0:
            docs.append(Document(f"Q{i}", "fr", "", f"texte <b>{i}</b>"))
    docs.append(Document("X", "de", "lonely", "no counterpart"))
    return Corpus("toy", docs)


def result_for(corpus, d, vecs, first=None):
    """Evaluate with given vectors: one row of ``vecs`` per corpus document."""
    spec = EvalSpec((d,), ks=(1,), first=first)
    return evaluate_vectors(corpus, lambda pos, role: vecs[pos], spec, "toy")[0]


def test_selected_ids_union_in_corpus_order(corpus):
    dirs = (Direction("fr", "en"), Direction("de", "en"))
    assert views.selected_ids(corpus, dirs, first=2) == ("Q0", "Q1", "Q2")
    assert views.selected_ids(corpus, dirs) == tuple(f"Q{i}" for i in range(6))
    assert views.selected_ids(corpus, ()) == ()


def test_find_documents_case_insensitive_on_id_title_text(corpus):
    pos = corpus.positions("de")
    assert views.find_documents(corpus, pos, "TITEL 3").sum() == 1
    assert views.find_documents(corpus, pos, "x").tolist()[-1]  # id "X" / "Text"
    assert not views.find_documents(corpus, pos, "   ").any()
    assert views.find_documents(corpus, corpus.positions("fr"), "<b>").all()


def test_failed_queries_are_exactly_the_ranks_beyond_k(corpus):
    rng = np.random.default_rng(1)
    vecs = unit(rng, len(corpus))
    d = Direction("de", "en")
    res = result_for(corpus, d, vecs)
    q, p = vecs[res.query_positions], vecs[res.pool_positions]
    for k in (1, 2, 6):
        table = views.failed_queries(res, q, p, k, corpus)
        assert list(table["id"]) == [i for i, r in zip(res.query_ids, res.ranks) if r > k]
        assert (table["gold_rank"] > k).all()
        assert (table["gap"] >= 0).all()
        for row in table.itertuples():
            assert row.gold_score == pytest.approx(float(q[row.query] @ p[res.gold[row.query]]), abs=1e-6)
            assert row.top1_score == pytest.approx(float((q[row.query] @ p.T).max()), abs=1e-6)
    assert list(views.failed_queries(res, q, p, 6, corpus).columns) == views.FAILED_COLUMNS


def test_failed_queries_validates(corpus):
    vecs = unit(np.random.default_rng(2), len(corpus))
    res = result_for(corpus, Direction("de", "en"), vecs)
    q, p = vecs[res.query_positions], vecs[res.pool_positions]
    with pytest.raises(ValueError, match="k must be a positive integer"):
        views.failed_queries(res, q, p, 0, corpus)
    with pytest.raises(ValueError, match="queries must have shape"):
        views.failed_queries(res, q[:2], p, 1, corpus)


def test_candidates_lists_top_k_and_marks_gold(corpus):
    vecs = unit(np.random.default_rng(3), len(corpus))
    res = result_for(corpus, Direction("de", "en"), vecs)
    q, p = vecs[res.query_positions], vecs[res.pool_positions]
    cand = views.candidates(res, 2, q, p, 6, corpus)
    assert list(cand["rank"]) == [1, 2, 3, 4, 5, 6]
    assert list(cand["score"]) == sorted(cand["score"], reverse=True)
    assert cand["gold"].sum() == 1
    assert int(cand.index[cand["gold"]][0]) + 1 == res.ranks[2]  # no ties with random vectors
    with pytest.raises(ValueError, match="outside"):
        views.candidates(res, 99, q, p, 3, corpus)


def make_result(source, ids, ranks, target="en", model="m"):
    n = len(ids)
    z = np.zeros(n, dtype=np.int64)
    return DirectionResult(model, Direction(source, target), tuple(ids), z, z, z, np.asarray(ranks), 0)


def test_consistency_patterns():
    results = [
        make_result("de", ["a", "b", "c"], [5, 1, 7]),
        make_result("fr", ["a", "b", "d"], [9, 3, 1]),
    ]
    table = views.consistency(results, 1).set_index("id")
    assert table.loc["a", "pattern"] == "every source"
    assert table.loc["b", "pattern"] == "some sources"
    assert table.loc["c", "pattern"] == "only source" and np.isnan(table.loc["c", "fr"])
    assert table.loc["d", "pattern"] == "none"
    assert table.loc["a", "de"] == 5 and table.loc["a", "failing"] == 2


def test_consistency_rejects_mixed_targets_and_models():
    with pytest.raises(ValueError, match="one model into one target"):
        views.consistency(
            [make_result("de", ["a"], [1]), make_result("fr", ["a"], [1], target="de")],
            1,
        )
    with pytest.raises(ValueError, match="no direction results"):
        views.consistency([], 1)


def test_hub_counts_and_skew():
    counts = views.hub_counts(np.array([0, 0, 0, 2]), 4)
    assert counts.tolist() == [3, 0, 1, 0]
    assert views.hubness_skew(counts) > 0
    assert views.hubness_skew(np.ones(5)) == 0.0
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        views.hub_counts(np.array([4]), 4)


def test_similarity_window_diagonal_is_gold_scores():
    rng = np.random.default_rng(4)
    q, p = unit(rng, 10), unit(rng, 10)
    m = views.similarity_window(q, p, 7, 5)
    assert m.shape == (3, 3)
    np.testing.assert_allclose(np.diag(m), np.einsum("ij,ij->i", q[7:], p[7:]), rtol=1e-6)
    # the window agrees with gold_ranks: a row whose gold is best overall is best in the window too
    ranks = gold_ranks(q, p, np.arange(10))
    for i in range(3):
        if ranks[7 + i] == 1:
            assert m[i].argmax() == i
    with pytest.raises(ValueError, match="window start"):
        views.similarity_window(q, p, 10, 2)
    with pytest.raises(ValueError, match="size"):
        views.similarity_window(q, p, 0, 0)


def test_snippet():
    assert views.snippet("a\n b   c") == "a b c"
    assert views.snippet("abcdef", 4) == "abc…"
