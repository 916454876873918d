"""A first-N selection whose head is duplicate-heavy is named (fast)."""

from __future__ import annotations

from xlr.data.records import Corpus, Document
from xlr.report.sampling import skewed_heads
from xlr.retrieval.directions import Direction


def corpus(head: list[str], tail: list[str]) -> Corpus:
    docs = []
    for i, text in enumerate(head + tail):
        docs += [Document(f"i{i}", "ar", "", text), Document(f"i{i}", "en", "", f"english {i}")]
    return Corpus("c", docs)


def test_a_head_of_near_duplicates_is_named_and_a_plain_head_is_not():
    tail = [f"sentence number {i} about weather cats and trains" for i in range(980)]
    head = [f"sami wanted the money {i}" for i in range(20)] + tail[:30]
    c = corpus(head, tail)
    (skew,) = skewed_heads(c, [Direction("ar", "en")], 50)
    assert skew.direction == "ar->en" and skew.word == "money" and skew.share == 0.4
    assert "first 50" in skew.sentence() and "not a fair sample" in skew.sentence()
    assert skewed_heads(c, [Direction("ar", "en")], 50, seed=3) == []  # a random sample is not a head
    assert skewed_heads(c, [Direction("ar", "en")], None) == []  # all ids
    plain = corpus(tail[:50], tail[50:])
    assert skewed_heads(plain, [Direction("ar", "en")], 50) == []
