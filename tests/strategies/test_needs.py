"""What a strategies run encodes follows the chosen strategies (fast)."""

from __future__ import annotations

from xlr.data.records import Corpus, Document
from xlr.retrieval.directions import Direction
from xlr.strategies.needs import encoding_needs
from xlr.strategies.spec import ScoringSpec, Strategy
from xlr.strategies.split import Split, plan_split


def test_scoring_needs_the_evaluated_ids_only_fitting_needs_every_document():
    docs = [Document(f"i{i}", lang, "", f"{lang} {i}") for i in range(10) for lang in ("de", "en", "fr")]
    corpus = Corpus("c", docs)
    plan = plan_split(corpus, [Direction("de", "en")], Split(first=4))
    (q, _), (p, _) = encoding_needs(corpus, plan, [Strategy(scoring=ScoringSpec("csls", 3))])
    assert [corpus.documents[i].id for i in q] == ["i0", "i1", "i2", "i3"]
    assert {corpus.documents[i].lang for i in q} == {"de"} and {corpus.documents[i].lang for i in p} == {"en"}
    (q, _), (p, _) = encoding_needs(corpus, plan, [Strategy(post=("center",))])
    assert q.size == p.size == 20  # every de and en document (the fit ids too), both roles
    (q, _), _ = encoding_needs(corpus, plan, [Strategy(post=("procrustes",), target_lang="fr")])
    assert q.size == 30
