"""The evaluation protocol on tiny corpora with hand-made vectors (known answers)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from xlr.data.records import Corpus, Document
from xlr.retrieval.directions import (
    Direction,
    all_directions,
    default_directions,
    parse_directions,
)
from xlr.retrieval.evaluate import EvalSpec, evaluate_vectors, results_table, wide_table
from xlr.retrieval.scoring import ScoringSpec


def corpus() -> Corpus:
    docs = []
    for i in range(4):
        for lang in ("en", "de", "fr"):
            docs.append(Document(f"Q{i}", lang, f"t{i}", f"{lang} text {i}"))
    docs.append(Document("Q9", "de", "", "only german"))  # unlinked
    return Corpus("toy", tuple(docs))


def vectors_fn(c: Corpus, swap: tuple[int, int] | None = None):
    """Each id i points along axis i; in German, ids ``swap`` point mostly at each other
    (with a weaker component on their own axis): two rank-2 queries."""

    def vec(pos):
        d = c.documents[pos]
        i = 9 if d.id == "Q9" else int(d.id[1:])
        v = np.zeros(10, dtype=np.float32)
        if swap and d.lang == "de" and i in swap:
            v[i] = 0.5
            i = swap[1] if i == swap[0] else swap[0]
        v[i] = 1
        v[-1] = 0.1 if d.lang == "fr" else 0.0
        return v / np.linalg.norm(v)

    return lambda positions, role: np.stack([vec(p) for p in positions])


def test_directions():
    c = corpus()
    assert default_directions(c) == (Direction("de", "en"), Direction("fr", "en"))
    assert len(all_directions(c)) == 6
    assert parse_directions("de-en, fr->de", c) == (
        Direction("de", "en"),
        Direction("fr", "de"),
    )
    with pytest.raises(ValueError, match="language 'zh' is not in corpus 'toy'"):
        parse_directions("zh-en", c)
    with pytest.raises(ValueError, match="cannot read direction 'deen'"):
        Direction.parse("deen")
    with pytest.raises(ValueError, match="same language"):
        Direction("en", "en")


def test_known_ranks_and_table():
    c = corpus()
    spec = EvalSpec(directions=(Direction("de", "en"), Direction("fr", "en")), ks=(1, 2))
    res = evaluate_vectors(c, vectors_fn(c, swap=(0, 1)), spec, "toy-model")
    de, fr = res
    assert de.query_ids == ("Q0", "Q1", "Q2", "Q3")
    assert de.ranks.tolist() == [2, 2, 1, 1]  # Q0/Q1 swapped in German
    assert fr.ranks.tolist() == [1, 1, 1, 1]
    assert de.n_dropped == 1  # Q9 has no English document
    table = results_table(res, spec.ks)
    assert list(table.columns) == [
        "model",
        "source",
        "target",
        "metric",
        "value",
        "n_queries",
    ]
    got = {(r.source, r.metric): r.value for r in table.itertuples()}
    assert got[("de", "recall@1")] == 0.5 and got[("de", "recall@2")] == 1.0
    assert got[("de", "mrr")] == pytest.approx(0.75)
    assert set(table["n_queries"]) == {4}
    wide = wide_table(table)
    assert list(wide.columns) == [
        "model",
        "direction",
        "n_queries",
        "recall@1",
        "recall@2",
        "mrr",
    ]


def test_first_n_ids_and_pool_restriction():
    c = corpus()
    spec = EvalSpec(directions=(Direction("de", "en"),), ks=(1,), first=2)
    (r,) = evaluate_vectors(c, vectors_fn(c, swap=(0, 3)), spec, "m")
    assert r.query_ids == ("Q0", "Q1")
    # Q3 (which German Q0 prefers) is outside the first 2 ids, so not in the pool
    assert r.pool_positions.size == 2 and r.ranks.tolist() == [1, 1]
    (full,) = evaluate_vectors(
        c,
        vectors_fn(c, swap=(0, 3)),
        EvalSpec(directions=spec.directions, ks=(1,)),
        "m",
    )
    assert full.ranks.tolist() == [2, 1, 1, 2]


def test_spec_validation():
    d = (Direction("de", "en"),)
    with pytest.raises(ValueError, match="no directions"):
        EvalSpec(directions=())
    with pytest.raises(ValueError, match="positive"):
        EvalSpec(directions=d, ks=(0,))
    with pytest.raises(ValueError, match="first must be a positive"):
        EvalSpec(directions=d, first=0)
    with pytest.raises(ValueError, match="text_field"):
        EvalSpec(directions=d, text_field="body")
    c = corpus()
    with pytest.raises(ValueError, match="no id has a document in both"):
        evaluate_vectors(
            Corpus("x", (Document("a", "en", "", "x"), Document("b", "de", "", "y"))),
            vectors_fn(c),
            EvalSpec(directions=d),
            "m",
        )


def hub_corpus() -> tuple[Corpus, Callable[[np.ndarray, str], np.ndarray]]:
    """English Q0 is a hub: every German query leans towards it more than towards its own match."""
    c = Corpus("hub", tuple(Document(f"Q{i}", lang, "", f"{lang}{i}") for i in range(4) for lang in ("en", "de")))

    def vec(pos: int) -> np.ndarray:
        d = c.documents[pos]
        i = int(d.id[1:])
        v = np.zeros(6, dtype=np.float32)
        v[i] = 0.5 if d.lang == "de" else 1.0
        if d.lang == "de":
            v[5] = 0.8
        elif i == 0:
            v[5] = 1.5
        return v / np.linalg.norm(v)

    return c, lambda positions, role: np.stack([vec(p) for p in positions])


def test_scoring_is_applied():
    c, fn = hub_corpus()
    d = (Direction("de", "en"),)
    (cos,) = evaluate_vectors(c, fn, EvalSpec(directions=d, ks=(1,)), "m")
    assert cos.ranks.tolist() == [1, 2, 2, 2]  # the hub outranks three golds under cosine
    (csls,) = evaluate_vectors(c, fn, EvalSpec(directions=d, ks=(1,), scoring=ScoringSpec("csls", k=1)), "m")
    assert csls.ranks.tolist() == [1, 1, 1, 1]  # CSLS discounts the hub


def test_direction_positions_are_what_evaluate_uses():
    from xlr.retrieval.directions import direction_positions

    c = corpus()
    d = Direction("de", "en")
    (res,) = evaluate_vectors(c, vectors_fn(c), EvalSpec(directions=(d,), ks=(1,), first=3), "m")
    ids, q, p = direction_positions(c, d, first=3)
    assert ids == res.query_ids == ("Q0", "Q1", "Q2")
    np.testing.assert_array_equal(q, res.query_positions)
    np.testing.assert_array_equal(p, res.pool_positions)
    assert [c.documents[i].lang for i in p] == ["en"] * 3


def _synthetic_embeddings(tmp_path, titles: bool = True):
    from tests.strategy_fakes import synthetic_corpus
    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.corpus_vectors import CorpusEmbeddings

    c, (enc,) = synthetic_corpus(n_ids=12, titles=titles)
    return c, CorpusEmbeddings(c, enc, EmbeddingCache(tmp_path / "cache"))


def test_spec_text_field_must_be_what_the_embeddings_encode(tmp_path):
    """Bug: text_field only changed the label; vectors of the body were reported as title+text."""
    from xlr.retrieval.evaluate import evaluate

    c, emb = _synthetic_embeddings(tmp_path)
    spec = EvalSpec(directions=(Direction("de", "en"),), text_field="title+text")
    with pytest.raises(ValueError, match=r"encode 'text'.*'title\+text'"):
        evaluate(c, emb, spec)


def test_a_corpus_other_than_the_embeddings_is_refused(tmp_path):
    """Bug: a subset's queries were scored with the vectors of other documents."""
    from xlr.retrieval.evaluate import evaluate
    from xlr.retrieval.search import search

    c, emb = _synthetic_embeddings(tmp_path)
    sub = c.subset(ids=[f"id{i:04d}" for i in range(3, 9)])
    spec = EvalSpec(directions=(Direction("de", "en"),))
    with pytest.raises(ValueError, match="not the corpus of the embeddings"):
        evaluate(sub, emb, spec)
    with pytest.raises(ValueError, match="not the corpus of the embeddings"):
        search(sub, emb, "de 3", ["en"], k=2)


