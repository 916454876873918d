from __future__ import annotations

import numpy as np
import pytest
from strategy_fakes import HashEncoder

from xlr.data.records import Corpus, Document, Query, QuerySet
from xlr.data.registry import resolve_dataset
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.metrics import average_precision
from xlr.retrieval.question_sets import (
    QuerySpec,
    evaluate_queries,
    queries_table,
    query_pools,
)
from xlr.retrieval.scoring import ScoringSpec
from xlr.stats.compare import compare_results


@pytest.fixture()
def small(tmp_path):
    langs = ("de", "en", "zh")
    docs = [
        Document(f"p{i}", lang, f"title {i}", f"paragraph {i} in {lang}")
        for i in range(12)
        for lang in langs
        if not (lang == "zh" and i == 11)
    ]  # p11 has no zh paragraph
    queries = [
        Query(f"q{i}-{j}/{lang}", lang, f"question {j} about {i} in {lang}", f"p{i}")
        for i in range(12)
        for j in range(2)
        for lang in ("de", "en")
    ]
    queries.append(Query("qx/de", "de", "about nothing", "p99"))  # no paragraph anywhere: dropped
    corpus = Corpus("small", docs)
    enc = HashEncoder(dim=6)
    return (
        corpus,
        QuerySet("small-q", queries),
        CorpusEmbeddings(corpus, enc, EmbeddingCache(tmp_path / "c")),
    )


def brute(corpus, qset, emb, lang, pool_langs):
    qs = [
        q
        for q in qset.queries
        if q.lang == lang and any(d.id == q.gold_id and d.lang in pool_langs for d in corpus.documents)
    ]
    pos = np.concatenate([corpus.positions(x) for x in pool_langs])
    p = emb.vectors(pos, "document")
    q = emb.encoder.encode([x.text for x in qs], role="query")
    s = q @ p.T
    out = []
    for i, x in enumerate(qs):
        rel = [j for j, pp in enumerate(pos) if corpus.documents[pp].id == x.gold_id]
        out.append(np.sort([(s[i] >= s[i, j]).sum() for j in rel]))
    return qs, out


@pytest.mark.parametrize("pool, pool_langs", [("en", ("en",)), ("zh", ("zh",)), ("all", ("de", "en", "zh"))])
def test_ranks_match_brute_force(small, pool, pool_langs):
    corpus, qset, emb = small
    spec = QuerySpec(pool=pool, ks=(1, 3))
    results = evaluate_queries(corpus, qset, emb, spec)
    assert [r.direction.label for r in results] == [f"de->{pool}", f"en->{pool}"]
    for r in results:
        qs, rel = brute(corpus, qset, emb, r.direction.source, pool_langs)
        assert r.query_ids == tuple(q.qid for q in qs)
        for got, want in zip(r.relevant_ranks, rel):
            np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(r.ranks, [x[0] for x in rel])
        assert r.value("map@20") == pytest.approx(average_precision(rel, 20).mean())
        assert r.value("success@3") == pytest.approx(np.mean([x[0] <= 3 for x in rel]))
        assert r.value("recall@3") == pytest.approx(np.mean([np.mean(x <= 3) for x in rel]))
    de = results[0]
    assert de.n_dropped == (3 if pool == "zh" else 1)  # qx always; the 2 questions of p11 when the pool is zh
    if pool == "all":
        assert {len(x) for x in de.relevant_ranks} == {
            2,
            3,
        }  # p11 has 2 paragraphs, the others 3
    else:
        # one relevant document: mAP@n is the reciprocal rank cut at n
        rr = np.where(de.ranks <= 20, 1 / de.ranks, 0)
        assert de.value("map@20") == pytest.approx(rr.mean())


def test_table_scoring_and_compare(small):
    corpus, qset, emb = small
    spec = QuerySpec(pool="all", query_langs=("de",), ks=(1, 5), map_n=10)
    res = evaluate_queries(corpus, qset, emb, spec)
    table = queries_table(res, spec)
    assert table.metric.tolist() == ["recall@1", "recall@5", "success@1", "success@5", "mrr", "map@10"]
    assert set(table.target) == {"all"} and table.model.iloc[0] == "hash"
    csls = evaluate_queries(
        corpus,
        qset,
        emb,
        QuerySpec(pool="all", query_langs=("de",), scoring=ScoringSpec("csls", 3)),
    )
    assert csls[0].model == "hash+csls(k=3)"
    comp = compare_results(res, csls, n_resamples=200)  # query results pair like direction results
    assert comp.table("mrr").direction.tolist() == ["de->all"]
    assert query_pools(corpus) == ("de", "en", "zh", "all")


def test_query_errors(small):
    corpus, qset, emb = small
    with pytest.raises(ValueError, match="pool 'fr' is not a language of corpus 'small' nor 'all'"):
        evaluate_queries(corpus, qset, emb, QuerySpec(pool="fr"))
    with pytest.raises(ValueError, match="no question in language 'zh'"):
        evaluate_queries(corpus, qset, emb, QuerySpec(query_langs=("zh",)))
    with pytest.raises(ValueError, match="is empty"):
        evaluate_queries(corpus, QuerySet("e", ()), emb, QuerySpec())
    with pytest.raises(ValueError, match="encode 'text' but the spec asks for 'title\\+text'"):
        evaluate_queries(corpus, qset, emb, QuerySpec(text_field="title+text"))
    with pytest.raises(ValueError, match="map_n"):
        QuerySpec(map_n=0)
    only = QuerySet("o", (Query("a/de", "de", "x", "p99"),))
    with pytest.raises(ValueError, match="none has its paragraph in the 'en' pool"):
        evaluate_queries(corpus, only, emb, QuerySpec())


@pytest.mark.slow
def test_xquad_questions_with_use_m3(use_m3):
    data = resolve_dataset("xquad")
    emb = CorpusEmbeddings(data.corpus, use_m3, EmbeddingCache())
    spec = QuerySpec(pool="en", query_langs=("de", "en"))
    res = {r.direction.label: r for r in evaluate_queries(data.corpus, data.queries, emb, spec)}
    assert res["de->en"].n_queries == res["en->en"].n_queries == 1190
    mono, cross = res["en->en"].value("recall@1"), res["de->en"].value("recall@1")
    assert 0.4 < cross <= mono < 0.95  # questions find their paragraph among 240, English best
    assert res["de->en"].value("map@20") == pytest.approx(
        np.mean(np.where(res["de->en"].ranks <= 20, 1 / res["de->en"].ranks, 0))
    )


def test_two_relevant_paragraphs_tied_at_the_top_make_a_perfect_ranking(tmp_path):
    """Bug: the kernel's pessimistic ranks [2, 2] (each counts the other) gave rank 2 and AP 0.75."""
    docs = [Document("p0", lang, "", "same text") for lang in ("de", "en")]
    docs += [Document(f"p{i}", lang, "", f"paragraph {i} {lang}") for i in range(1, 8) for lang in ("de", "en")]
    corpus = Corpus("tied", docs)
    qset = QuerySet("tied-q", [Query("q0/en", "en", "same text", "p0")])
    emb = CorpusEmbeddings(corpus, HashEncoder(dim=6), EmbeddingCache(tmp_path / "c"))
    (r,) = evaluate_queries(corpus, qset, emb, QuerySpec(pool="all", ks=(1,), map_n=10))
    assert r.ranks.tolist() == [1]
    assert r.relevant_ranks[0].tolist() == [1, 2]
    assert r.value("map@10") == 1.0 and r.value("recall@1") == 0.5 and r.value("success@1") == 1.0
