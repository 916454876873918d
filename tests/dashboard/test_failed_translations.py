"""The Failed queries page shows translate-test's cached translations as plain text and offers them for download
(fast AppTest on the synthetic corpus; the translations come from a translate-test run against the fake chat server)."""

from __future__ import annotations

import csv
import io
import json

from strategy_fakes import synthetic_app

from tests.encoders.api_servers import FakeChat
from tests.strategies.test_generative import WordsEncoder, model
from xlr.dashboard import translation_view
from xlr.encoders.cache import EmbeddingCache
from xlr.retrieval.directions import Direction
from xlr.strategies.generative import TRANSLATE, translate_test
from xlr.strategies.split import Split, plan_split

PAGE = "pages/3_Failed_queries.py"
HOSTILE = "Cat [evil](https://evil.example) **bold** <b>x</b>\n:red[red] # not a heading"
SHOWN = " ".join(HOSTILE.split())  # the answer as translate-test keeps it: whitespace collapsed
ZH_EN = Direction("zh", "en")


def _page(tmp_path, monkeypatch):
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    at.switch_page(PAGE).run()
    at.selectbox(key="fq.direction").set_value("zh->en").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_not_translated_yet_says_where_to_run_it(tmp_path, monkeypatch):
    at = _page(tmp_path, monkeypatch)
    captions = [c.value.replace("\\", "") for c in at.caption]  # literal() escapes Markdown
    assert any("zh->en: Not translated yet: run translate-test on the Strategies page" in c for c in captions)
    assert not at.get("download_button") and "translation" not in at.dataframe[0].value.columns


def test_translations_shown_literally_and_downloaded_exactly(tmp_path, monkeypatch):
    served: dict[str, str] = {}
    for fmt in ("csv", "jsonl"):
        make = getattr(translation_view, f"translations_{fmt}")
        monkeypatch.setattr(
            translation_view, f"translations_{fmt}", lambda rows, f=fmt, m=make: served.setdefault(f, m(rows))
        )
    at = _page(tmp_path, monkeypatch)
    failed = at.dataframe[0].value
    assert len(failed) > 1
    corpus = at.session_state["xlr.context"].data.corpus
    worst = str(failed["id"].iloc[0])
    text = corpus.documents[corpus.index(worst, "zh")].text
    with FakeChat(translations={text: HOSTILE}, words={"zh": "en"}).running() as server:
        plan = plan_split(corpus, [ZH_EN], Split(first=20))
        run, _ = translate_test(
            corpus, plan, model(server, tmp_path), WordsEncoder(), cache=EmbeddingCache(tmp_path / "emb")
        )
        sent = server.attempts
        at.run()  # the first failed query (the worst gold rank) is opened
        assert server.attempts == sent  # the page sent nothing
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    by_id = dict(zip(table["id"], table["translation"]))
    assert by_id[worst] == SHOWN
    other = str(table["id"].iloc[1])
    assert by_id[other] == corpus.documents[corpus.index(other, "zh")].text.replace("zh", "en")
    assert SHOWN in [t.value for t in at.text]  # st.text: shown as its characters
    assert any("**Translation** into en by chat:fake\\-llm" in m.value for m in at.markdown)
    assert not any("evil" in m.value for m in [*at.markdown, *at.caption])  # never through Markdown
    # the downloads: every translation of the direction (the 20 evaluated ids), exactly
    used = run.details["translations"]["zh->en"]
    expected = io.StringIO()
    w = csv.writer(expected, lineterminator="\n")
    w.writerow(["id", "source_lang", "target_lang", "original", "translation", "model", "template_hash"])
    rows = []
    for i in corpus.linked_ids("zh", "en")[:20]:
        original = corpus.documents[corpus.index(i, "zh")].text
        rows.append([i, "zh", "en", original, SHOWN if i == worst else used[i], "chat:fake-llm", TRANSLATE.hash])
        w.writerow(rows[-1])
    assert served["csv"] == expected.getvalue()
    keys = ["id", "source_lang", "target_lang", "original", "translation", "model", "template_hash"]
    assert [json.loads(x) for x in served["jsonl"].splitlines()] == [dict(zip(keys, r)) for r in rows]
    labels = {b.proto.label for b in at.get("download_button")}
    assert {"Download translations (CSV)", "Download translations (JSONL)"} <= labels


def test_the_chosen_translations_are_in_the_url_and_a_link_restores_them(tmp_path, monkeypatch):
    from xlr.report.translations import translation_scopes

    at = _page(tmp_path, monkeypatch)
    corpus = at.session_state["xlr.context"].data.corpus
    with FakeChat(words={"zh": "en"}).running() as server:
        plan = plan_split(corpus, [ZH_EN], Split(first=20))
        for seed in (0, 1):  # two scopes: the same model with two seeds
            translate_test(corpus, plan, model(server, tmp_path, seed=seed), WordsEncoder(), cache=EmbeddingCache())
    at.run()
    folders = [s.folder.name for s in translation_scopes(tmp_path / "cache")]
    assert len(folders) == 2 and at.selectbox(key="fq.translations").value == folders[0]
    assert "tr" not in at.query_params  # the newest is the default: left out of the URL
    at.selectbox(key="fq.translations").set_value(folders[1]).run()
    assert at.query_params["tr"] in (folders[1], [folders[1]])
    at.query_params["tr"] = folders[0]  # Back, or a link: the URL names the other scope
    at.run()
    assert at.selectbox(key="fq.translations").value == folders[0]