def test_evaluate_takes_the_corpus_from_the_embeddings(tmp_path):
    from xlr.retrieval.evaluate import evaluate

    c, emb = _synthetic_embeddings(tmp_path)
    spec = EvalSpec(directions=(Direction("de", "en"), Direction("zh", "en")), ks=(1, 5))
    short, long_ = evaluate(emb, spec), evaluate(c, emb, spec)
    assert [r.ranks.tolist() for r in short] == [r.ranks.tolist() for r in long_]
    from xlr.retrieval.search import search

    assert search(emb, "de 3", ["en"], k=3).hits == search(c, emb, "de 3", ["en"], k=3).hits


def test_pairwise_serves_both_directions_with_one_product_per_pair(monkeypatch):
    import xlr.retrieval.evaluate as ev

    c = corpus()
    spec = EvalSpec(directions=all_directions(c), ks=(1,))
    calls: list[int] = []
    real = ev.pair_gold_ranks
    monkeypatch.setattr(ev, "pair_gold_ranks", lambda a, b, **kw: calls.append(1) or real(a, b, **kw))
    per_direction = evaluate_vectors(c, vectors_fn(c, swap=(0, 1)), spec, "m")
    paired = evaluate_vectors(c, vectors_fn(c, swap=(0, 1)), spec, "m", pairwise=True)
    assert len(calls) == 3  # 3 language pairs serve 6 directions
    for x, y in zip(per_direction, paired, strict=True):
        assert x.direction == y.direction and x.query_ids == y.query_ids
        np.testing.assert_array_equal(x.ranks, y.ranks)
    assert [r.ranks.tolist() for r in paired if r.direction == Direction("en", "de")] == [[2, 2, 1, 1]]

    def asymmetric(positions, role):  # query vectors differ from document vectors: no pairing
        v = vectors_fn(c, swap=(0, 1))(positions, role)
        return v if role == "query" else np.roll(v, 1, axis=1)

    calls.clear()
    got = evaluate_vectors(c, asymmetric, spec, "m", pairwise=True)
    assert calls == []
    assert [r.ranks.tolist() for r in got] == [r.ranks.tolist() for r in evaluate_vectors(c, asymmetric, spec, "m")]
    csls = EvalSpec(directions=all_directions(c), ks=(1,), scoring=ScoringSpec("csls", 2))
    evaluate_vectors(c, vectors_fn(c), csls, "m", pairwise=True)
    assert calls == []  # CSLS/margin: the per-direction kernel


