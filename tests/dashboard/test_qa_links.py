"""Links a demanding user pastes (found by trying the app in a browser): fast AppTests on the synthetic corpus
(de, en, zh; encoders fake0, fake1)."""

from __future__ import annotations

from strategy_fakes import synthetic_app

from tests.dashboard.test_app import ok


def _sidebar_notes(at) -> list[str]:
    return [w.value.replace("\\", "") for w in [*at.sidebar.warning, *at.sidebar.error, *at.sidebar.info]]


def test_directions_in_a_link_are_read_in_any_code_form_as_the_cli_reads_them(tmp_path, monkeypatch):
    """``?directions=swh-eng,amh-eng`` on Tatoeba 112 (whose languages are sw, am, en) evaluated nothing: the
    directions were dropped in silence, the sidebar said "no directions to evaluate" and the page "Choose a
    data set and at least one encoder". ``xlr eval --directions swh-eng`` reads them (sw->en)."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.query_params["directions"] = "deu-eng,zho-eng"
    ok(at.run())
    ctx = at.session_state["xlr.context"]
    assert ctx is not None, _sidebar_notes(at)
    assert [d.label for d in ctx.spec.directions] == ["de->en", "zh->en"]
    assert at.multiselect(key="w.custom").value == ["de->en", "zh->en"]


def test_a_direction_the_data_set_lacks_is_named_not_dropped_in_silence(tmp_path, monkeypatch):
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.query_params["directions"] = "xx-en,de-en"
    ok(at.run())
    assert [d.label for d in at.session_state["xlr.context"].spec.directions] == ["de->en"]
    notes = _sidebar_notes(at)
    assert any("xx->en" in n and "not in this data set" in n for n in notes), notes
    ok(at.run())  # the page reruns (a job ends, the URL is written): the note stays while the choice does
    assert any("xx->en" in n for n in _sidebar_notes(at)), _sidebar_notes(at)
    at.multiselect(key="w.custom").set_value(["de->en", "zh->en"])
    ok(at.run())
    assert not any("xx->en" in n for n in _sidebar_notes(at))


def test_pages_that_rank_float32_vectors_say_so_when_the_sidebar_chose_binary(tmp_path, monkeypatch):
    """With Vectors = ubinary in the sidebar, the Overview and Failed queries rank binary codes, but Ad-hoc
    search and the heatmap show float32 cosines (0.873 …) with nothing saying the setting does not apply."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.query_params["vectors"] = "ubinary"
    ok(at.run())
    for page, verb in (
        ("pages/4_Ad-hoc_search.py", "ranks"),
        ("pages/1_Similarity_heatmap.py", "ranks"),
        ("pages/2_Embedding_map.py", "maps"),
    ):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        captions = [c.value.replace("\\", "") for c in at.caption]
        assert any(f"{verb} float32 vectors" in c and "ubinary" in c for c in captions), (page, captions)
    at.query_params["vectors"] = "float32"
    fresh = synthetic_app(tmp_path, monkeypatch, 40, 20)
    ok(fresh.run())
    fresh.switch_page("pages/4_Ad-hoc_search.py").run()
    assert not any("ranks float32 vectors" in c.value for c in fresh.caption)


def test_one_encoder_lacking_a_language_can_still_average_every_row(tmp_path, monkeypatch):
    """minilm-en alone on Tatoeba (onnx int8 in the sidebar drops e5-small): every row is "⚠ no ..", the mean row
    reads "mean of 0 fair rows" with empty cells, and the toggle that includes such rows was only offered
    with two encoders or more: the mean could not be had at all."""
    from dataclasses import replace

    from xlr.encoders.catalogue import CATALOGUE

    at = synthetic_app(tmp_path, monkeypatch, 40, 20, XLR_DEFAULT_MODELS="fake1")
    monkeypatch.setitem(CATALOGUE, "fake1", replace(CATALOGUE["fake1"], languages=("en",)))
    ok(at.run())
    table = at.table[0].value
    assert table.iloc[-1, 0] == "mean of 0 fair rows"
    toggles = [t.key for t in at.toggle]
    assert "ov.unfair" in toggles, toggles
    at.toggle(key="ov.unfair").set_value(True)
    ok(at.run())
    mean = at.table[0].value.iloc[-1]
    assert mean.iloc[0] == "mean of rows" and mean.iloc[1][:2] in ("0.", "1."), mean


def test_no_direction_chosen_is_what_the_page_says_is_missing(tmp_path, monkeypatch):
    """A link whose every direction the data set lacks: the sidebar said "no directions to evaluate" and the
    page "Choose a data set and at least one encoder", both of which were chosen."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.query_params["directions"] = "xx-en"
    ok(at.run())
    infos = [i.value for i in at.info]
    assert any("direction" in i for i in infos), infos


def test_one_direction_and_one_language_are_singular(tmp_path, monkeypatch):
    """Singular counts: "1 directions" (sidebar and Overview) and "minilm-en · 22.7M parameters, 1 languages" (the encoder list)."""
    from dataclasses import replace

    from xlr.dashboard.sidebar import _model_label
    from xlr.encoders.catalogue import CATALOGUE

    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.query_params["directions"] = "de-en"
    ok(at.run())
    texts = [i.value for i in at.sidebar.info] + [c.value for c in at.caption]
    assert any(": 1 direction, first 20" in t for t in texts), texts
    assert not any("1 directions" in t for t in texts)
    monkeypatch.setitem(CATALOGUE, "fake1", replace(CATALOGUE["fake1"], languages=("en",), size="1M parameters"))
    assert _model_label("fake1").endswith("1M parameters, 1 language")


def test_the_failed_query_search_link_does_not_promise_the_whole_corpus(tmp_path, monkeypatch):
    """The link "Search this query (ad-hoc, whole corpus)" opened Ad-hoc search on the sidebar's selection ("Pool: 150
    documents of en from the 150 selected ids"): the search page starts on the whole corpus only when it is
    already encoded, and the link does not ask for it."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    ok(at.run())
    at.switch_page("pages/3_Failed_queries.py").run()
    at.selectbox(key="fq.direction").set_value("zh->en").run()
    assert not at.exception, [e.value for e in at.exception]
    links = [e.proto.label for e in at.get("page_link") if e.proto.label.startswith("Search this query")]
    assert links and not any("whole corpus" in label for label in links), links
