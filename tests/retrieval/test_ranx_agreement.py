"""xlr's metrics agree with ranx (an independent implementation) on runs with ties and several relevant documents.

xlr is pessimistic on ties (a document tied with a relevant one counts above it; relevant documents never
count against each other).  ranx orders a run by score, so the comparison is made exact by breaking
ties the pessimistic way in the ranx run: every relevant document's score is lowered by a quarter of the
gap between integer scores.  ranx's AP divides by R (all relevant documents), xlr's AP@n by min(R, n):
they agree for n >= R, which is what is compared.  Slow tier: ranx compiles its kernels with numba.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlr.retrieval.metrics import per_query, relevant_positions
from xlr.retrieval.ranks import relevant_ranks

pytestmark = pytest.mark.slow

METRICS = ("success@{k}", "recall@{k}", "mrr", "map@{n}")


@st.composite
def runs(draw):
    n_q = draw(st.integers(1, 6))
    n_docs = draw(st.integers(2, 12))
    levels = draw(st.integers(1, 4))  # few score levels: many ties
    scores = np.array(draw(st.lists(st.integers(0, levels), min_size=n_q * n_docs, max_size=n_q * n_docs)))
    relevant = []
    for _ in range(n_q):
        r = draw(st.integers(1, min(4, n_docs)))
        relevant.append(sorted(draw(st.permutations(range(n_docs)))[:r]))
    k = draw(st.integers(1, n_docs))
    return scores.reshape(n_q, n_docs).astype(np.float32), relevant, k


def xlr_values(scores, relevant, k, n):
    n_q, n_docs = scores.shape
    queries = np.eye(n_q, dtype=np.float32)  # queries @ pool.T == scores
    pool = np.ascontiguousarray(scores.T)
    width = max(len(r) for r in relevant)
    rel = np.full((n_q, width), -1, dtype=np.int64)
    for i, r in enumerate(relevant):
        rel[i, : len(r)] = r
    ranks = relevant_ranks(queries, pool, rel)
    per_q = [r[r > 0] for r in ranks]
    first = np.array([relevant_positions(r)[0] for r in per_q])
    return {m.format(k=k, n=n): float(per_query(first, m.format(k=k, n=n), per_q).mean()) for m in METRICS}


def ranx_values(scores, relevant, k, n):
    from ranx import Qrels, Run, evaluate

    qrels = {f"q{i}": {f"d{j}": 1 for j in rel} for i, rel in enumerate(relevant)}
    run = {
        f"q{i}": {f"d{j}": float(s) - (0.25 if j in relevant[i] else 0.0) for j, s in enumerate(row)}
        for i, row in enumerate(scores)
    }
    names = {f"success@{k}": f"hit_rate@{k}", f"recall@{k}": f"recall@{k}", "mrr": "mrr", f"map@{n}": f"map@{n}"}
    got = evaluate(Qrels(qrels), Run(run), list(names.values()), make_comparable=True)
    return {ours: float(got[theirs]) for ours, theirs in names.items()}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs())
def test_metrics_equal_ranx_on_random_runs_with_ties(case):
    scores, relevant, k = case
    n = scores.shape[1]  # n >= R: ranx's and xlr's AP normalisations coincide
    want = ranx_values(scores, relevant, k, n)
    got = xlr_values(scores, relevant, k, n)
    assert got == pytest.approx(want, abs=1e-12)


def test_two_relevant_documents_tied_at_the_top():
    scores = np.array([[3, 3, 1, 0]], dtype=np.float32)
    got = xlr_values(scores, [[0, 1]], 1, 4)
    assert got == pytest.approx(ranx_values(scores, [[0, 1]], 1, 4))
    assert got["map@4"] == 1.0 and got["recall@1"] == 0.5 and got["success@1"] == 1.0


def test_trec_run_read_by_ranx_gives_the_same_recall_and_mrr(tmp_path):
    from ranx import Qrels, Run, evaluate
    from strategy_fakes import synthetic_corpus

    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.corpus_vectors import CorpusEmbeddings
    from xlr.retrieval.directions import Direction
    from xlr.retrieval.evaluate import EvalSpec
    from xlr.retrieval.evaluate import evaluate as xlr_evaluate
    from xlr.retrieval.results import EvalResults

    corpus, (enc,) = synthetic_corpus(n_ids=60, noise=1.5)
    spec = EvalSpec(directions=(Direction("de", "en"), Direction("zh", "en")), ks=(1, 5, 10))
    results = xlr_evaluate(CorpusEmbeddings(corpus, enc, EmbeddingCache(tmp_path / "c")), spec)
    assert any(r.ranks.max() > 10 for r in results)  # some golds outside the top 10
    for r in results:
        one = EvalResults((r,), spec)
        (tmp_path / "run.txt").write_text(one.to_trec_run())
        (tmp_path / "qrels.txt").write_text(one.to_trec_qrels())
        run = Run.from_file(str(tmp_path / "run.txt"), kind="trec")
        qrels = Qrels.from_file(str(tmp_path / "qrels.txt"), kind="trec")
        got = evaluate(qrels, run, ["recall@1", "recall@5", "recall@10", "mrr"])
        assert {m: float(v) for m, v in got.items()} == pytest.approx(r.summary(spec.ks), abs=1e-12)