def big_corpus(n: int = 50) -> Corpus:
    return Corpus(
        "big", tuple(Document(f"Q{i}", lang, "", f"{lang} {i}") for i in range(n) for lang in ("en", "de", "fr"))
    )


def test_random_sample_is_seeded_in_corpus_order_and_shared_by_directions():
    from xlr.retrieval.directions import direction_positions, sample_ids

    c = big_corpus()
    ids = c.linked_ids("de", "en")
    a = sample_ids(ids, 10, random_state=3)
    assert a == sample_ids(ids, 10, random_state=3) and a != sample_ids(ids, 10, random_state=4)
    assert len(set(a)) == 10 and list(a) == sorted(a, key=ids.index) and a != ids[:10]
    assert sample_ids(ids, 10) == ids[:10] and sample_ids(ids, 99, random_state=1) == ids
    de_en = direction_positions(c, Direction("de", "en"), 10, random_state=3)[0]
    fr_de = direction_positions(c, Direction("fr", "de"), 10, random_state=3)[0]
    assert de_en == fr_de == a  # a multi-way corpus: every direction gets the same ids


def test_eval_spec_states_its_sampling():
    d = (Direction("de", "en"),)
    assert EvalSpec(d).sampling == "all linked ids"
    assert EvalSpec(d, first=5).sampling == "first 5 linked ids"
    assert EvalSpec(d, first=5, seed=0).sampling == "5 linked ids drawn at random (seed 0)"
    with pytest.raises(ValueError, match="needs its size"):
        EvalSpec(d, seed=1)
    c = big_corpus()
    res = evaluate_vectors(
        c,
        lambda pos, role: np.eye(64, dtype=np.float32)[[int(c.documents[p].id[1:]) for p in pos]],
        EvalSpec(d, first=5, seed=2),
        "m",
    )
    assert res[0].query_ids != c.linked_ids("de", "en")[:5] and len(res[0].query_ids) == 5
    assert (res[0].ranks == 1).all()
