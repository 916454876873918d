"""A chat answer loses only what wraps it: quotes or emphasis around the whole answer, never one side of a
quotation the text itself holds (found on the Failed queries page: '**bad** text' was shown as 'bad** text')."""

from __future__ import annotations

import pytest

from xlr.strategies.generative import clean_answer


@pytest.mark.parametrize(
    "raw, want",
    [
        ('"Where are you?" she asked.', '"Where are you?" she asked.'),  # Tatoeba holds such sentences
        ("'Tis the season.", "'Tis the season."),
        ("**bad** text", "**bad** text"),
        ("He said «non».", "He said «non»."),
        ('"A?" "B."', '"A?" "B."'),  # both ends quoted, but by two quotations
        ('"Paris"', "Paris"),
        ("**Athens**", "Athens"),
        ("« Athènes »", "Athènes"),
        ("“雅典”", "雅典"),
        ("Translation: `Hello.`", "Hello."),
        ('""', ""),
        ("** **", ""),
    ],
)
def test_only_what_wraps_the_whole_answer_is_removed(raw, want):
    assert clean_answer(raw, max_chars=200, one_line=False) == want


def test_shared_titles_are_said_before_generate_title_runs():
    """XQuAD has one title per article (about 5 paragraphs each): a perfect answer ties them, ties count
    against the gold, so generate-title scored recall@1 0.000 on de->en with every answer right, and nothing
    said why. One sentence now does, before any request."""
    from xlr.data.records import Corpus, Document
    from xlr.retrieval.directions import Direction
    from xlr.strategies.generative import title_ties_note
    from xlr.strategies.split import Split, plan_split

    docs = []
    for i, title in enumerate(["Paris", "Paris", "Rome", "Oslo"]):
        docs += [Document(f"q{i}", "de", title, f"Text {i}"), Document(f"q{i}", "en", title, f"text {i}")]
    corpus = Corpus(name="articles", documents=docs)
    plan = plan_split(corpus, [Direction("de", "en")], Split(first=4))
    note = title_ties_note(corpus, plan)
    assert note is not None and "2 of the 4 evaluated en documents share their title" in note, note
    assert "ties count against the gold" in note
    unique = Corpus(name="unique", documents=[d for d in docs if d.id != "q1"])
    assert title_ties_note(unique, plan_split(unique, [Direction("de", "en")], Split(first=3))) is None
