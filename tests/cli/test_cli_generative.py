"""``xlr strategies --strategies translate-test,generate-title`` end to end in-process against the fake chat server."""

from __future__ import annotations

import json

import pytest

from tests.encoders.api_servers import FakeChat
from tests.strategies.test_generative import (
    KEY,
    ROWS,
    TITLE_RANKS,
    TITLES,
    TRANSLATE_RANKS,
    TRANSLATIONS,
    WORDS,
    WordsEncoder,
)
from xlr.cli.main import main
from xlr.encoders.catalogue import CATALOGUE, EncoderCard


def _setup(tmp_path, monkeypatch, titles: bool = True):
    path = tmp_path / "constructed.jsonl"
    lines = []
    for i, (t_en, x_en, t_el, x_el) in ROWS.items():
        for lang, title, text in (("el", t_el, x_el), ("en", t_en, x_en)):
            row = {"id": i, "lang": lang, "title": title if titles else "", "url": "", "text": text}
            lines.append(json.dumps(row, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    enc = WordsEncoder()
    monkeypatch.setitem(CATALOGUE, "words", EncoderCard("words", "words", lambda _c: enc, needs="bundled"))
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    return path


def _args(path, tmp_path, url, *extra):
    return [
        "strategies", "--dataset", str(path), "--model", "words", "--directions", "el-en",
        "--chat-model", "chat:fake-llm", "--api-base", url, "--api-retries", "2",
        "--cache-dir", str(tmp_path / "cache"), "--resamples", "200", "--no-progress", *extra,
    ]  # fmt: skip


def test_cli_runs_both_chat_strategies_and_caches(tmp_path, monkeypatch, capsys):
    path = _setup(tmp_path, monkeypatch)
    out = tmp_path / "s.json"
    with FakeChat(titles=TITLES, translations=TRANSLATIONS, words=WORDS).running() as server:
        server.faults = ["429", "500"]
        args = _args(path, tmp_path, server.url, "--strategy", "translate-test,generate-title", "--json", str(out))
        assert main(args) == 0
        sent = server.attempts
        assert main(_args(path, tmp_path, server.url, "--strategies", "translate-test,generate-title")) == 0
        assert server.attempts == sent  # zero requests on the second run
    printed = capsys.readouterr()
    assert "translate-test(words)" in printed.out and "generate-title" in printed.out
    assert "chat:fake-llm: 7 prompts to send" in printed.err and "0 prompts to send" in printed.err
    assert "0 requests" in printed.err
    doc = json.loads(out.read_text())
    pq = doc["per_query"]
    assert pq["words+translate-test(chat:fake-llm)"]["el->en"]["ranks"] == TRANSLATE_RANKS
    assert pq["generate-title(chat:fake-llm)"]["el->en"]["ranks"] == TITLE_RANKS
    models = [s["model"] for s in doc["manifest"]["strategies"]]
    assert models[1:] == ["words+translate-test(chat:fake-llm)", "generate-title(chat:fake-llm)"]
    chats = [s["chat"] for s in doc["manifest"]["strategies"][1:]]
    assert [c["requests"] for c in chats] == [7, 7] and all(c["endpoint"] == server.url for c in chats)
    text = out.read_text() + printed.out + printed.err
    assert KEY not in text
    cand = doc["strategies"]["candidates"]
    assert cand[0]["details"]["translations"]["el->en"]["cat"] == "the cat sleeps on the mat"


def test_cli_budget_and_no_titles(tmp_path, monkeypatch, capsys):
    path = _setup(tmp_path, monkeypatch, titles=False)
    with FakeChat(titles=TITLES).running() as server:
        args = _args(path, tmp_path, server.url, "--strategies", "generate-title,translate-test")
        assert main([*args, "--chat-price-in", "1", "--chat-price-out", "1", "--api-max-cost", "0"]) == 2
        assert server.attempts == 0
        err = capsys.readouterr().err
        assert "generate-title does not apply" in err and "nothing was sent" in err
        assert main([*args, "--strategies", "generate-title"]) == 0
        assert server.attempts == 0


def test_cli_translations_out_csv_and_jsonl(tmp_path, monkeypatch, capsys):
    """``--translations-out``: every translation of the run (CSV by name, else JSONL), never over an input."""
    import csv
    import io

    from xlr.strategies.generative import TRANSLATE

    path = _setup(tmp_path, monkeypatch)
    with FakeChat(translations=TRANSLATIONS, words=WORDS).running() as server:
        base = _args(path, tmp_path, server.url, "--strategies", "translate-test")
        assert main([*base, "--translations-out", str(tmp_path / "t.csv"), "--json", str(tmp_path / "s.json")]) == 0
        assert main([*base, "--translations-out", str(tmp_path / "t.jsonl")]) == 0
        assert main([*base, "--translations-out", str(path)]) == 2  # the data set: refused
        assert main([*base, "--strategies", "csls", "--translations-out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "--translations-out needs translate-test" in err and not (tmp_path / "x.csv").exists()
    used = json.loads((tmp_path / "s.json").read_text())["strategies"]["candidates"][0]["details"]["translations"]
    expected = []
    for i, (_t_en, _x_en, _t_el, x_el) in ROWS.items():  # the cleaned answer; "" where the model answered nothing
        expected.append([i, "el", "en", x_el, "" if i == "sun" else used["el->en"][i], "chat:fake-llm", TRANSLATE.hash])
    want = io.StringIO()
    w = csv.writer(want, lineterminator="\n")
    w.writerow(["id", "source_lang", "target_lang", "original", "translation", "model", "template_hash"])
    w.writerows(expected)
    assert (tmp_path / "t.csv").read_text(encoding="utf-8") == want.getvalue()
    rows = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [list(r.values()) for r in rows] == expected
    assert path.read_text(encoding="utf-8").count("\n") == 14  # the data set is intact


def test_cli_title_match_encoder(tmp_path, monkeypatch, capsys):
    """``--title-match encoder``: the --retriever (here the first --model) ranks the titles after the exact match."""
    from tests.strategies.test_title_match import ENCODER_RANKS

    path = _setup(tmp_path, monkeypatch)
    out = tmp_path / "s.json"
    with FakeChat(titles=TITLES).running() as server:
        args = _args(path, tmp_path, server.url, "--strategies", "generate-title", "--json", str(out))
        assert main([*args, "--title-match", "encoder"]) == 0
        with pytest.raises(SystemExit):  # argparse: not a choice
            main([*args, "--title-match", "bigram"])
    doc = json.loads(out.read_text())
    assert doc["per_query"]["generate-title(chat:fake-llm, words)"]["el->en"]["ranks"] == ENCODER_RANKS
    match = doc["strategies"]["candidates"][0]["details"]["title_match"]
    assert match["method"] == "encoder" and match["encoder"] == "words"
    assert "words: 12 texts encoded" in capsys.readouterr().err


def test_the_header_names_each_encoder_once(tmp_path, monkeypatch, capsys):
    """translate-test with the baseline encoder as its retriever printed "encoders: words, words"."""
    path = _setup(tmp_path, monkeypatch)
    with FakeChat(translations=TRANSLATIONS, words=WORDS).running() as server:
        assert main(_args(path, tmp_path, server.url, "--strategies", "translate-test")) == 0
    out = capsys.readouterr().out
    assert "; encoders: words\n" in out, out[:400]
