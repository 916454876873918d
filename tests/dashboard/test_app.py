"""AppTest of every page on real data with real bundled encoders.

Settings are small and shared with test_e2e.py (Tatoeba, first 30 ids per direction,
e5-small and use-m3) so that embeddings computed here are reused from the session cache.
"""

from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from xlr.cli import main as cli_main
from xlr.dashboard import overview as overview_page
from xlr.dashboard import ui, views
from xlr.data.registry import resolve_dataset
from xlr.encoders.cache import EmbeddingCache
from xlr.encoders.corpus_vectors import CorpusEmbeddings
from xlr.retrieval.directions import default_directions, direction_positions
from xlr.retrieval.evaluate import EvalSpec, evaluate, wide_table
from xlr.retrieval.results import EvalResults
from xlr.retrieval.search import search

ROOT = Path(__file__).resolve().parents[2]
HEATMAP, MAP, FAILED, SEARCH = (
    f"pages/{n}.py"
    for n in (
        "1_Similarity_heatmap",
        "2_Embedding_map",
        "3_Failed_queries",
        "4_Ad-hoc_search",
    )
)
FIRST = 30
XSS_TITLE = "<b>bold title</b>"
XSS_TEXT = "<script>window.__xlr_pwned = 1</script> The cat sleeps on the <b>warm</b> mat."
XSS_ROWS = [
    ("x1", "en", XSS_TITLE, XSS_TEXT),
    (
        "x1",
        "de",
        "Katze",
        'Die Katze schläft auf der warmen Matte. <img src=x onerror="window.__xlr_pwned = 2">',
    ),
    ("x1", "ar", "قطة", "القطة تنام على السجادة الدافئة."),
    ("x2", "en", "Paris", "It is raining in Paris today."),
    ("x2", "de", "Paris", "Heute regnet es in Paris."),
    ("x2", "ar", "باريس", "إنها تمطر في باريس اليوم."),
    ("x3", "en", "apples", "I like green apples."),
    ("x3", "de", "Äpfel", "Ich mag grüne Äpfel."),
    ("x3", "ar", "تفاح", "أحب التفاح الأخضر."),
]

slow = pytest.mark.slow


def write_xss_jsonl(path: Path) -> Path:
    path.write_text(
        "".join(
            json.dumps(
                {"id": i, "lang": lang, "title": t, "url": "", "text": x},
                ensure_ascii=False,
            )
            + "\n"
            for i, lang, t, x in XSS_ROWS
        ),
        encoding="utf-8",
    )
    return path


def app(monkeypatch, **env: str | None) -> AppTest:
    settings = {
        "XLR_DEFAULT_DATASET": "tatoeba",
        "XLR_DEFAULT_MODELS": "e5-small",
        "XLR_DEFAULT_FIRST": str(FIRST),
        "XLR_DEFAULT_KS": None,
        "XLR_DEFAULT_DIRECTIONS": None,
    } | env
    for key, value in settings.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, value)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)


def encoding(at: AppTest) -> bool:
    return any(b.proto.label in ("Cancel", "Resume encoding") for b in at.button) or bool(at.get("progress"))


def ok(at: AppTest) -> AppTest:
    """No exception, and once background encoding has finished (polls, re-running the page like the browser)."""
    assert not at.exception, [e.value for e in at.exception]
    while encoding(at):
        time.sleep(0.5)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
    return at


def overview(at: AppTest) -> pd.DataFrame:
    """The overview's comparison table (directions x encoders, cells ``value [low, high] marks``)."""
    return at.table[0].value


def chart(at: AppTest, i: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[i].proto.spec)


def arr(value) -> np.ndarray:
    """A plotly JSON array: a list, or a typed array ``{"dtype", "bdata", "shape"}``."""
    if isinstance(value, dict) and "bdata" in value:
        out = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        shape = value.get("shape")
        return out.reshape([int(n) for n in str(shape).split(",")]) if shape else out
    return np.asarray(value)


