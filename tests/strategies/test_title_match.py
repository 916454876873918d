"""generate-title's encoder-over-titles match (``--title-match encoder``) against a naive reference (fast; fake
encoders and the fake chat server, no model)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.encoders.api_servers import FakeChat
from tests.strategies.test_generative import TITLES, WordsEncoder, corpus, model, plan
from tests.strategy_fakes import HashEncoder
from xlr.encoders.cache import EmbeddingCache
from xlr.strategies.generative import generate_title
from xlr.strategies.title_match import encoder_title_cosines, title_ranks

# WordsEncoder: cosine > 0 only for a shared (case-sensitive) word. Answers (see test_generative.TITLES):
# cat "Cat", dog "dog" exact -> 1; "Athen" shares no word with "Athens" -> every cosine 0, ties -> 7;
# "Sun xxx…" shares "Sun" -> 1; Greek "Θάλασσα" -> 7; "| Title | Moon |" shares "Moon" -> 1; empty -> 7
ENCODER_RANKS = [1, 1, 7, 1, 7, 1, 7]


def naive_ranks(encoder, answers, titles, gold):
    """The module docstring's score, one pair at a time: exact 2, empty -1, else the cosine of two encodings."""

    def norm(t):
        import unicodedata

        t = unicodedata.normalize("NFKC", t).casefold()
        return " ".join("".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in t).split())

    def vec(text, role):
        v = encoder.encode([text.strip()], role=role)[0].astype(np.float64)
        return v / np.linalg.norm(v)

    out = []
    for a, g in zip(answers, gold):
        scores = []
        for t in titles:
            if norm(a) and norm(a) == norm(t):
                scores.append(2.0)
            elif not norm(a) or not norm(t):
                scores.append(-1.0)
            else:
                scores.append(float(vec(a, "query") @ vec(t, "document")))
        out.append(sum(s >= scores[g] - 1e-6 for s in scores))  # float32 products: ties within rounding
    return out


def test_encoder_match_equals_the_naive_reference(tmp_path):
    enc = HashEncoder(dim=16)
    titles = ["Cat", "Dog", "Athens", "Cat", "", "Sun", "Moon", "sea!"]
    answers = ["cat", "Athen", "", "the moon", "SEA", "Sunny", "x", "Dogs", "Mond"]
    gold = np.array([0, 2, 1, 6, 7, 5, 4, 1, 6])
    cos, stats = encoder_title_cosines(enc, answers, titles, cache=EmbeddingCache(tmp_path))
    got = title_ranks(answers, titles, gold, cosines=cos)
    assert got.tolist() == naive_ranks(enc, answers, titles, gold)
    # exact ties count against the gold (2), an empty answer ranks it last (8), an empty gold title too (8)
    assert got[0] == 2 and got[2] == 8 and got[6] == 8 and got[4] == 1
    assert stats.encoded == 8 + 6  # the non-empty answers and the distinct non-empty titles
    again, st2 = encoder_title_cosines(enc, answers, titles, cache=EmbeddingCache(tmp_path))
    assert st2.encoded == 0 and np.array_equal(again, cos)  # through the normal cache
    with pytest.raises(ValueError, match="shape"):
        title_ranks(answers, titles, gold, cosines=cos[:, :3])


def test_generate_title_with_the_encoder_match(tmp_path):
    c = corpus()
    with FakeChat(titles=TITLES).running() as server:
        run = generate_title(
            c, plan(c), model(server, tmp_path), title_encoder=WordsEncoder(), cache=EmbeddingCache(tmp_path / "e")
        )
        trigram = generate_title(c, plan(c), model(server, tmp_path))
    assert run.results[0].ranks.tolist() == ENCODER_RANKS
    assert trigram.results[0].ranks.tolist() != ENCODER_RANKS  # "Athen" finds Athens by trigrams only
    assert run.model == "generate-title(chat:fake-llm, words)" and run.strategy.name == "generate-title(words)"
    assert trigram.model == "generate-title(chat:fake-llm)" and trigram.details["title_match"] == {"method": "trigram"}
    m = run.details["title_match"]  # 6 answers + 7 titles, "Cat" once (its vector does not depend on the role)
    assert (m["method"], m["encoder"], m["texts_encoded"]) == ("encoder", "words", 12) and run.encoders == ("words",)
