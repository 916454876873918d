"""translate-test's translations read back from the chat generation cache (fast; fake chat server, no model)."""

from __future__ import annotations

import csv
import io
import json
import os

import pandas as pd

from tests.encoders.api_servers import FakeChat
from tests.strategies.test_generative import TRANSLATIONS, WORDS, WordsEncoder, corpus, model, plan
from xlr.dashboard.views import NO_ANSWER, with_translations
from xlr.encoders.cache import EmbeddingCache
from xlr.report.translations import (
    TRANSLATION_COLUMNS,
    Translation,
    direction_translations,
    translation_scopes,
    translations_csv,
    translations_jsonl,
)
from xlr.retrieval.directions import Direction
from xlr.strategies.generative import TRANSLATE, translate_test

EL_EN = Direction("el", "en")


def _run(tmp_path, server, **params):
    c = corpus()
    run, _ = translate_test(
        c, plan(c), model(server, tmp_path, **params), WordsEncoder(), cache=EmbeddingCache(tmp_path / "e")
    )
    return c, run


def test_the_cache_gives_back_what_translate_test_retrieved_with(tmp_path):
    with FakeChat(translations=TRANSLATIONS, words=WORDS).running() as server:
        c, run = _run(tmp_path, server)
        sent = server.attempts
        scopes = translation_scopes(tmp_path / "cache")
        assert len(scopes) == 1 and scopes[0].scope["model"] == "fake-llm"
        rows = direction_translations(c, EL_EN, scopes[0])
        assert server.attempts == sent  # reading sends nothing
    used = run.details["translations"]["el->en"]
    assert [r.id for r in rows] == list(used)  # every query, id order
    for r in rows:  # the cleaned answer; empty where translate-test fell back to the original
        assert r.translation == (used[r.id] if r.id != "sun" else "")
        assert (r.source_lang, r.target_lang, r.model, r.template_hash) == ("el", "en", "chat:fake-llm", TRANSLATE.hash)
        assert r.original == c.documents[c.index(r.id, "el")].text
    assert {r.id: r.translation for r in rows}["dog"] == "the dog barks at night"  # Markdown fence removed
    assert [r.id for r in direction_translations(c, EL_EN, scopes[0], ids=["sea", "cat", "nope"])] == ["cat", "sea"]
    assert direction_translations(c, Direction("en", "el"), scopes[0]) == []  # another direction: not translated


def test_scopes_newest_first_and_damaged_scopes_left_out(tmp_path):
    with FakeChat(translations=TRANSLATIONS, words=WORDS).running() as server:
        _run(tmp_path, server)
        _run(tmp_path, server, seed=1)
    for i, scope in enumerate(translation_scopes(tmp_path / "cache")):  # the seed-1 answers written last
        os.utime(scope.folder / "generations.jsonl", (1e9, 1e9 + 2 * (scope.scope["seed"] == 1) + i))
    scopes = translation_scopes(tmp_path / "cache")
    assert [s.scope["seed"] for s in scopes] == [1, 0]
    assert "chat:fake-llm at " in scopes[0].label and "seed 1" in scopes[0].label
    (scopes[0].folder / "scope.json").write_text("{not json", encoding="utf-8")
    moved = json.loads((scopes[1].folder / "scope.json").read_text())
    (scopes[1].folder / "scope.json").write_text(json.dumps({**moved, "seed": 7}), encoding="utf-8")  # not its folder
    assert translation_scopes(tmp_path / "cache") == []
    assert translation_scopes(tmp_path / "absent") == []


ROWS = [
    Translation("1", "el", "en", 'η γάτα, "κοιμάται"', '=HYPERLINK("http://x")', "chat:m", "abc"),
    Translation("2", "el", "en", "δύο\nγραμμές", "**bold** <b>x</b>", "chat:m", "abc"),
]


def test_downloads_exact():
    expected = io.StringIO()
    w = csv.writer(expected, lineterminator="\n")
    w.writerow(TRANSLATION_COLUMNS)
    w.writerow(["1", "el", "en", 'η γάτα, "κοιμάται"', '\'=HYPERLINK("http://x")', "chat:m", "abc"])  # formula disarmed
    w.writerow(["2", "el", "en", "δύο\nγραμμές", "**bold** <b>x</b>", "chat:m", "abc"])
    assert translations_csv(ROWS) == expected.getvalue()
    lines = translations_jsonl(ROWS).splitlines()
    assert [json.loads(x) for x in lines] == [dict(zip(TRANSLATION_COLUMNS, vars(r).values())) for r in ROWS]
    assert "γάτα" in lines[0]  # UTF-8 kept, not \u-escaped
    assert translations_csv([]) == ",".join(TRANSLATION_COLUMNS) + "\n" and translations_jsonl([]) == ""


def test_with_translations_joins_by_id():
    failed = pd.DataFrame(
        {"query": [0, 3, 4], "id": ["a", "b", "c"], "query_text": ["x", "y", "z"], "gold_rank": [9, 8, 7]}
    )
    out = with_translations(failed, {"a": "**A** " + "w " * 100, "c": "  ", "zz": "unused"})
    assert list(out.columns) == ["query", "id", "query_text", "translation", "gold_rank"]
    assert out["translation"].iloc[0].startswith("**A** w") and len(out["translation"].iloc[0]) == 80
    assert out["translation"].iloc[1] is None and out["translation"].iloc[2] == NO_ANSWER
    assert "translation" not in failed.columns
