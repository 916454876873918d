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