@pytest.fixture(scope="module")
def tatoeba():
    return resolve_dataset("tatoeba", download_missing=False).corpus


def reference(corpus, encoders, first=FIRST):
    spec = EvalSpec(default_directions(corpus), (1, 5, 10), first)
    return [r for enc in encoders for r in evaluate(corpus, CorpusEmbeddings(corpus, enc, EmbeddingCache()), spec)]


@slow
def test_overview_matches_cli_and_downloads(monkeypatch, tmp_path, e5, use_m3):
    served: dict[str, str | bytes] = {}  # what the download buttons were given, by format

    def recording(fmt, make):
        def record(*args, **kwargs):
            out = make(*args, **kwargs)
            served[fmt] = out
            return out

        return record

    monkeypatch.setattr(EvalResults, "to_json", recording("json", EvalResults.to_json))
    monkeypatch.setattr(overview_page, "results_csv", recording("csv", overview_page.results_csv))
    at = ok(app(monkeypatch, XLR_DEFAULT_MODELS="e5-small,use-m3").run())
    shown = overview(at)
    downloads = dict(served)  # the Overview's last run (the CLI below writes JSON too)

    out = tmp_path / "cli.json"
    assert (
        cli_main.main(
            [
                "eval",
                "--dataset",
                "tatoeba",
                "--model",
                "e5-small",
                "--model",
                "use-m3",
                "--first",
                str(FIRST),
                "--no-progress",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    cli_rows = json.loads(out.read_text())["rows"]
    expected = wide_table(pd.DataFrame(cli_rows))
    for model in ("e5-small", "use-m3"):
        part = expected[expected["model"] == model]
        cells = shown[model].iloc[:-1].map(lambda c: float(c.split()[0]))
        np.testing.assert_allclose(cells.to_numpy(), part["recall@1"].round(3).to_numpy(), atol=1e-9)
    assert len(shown) == 6 and set(expected["n_queries"]) == {FIRST}  # 5 directions + the mean row
    # downloads: the CLI's formats, the same rows
    assert {b.proto.label for b in at.get("download_button")} == {"Download CSV", "Download JSON"}
    data = json.loads(downloads["json"])
    assert {"rows", "manifest", "per_query"} <= set(data)
    assert [(r["model"], r["source"], r["metric"], r["value"]) for r in data["rows"]] == [
        (r["model"], r["source"], r["metric"], r["value"]) for r in cli_rows
    ]
    assert data["manifest"]["spec"] == json.loads(out.read_text())["manifest"]["spec"]
    text = downloads["csv"]
    csv = pd.read_csv(pd.io.common.StringIO(text.decode() if isinstance(text, bytes) else text))
    assert list(csv.columns) == ["model", "source", "target", "metric", "value", "n_queries"] and len(csv) == 40
    # bar chart + one source x target heatmap per model
    assert [chart(at, i)["data"][0]["type"] for i in range(3)] == [
        "bar",
        "heatmap",
        "heatmap",
    ]
    ar_en = float(shown.loc[list(shown.iloc[:, 0]).index("ar->en"), "e5-small"].split()[0])
    assert arr(chart(at, 1)["data"][0]["z"])[0, 0] == pytest.approx(ar_en, abs=5e-4)


@slow
def test_sidebar_state_survives_page_switches(monkeypatch):
    at = ok(app(monkeypatch).run())
    at.sidebar.number_input(key="w.first").set_value(20)
    ok(at.run())
    assert any("first 20 linked ids" in c.value for c in at.caption)
    ok(at.switch_page(FAILED).run())  # (AppTest keeps no sidebar elements after a switch; the browser does)
    assert " of 20 queries fail" in at.subheader[0].value
    ok(at.run())
    assert " of 20 queries fail" in at.subheader[0].value


@slow
def test_heatmap_diagonal_is_the_linked_pairs(monkeypatch, tatoeba, e5):
    at = ok(app(monkeypatch).run())
    ok(at.switch_page(HEATMAP).run())
    ids, q_pos, p_pos = direction_positions(tatoeba, default_directions(tatoeba)[0], FIRST)
    emb = CorpusEmbeddings(tatoeba, e5, EmbeddingCache())
    q, p = emb.vectors(q_pos, "query"), emb.vectors(p_pos, "document")
    heat = chart(at)["data"][0]
    z = arr(heat["z"])
    assert z.shape == (20, 20)
    np.testing.assert_allclose(np.diag(z), np.einsum("ij,ij->i", q[:20], p[:20]), atol=1e-5)
    np.testing.assert_allclose(z, q[:20] @ p[:20].T, atol=1e-5)
    top1 = chart(at)["data"][1]
    assert arr(top1["x"]).tolist() == np.argmax(q[:20] @ p[:20].T, axis=1).tolist()
    # the search moves the window: row 0 becomes id ara-eng:12
    at.text_input(key="hm.find").input("ara-eng:12")
    ok(at.run())
    z = arr(chart(at)["data"][0]["z"])
    assert z[0, 0] == pytest.approx(float(q[12] @ p[12]), abs=1e-5)


@slow
def test_failed_queries_are_the_ranks_beyond_k(monkeypatch, tatoeba, e5):
    results = reference(tatoeba, [e5])
    at = ok(app(monkeypatch).run())
    ok(at.switch_page(FAILED).run())
    for k in (1, 5):
        at.selectbox(key="fq.k").set_value(k)
        ok(at.run())
        res = next(r for r in results if r.direction.label == at.selectbox(key="fq.direction").value)
        table = at.dataframe[0].value
        assert set(table["id"]) == {i for i, r in zip(res.query_ids, res.ranks) if r > k}
        assert list(table["gold rank"]) == sorted(table["gold rank"], reverse=True)
        assert f"{len(table)} of {FIRST} queries fail at k = {k}" == at.subheader[0].value
    at.selectbox(key="fq.k").set_value(1)
    ok(at.run())
    opened = at.selectbox(key="fq.open").value
    res = results[0]
    doc = tatoeba.documents[int(res.query_positions[opened])]
    gold = tatoeba.documents[int(res.pool_positions[opened])]
    assert [t.value for t in at.text[:2]] == [doc.text, gold.text]
    cand = at.table[0].value
    assert len(cand) == 10 and any(f"ranked **{res.ranks[opened]}**" in m.value for m in at.markdown)


@slow
def test_failed_queries_consistency_on_xquad(monkeypatch, shared_data, use_m3):
    path = shared_data / "xquad-7lang.jsonl"
    corpus = resolve_dataset(path, download_missing=False).corpus
    results = reference(corpus, [use_m3], first=15)  # use-m3: ~0.15 s per paragraph here
    at = ok(
        app(
            monkeypatch,
            XLR_DEFAULT_DATASET=str(path),
            XLR_DEFAULT_MODELS="use-m3",
            XLR_DEFAULT_FIRST="15",
        ).run()
    )
    ok(at.switch_page(FAILED).run())
    expected = views.consistency(results, 1)
    expected = expected[expected["failing"] > 0]
    shown = at.dataframe[1].value
    assert list(shown["id"]) == list(expected["id"])
    assert list(shown["pattern"]) == list(expected["pattern"])
    assert any("fail from every source language" in c.value for c in at.caption)


@slow
def test_embedding_map_points_and_search(monkeypatch, tatoeba):
    at = ok(app(monkeypatch).run())
    ok(at.switch_page(MAP).run())
    ids = set(views.selected_ids(tatoeba, default_directions(tatoeba), FIRST))
    n_docs = sum(1 for d in tatoeba.documents if d.id in ids)
    fig = chart(at)
    points = [t for t in fig["data"] if t["name"] not in ("same id", "search matches")]
    assert sorted(t["name"] for t in points) == ["ar", "de", "el", "en", "fr", "zh"]
    assert sum(arr(t["x"]).size for t in points) == n_docs == 300
    assert fig["data"][0]["name"] == "same id"
    at.radio(key="map.method").set_value("pca")
    at.text_input(key="map.find").input("ara-eng:1")
    ok(at.run())
    matches = next(t for t in chart(at)["data"] if t["name"] == "search matches")
    expected = sum(1 for d in tatoeba.documents if d.id in ids and "ara-eng:1" in d.id)
    assert arr(matches["x"]).size == expected == 22


@slow
def test_search_ranks_the_translation_first(monkeypatch, tatoeba, e5):
    ids = views.selected_ids(tatoeba, default_directions(tatoeba), FIRST)
    sub = tatoeba.subset(ids=ids)
    emb = CorpusEmbeddings(sub, e5, EmbeddingCache())
    at = ok(app(monkeypatch).run())
    ok(at.switch_page(SEARCH).run())
    assert "Type a query" in at.info[0].value
    # the default pool depends on what the cache holds (the whole corpus once encoded): choose the selection
    at.toggle(key="search.whole").set_value(False)  # the reference search ranks the selection
    for lang in ("el", "zh"):
        doc = next(
            d
            for d in (sub.documents[int(i)] for i in sub.positions(lang))
            if search(sub, emb, d.text, ["en"], k=1).hits[0].document.id == d.id
        )
        at.text_area(key="search.text").input(doc.text)
        at.button(key="search.go").click()
        ok(at.run())
        hits = at.table[0].value
        assert hits["id"].iloc[0] == doc.id and hits["lang"].iloc[0] == "en"
        assert len(hits) == 10 and any("ms (query encoding + search)" in c.value.replace("\\", "") for c in at.caption)
        pool = f"Pool: {sub.positions('en').size} documents of en from the {len(ids)} selected ids"
        assert any(pool in c.value.replace("\\", "") for c in at.caption)


@slow
def test_first_run_offers_upload_and_path(monkeypatch, tmp_path):
    empty = tmp_path / "data"
    empty.mkdir()
    monkeypatch.setenv("XLR_DATA_DIR", str(empty))
    monkeypatch.setenv("XLR_DATA_BASE_URL", "http://127.0.0.1:9")  # refuses at once, even online
    at = ok(app(monkeypatch, XLR_DEFAULT_DATASET=None).run())
    assert "No data set is available" in at.warning[0].value
    error = at.error[0].value.replace("\\", "").replace("\u2060", "")  # escaped, bare links broken
    assert str(empty / "sample-6lang.jsonl") in error and "http://127.0.0.1:9/sample-6lang.jsonl" in error
    assert "upload a JSONL file" in at.markdown[-1].value
    assert not at.table
    # the upload it offers works
    data = write_xss_jsonl(tmp_path / "mine.jsonl").read_bytes()
    at.get("file_uploader")[0].set_value(("mine.jsonl", data, "application/json"))
    ok(at.run())
    assert at.sidebar.selectbox(key="w.dataset").value.endswith("mine.jsonl")
    assert len(overview(at)) == 3  # ar->en, de->en, the mean row


@slow
def test_bad_inputs_are_reported_and_nothing_is_lost(monkeypatch, tmp_path):
    at = ok(app(monkeypatch).run())
    bad = b'{"id": "a", "lang": "en", "text": "ok"}\n{"id": "a", "text": "no lang"}\n{"id": \n'
    at.get("file_uploader")[0].set_value(("bad.jsonl", bad, "application/json"))
    ok(at.run())
    message = at.sidebar.error[0].value
    assert "bad\\.jsonl was not loaded: 2 problems" in message
    assert "line 2, field 'lang': missing" in message.replace("\\", "")
    assert "line 3" in message
    assert at.sidebar.selectbox(key="w.dataset").value == "tatoeba"
    assert len(overview(at)) == 6  # the evaluation is still there
    at.sidebar.text_input(key="w.path").input(str(tmp_path / "missing.jsonl"))
    at.sidebar.button(key="w.load_path").click()
    ok(at.run())
    assert "missing.jsonl was not loaded" in at.sidebar.error[0].value.replace("\\", "")
    assert at.sidebar.selectbox(key="w.dataset").value == "tatoeba"


@slow
def test_hub_encoder_fails_offline_with_one_sentence(monkeypatch):
    at = ok(app(monkeypatch, XLR_DEFAULT_MODELS="labse,e5-small").run())
    errors = [e.value.replace("\\", "") for e in at.sidebar.error]
    assert len(errors) == 1 and errors[0].startswith("labse: could not load") and "offline" in errors[0]
    assert "e5-small" in overview(at).columns and "labse" not in overview(at).columns


@slow
def test_html_in_documents_and_queries_stays_text(monkeypatch, tmp_path):
    path = write_xss_jsonl(tmp_path / "xss.jsonl")
    at = ok(app(monkeypatch, XLR_DEFAULT_DATASET=str(path), XLR_DEFAULT_FIRST="all").run())

    def no_raw_html(at: AppTest) -> None:
        # the only markdown allowed to carry HTML is the constant CSS; charts escape everything
        for md in at.markdown:
            assert not md.proto.allow_html or md.value == ui._CSS
            assert "<script>" not in md.value and "<b>" not in md.value
        for i in range(len(at.get("plotly_chart"))):
            spec = json.dumps(json.loads(at.get("plotly_chart")[i].proto.spec), ensure_ascii=False)  # \u003c -> <
            assert "<script>" not in spec and "<b>bold" not in spec and "<img" not in spec

    no_raw_html(at)
    ok(at.switch_page(HEATMAP).run())
    no_raw_html(at)
    assert "&lt;b&gt;bold title" in json.dumps(chart(at)["layout"]["xaxis"]["ticktext"])  # labels are cut short
    ok(at.switch_page(MAP).run())
    no_raw_html(at)
    ok(at.switch_page(SEARCH).run())
    at.text_area(key="search.text").input("<b>cat</b> sleeping on a mat <script>x()</script>")
    at.button(key="search.go").click()
    ok(at.run())
    no_raw_html(at)
    hits = at.table[0].value
    shown = {c: re.sub(r"\\(.)", r"\1", hits[c].iloc[0]).replace("\u2060", "") for c in ("text", "title")}
    assert shown == {"text": XSS_TEXT, "title": XSS_TITLE}  # Markdown-escaped cells: they show verbatim, as text


def test_initial_settings_from_params_then_env():
    env = {
        "XLR_DEFAULT_DATASET": "xquad",
        "XLR_DEFAULT_MODELS": "use-m3, nope",
        "XLR_DEFAULT_FIRST": "all",
        "XLR_DEFAULT_KS": "10,1",
        "XLR_DEFAULT_DIRECTIONS": "ar-en,de-en",
    }
    s, warnings = ui.initial_settings(env, {"first": "7"}, "tatoeba")
    assert (s.dataset, s.models, s.first, s.ks, s.directions, s.custom) == (
        "xquad",
        ("use-m3",),
        7,
        (1, 10),
        "custom",
        ("ar->en", "de->en"),
    )
    assert warnings == ["unknown encoder 'nope' in XLR_DEFAULT_MODELS ignored"]
    s, warnings = ui.initial_settings({"XLR_DEFAULT_FIRST": "many"}, {"directions": "all"}, "tatoeba")
    assert (s.dataset, s.models, s.first, s.directions) == (
        "tatoeba",
        ("e5-small",),
        ui.DEFAULT_FIRST,
        "all",
    )
    assert "XLR_DEFAULT_FIRST must be a positive integer or 'all'" in warnings[0]
    s, _ = ui.initial_settings({"XLR_DEFAULT_DATASET": "rel/x.jsonl"}, {}, "tatoeba")
    assert Path(s.dataset).is_absolute() and s.dataset.endswith("rel/x.jsonl")
