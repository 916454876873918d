"""MTEB's bitext F1/precision/recall against a naive re-implementation of its evaluator (sklearn, loops)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from xlr.data.records import Corpus, Document
from xlr.retrieval.bitext import bitext_scores, bitext_table, mining_predictions
from xlr.retrieval.directions import Direction
from xlr.retrieval.ranks import gold_ranks


def naive_mteb(queries: np.ndarray, pool: np.ndarray, gold: np.ndarray, ties: str) -> dict[str, float]:
    """BitextMiningEvaluator._compute_metrics, one query at a time in plain Python."""
    predictions = []
    for i, q in enumerate(queries):
        scores = [float(np.dot(q, d)) for d in pool]
        best = max(scores)
        maxima = [j for j, s in enumerate(scores) if s == best]
        if ties == "first":
            predictions.append(maxima[0])
        else:  # pessimistic: the gold only when it is the single maximum
            others = [j for j in maxima if j != gold[i]]
            predictions.append(others[0] if others else int(gold[i]))
    labels = list(gold)
    return {
        "bitext_precision": precision_score(labels, predictions, zero_division=0, average="weighted"),
        "bitext_recall": recall_score(labels, predictions, zero_division=0, average="weighted"),
        "bitext_f1": f1_score(labels, predictions, zero_division=0, average="weighted"),
        "bitext_accuracy": accuracy_score(labels, predictions),
    }


def tied_vectors(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Queries and a pool with exact duplicates (pool rows 3=7, 5=6=9; queries 2=4) and coarse values,
    so that many scores tie exactly."""
    rng = np.random.default_rng(seed)
    pool = rng.integers(-2, 3, size=(12, 4)).astype(np.float32)
    pool[7] = pool[3]
    pool[6] = pool[9] = pool[5]
    queries = pool + rng.integers(-1, 2, size=pool.shape).astype(np.float32)
    queries[4] = queries[2]
    norm = lambda x: x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-6)  # noqa: E731
    return norm(queries), norm(pool)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("ties", ["pessimistic", "first"])
def test_scores_equal_naive_mteb_on_ties_and_duplicates(seed: int, ties: str) -> None:
    queries, pool = tied_vectors(seed)
    gold = np.arange(12)
    pred = mining_predictions(queries, pool, gold, ties=ties, chunk=5)
    got = bitext_scores(gold, pred).as_dict()
    want = naive_mteb(queries, pool, gold, ties)
    assert got == pytest.approx(want, abs=1e-12)
    if ties == "pessimistic":  # accuracy is xlr's recall@1 under the same tie rule
        assert got["bitext_accuracy"] == pytest.approx(float(np.mean(gold_ranks(queries, pool, gold) == 1)))


def test_duplicate_predictions_lower_precision_and_f1_not_recall() -> None:
    gold = np.array([0, 1, 2, 3])
    pred = np.array([0, 0, 0, 3])  # document 0 predicted three times
    s = bitext_scores(gold, pred)
    assert (s.accuracy, s.recall) == (0.5, 0.5)
    assert s.precision == pytest.approx((1 / 3 + 0 + 0 + 1) / 4)
    assert s.f1 == pytest.approx((2 * 1 / (1 + 3) + 1) / 4)
    assert s.precision < s.f1 < s.accuracy


def test_gold_may_repeat_as_in_mteb_gold_column() -> None:
    gold = np.array([0, 0, 1, 2])
    pred = np.array([0, 1, 1, 0])
    want = {
        "p": precision_score(gold, pred, zero_division=0, average="weighted"),
        "f": f1_score(gold, pred, zero_division=0, average="weighted"),
    }
    s = bitext_scores(gold, pred)
    assert (s.precision, s.f1) == pytest.approx((want["p"], want["f"]))


def test_direction_convention_queries_are_the_source() -> None:
    # ar->en: the Arabic documents are the queries (MTEB's sentence1 of "ara-eng"), English the pool;
    # English document 1 is a duplicate of 0, so en->ar differs from ar->en.
    docs = [Document("a", "ar", "", "x"), Document("b", "ar", "", "y"), Document("a", "en", "", "x")]
    docs.append(Document("b", "en", "", "x2"))
    c = Corpus("c", tuple(docs))
    vec = {("a", "ar"): [1, 0], ("b", "ar"): [0, 1], ("a", "en"): [1, 0], ("b", "en"): [1, 0]}

    def vectors(pos, role):
        return np.array([vec[(c.documents[p].id, c.documents[p].lang)] for p in pos], dtype=np.float32)

    t = bitext_table(c, vectors, [Direction("ar", "en"), Direction("en", "ar")], "m").set_index(["source", "metric"])
    # ar->en: Arabic a ties English a and b (pessimistic: b), Arabic b scores 0 against both (a wins the tie)
    assert t.loc[("ar", "bitext_accuracy"), "value"] == 0.0
    # en->ar: both English queries find Arabic a: one hit, and a predicted twice halves its precision
    assert t.loc[("en", "bitext_accuracy"), "value"] == 0.5
    assert t.loc[("en", "bitext_precision"), "value"] == 0.25
    assert t.loc[("en", "bitext_recall"), "value"] == t.loc[("en", "bitext_accuracy"), "value"]
