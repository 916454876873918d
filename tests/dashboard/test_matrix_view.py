"""The Overview's many-language view (fast tier): settings <-> URL (pure), and an AppTest with lookup encoders."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from strategy_fakes import synthetic_app

from tests.dashboard.test_hostile_corpus import check as check_hostile
from tests.dashboard.test_hostile_corpus import hostile_app  # noqa: F401 (a fixture)
from tests.dashboard.test_hostile_corpus import settle as settle_hostile
from xlr.dashboard.view_state import (
    MATRIX_ABOVE,
    OverviewView,
    find_rows,
    page_of,
    supported_by_all,
    view_from_params,
    view_params,
)
from xlr.report.marginals import LanguageFilter

LANGS = ["arb", "deu", "ell", "eng", "zho"]


def test_default_view_is_the_matrix_beyond_twenty_directions():
    assert view_from_params({}, ["a"], LANGS, MATRIX_ABOVE).view == "table"
    v = view_from_params({}, ["a", "b"], LANGS, MATRIX_ABOVE + 1)
    assert (v.view, v.model, v.baseline, v.candidate, v.order, v.page) == ("matrix", "a", "a", "b", "script", 1)
    assert view_from_params({}, ["a"], LANGS, 30).baseline == ""


def test_url_round_trip_and_unknown_values_dropped():
    view = OverviewView(
        "matrix", "b", "b", "a", "family", LanguageFilter(("deu", "ell"), ("Latn",), ("Indo-European",), True), 3, "->e"
    )
    params = view_params(view)
    assert all(k.startswith("ov_") for k in params)
    assert view_from_params(params, ["a", "b"], LANGS, 5) == view
    odd = {"ov_view": "pie", "ov_model": "zz", "ov_langs": "deu,xxx,deu", "ov_scripts": "Klingon", "ov_page": "-2"}
    v = view_from_params(odd, ["a", "b"], LANGS, 30)
    assert (v.view, v.model, v.filter.languages, v.filter.scripts, v.page) == ("matrix", "a", ("deu",), (), 1)
    assert view_from_params({"ov_base": "a", "ov_cand": "a"}, ["a", "b"], LANGS, 30).candidate == "b"


def test_find_and_pages():
    frame = pd.DataFrame({"model": ["m"] * 120, "direction": [f"l{i}->eng" for i in range(120)]})
    assert len(find_rows(frame, "L1")) == 1 + 10 + 20  # l1, l10-l19, l100-l119
    assert len(find_rows(frame, " ")) == 120
    part, page, n = page_of(frame, 9)
    assert (len(part), page, n) == (20, 3, 3)
    assert page_of(frame.iloc[:0], 4)[1:] == (1, 1)


def test_supported_by_all_reads_the_model_cards():
    ok = supported_by_all(["use-m3"])
    assert ok("deu") and not ok("ell")
    assert supported_by_all([])("ell")


@pytest.fixture()
def at(tmp_path, monkeypatch):
    return synthetic_app(tmp_path, monkeypatch, 40, 20)


def test_matrix_view_from_a_link_and_back_to_the_url(at):
    at.query_params.update({"directions": "all", "ov_view": "matrix", "ov_order": "code", "ov_base": "fake1"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key="ov.view").value == "matrix"
    assert at.selectbox(key="ov.order").value == "code"
    assert (at.selectbox(key="ov.base").value, at.selectbox(key="ov.cand").value) == ("fake1", "fake0")
    assert not at.table, "no per-direction block table in the matrix view"
    assert len(at.dataframe[-1].value) == 2 * 6  # 2 encoders x 6 directions, one page
    at.multiselect(key="ov.langs").set_value(["de", "en"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["ov_langs"] in ("de,en", ["de,en"])
    assert len(at.dataframe[-1].value) == 2 * 2
    at.radio(key="ov.view").set_value("table").run()
    assert at.table and at.query_params["ov_view"] in ("table", ["table"]) and "ov_langs" not in at.query_params


def test_large_results_build_the_downloads_on_click_not_on_every_rerun(tmp_path, monkeypatch):
    from xlr.dashboard import overview
    from xlr.retrieval.results import EvalResults

    calls: list[str] = []
    real = EvalResults.to_json
    monkeypatch.setattr(EvalResults, "to_json", lambda self, *a, **k: calls.append("json") or real(self, *a, **k))
    monkeypatch.setattr(overview, "DEFER_DOWNLOADS_ABOVE", 10**9)
    app = synthetic_app(tmp_path, monkeypatch, 40, 20)
    app.run()
    assert not app.exception and calls == ["json"]  # small: built with the page, as before
    monkeypatch.setattr(overview, "DEFER_DOWNLOADS_ABOVE", 0)
    calls.clear()
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert calls == [] and {b.proto.label for b in app.get("download_button")} == {"Download CSV", "Download JSON"}


def test_hostile_corpus_renders_as_text_in_the_matrix_view(hostile_app):  # noqa: F811 (the imported fixture)
    hostile_app.query_params.update({"ov_view": "matrix", "ov_find": "evil"})
    at = settle_hostile(hostile_app)
    assert at.radio(key="ov.view").value == "matrix"
    assert at.get("plotly_chart"), "the matrix was drawn"
    check_hostile(at, "overview matrix view")
    labels = [  # plotly's JSON writes "<" as \u003c, so read the labels back rather than search the text
        str(v)
        for el in at.get("plotly_chart")
        for trace in json.loads(el.proto.spec)["data"]
        for axis in ("x", "y")
        for v in trace.get(axis) or []
    ]
    assert any("xx" in v for v in labels) and not any("<b>" in v for v in labels)
