"""The Overview with one encoder at two settings as columns and the price of speed (issue 20, item 3):
fast AppTests with lookup encoders; the figures equal xlr.report.price's on the same results."""

from __future__ import annotations

import pytest
from strategy_fakes import synthetic_app

from tests.dashboard.test_app import ok
from xlr.dashboard.state import settings_params


@pytest.fixture()
def at(tmp_path, monkeypatch):
    return synthetic_app(tmp_path, monkeypatch, 40, 20)


BASE, BINARY = "fake1 · torch fp32", "fake1 · torch fp32 ubinary"


def _markdown(at) -> list[str]:
    return [m.value for m in at.markdown]


def test_one_encoder_at_two_vector_precisions_side_by_side_with_the_price(at):
    from xlr.encoders.cache import EmbeddingCache
    from xlr.report.price import Setting, price_of_speed

    ok(at.run())
    ok(at.toggle(key="w.compare_on").set_value(True).run())
    at.selectbox(key="w.compare_model").set_value("fake1")
    ok(at.run())
    table = at.table[0].value
    assert list(table.columns[1:3]) == [BASE, BINARY]  # the two settings as the Overview's columns
    assert at.query_params["compare"] in ("torch/fp32/ubinary", ["torch/fp32/ubinary"])
    assert at.query_params["compare_model"] in ("fake1", ["fake1"])
    assert [h.value for h in at.subheader] == ["The price of speed"]
    # the same report as xlr price on the same corpus, encoder and queries
    ctx = at.session_state["xlr.context"]
    from xlr.dashboard import resources

    encoder = resources.encoder("fake1")
    want = price_of_speed(
        ctx.data.corpus, lambda _s: encoder, ctx.spec, Setting(), Setting(vectors="ubinary"), EmbeddingCache(None),
        timing_texts=4,
    )  # fmt: skip
    sentence = want.sentence().replace("fake1+ubinary", BINARY) + "."  # speed: not measured (one engine)
    assert sentence in [m.replace("\\", "").replace("\u2060", "") for m in _markdown(at)]
    shown = at.table[1].value
    assert list(shown["direction"]) == [
        f"{s}->{t}" for s, t in zip(want.directions["source"], want.directions["target"])
    ]
    assert list(shown["change"]) == [f"{v * 100:+.1f}" for v in want.directions["delta"]]
    assert list(shown["p (Holm)"]) == [f"{v:.4f}" for v in want.directions["p_holm"]]
    languages = at.table[2].value
    assert list(languages["worst"]) == list(want.marginals["worst"])
    memory = at.table[3].value
    assert list(memory["bytes/vector"]) == ["64", "2"]  # 16 float32 vs 16 bits
    assert "pv.measure" not in [b.key for b in at.button]  # one encoder, same weights: nothing to time


def test_the_comparison_is_in_the_url_and_a_link_restores_it(at, tmp_path, monkeypatch):
    ok(at.run())
    ok(at.toggle(key="w.compare_on").set_value(True).run())
    at.selectbox(key="w.cmp_vectors").set_value("int8")
    ok(at.run())
    params = settings_params(at.session_state["xlr.settings"])
    assert params["compare"] == "torch/fp32/int8" and params["compare_model"] == "fake0"
    fresh = synthetic_app(tmp_path, monkeypatch, 40, 20)
    for k, v in params.items():
        fresh.query_params[k] = v
    ok(fresh.run())
    assert fresh.toggle(key="w.compare_on").value and fresh.selectbox(key="w.cmp_vectors").value == "int8"
    assert list(fresh.table[0].value.columns[1:3]) == ["fake0 · torch fp32", "fake0 · torch fp32 int8"]
    # off again: the plain Overview, and the parameters leave the URL
    fresh.toggle(key="w.compare_on").set_value(False)
    ok(fresh.run())
    assert list(fresh.table[0].value.columns[1:3]) == ["fake0", "fake1"] and "compare" not in fresh.query_params


def test_a_setting_the_encoder_cannot_run_is_one_sentence(at):
    ok(at.run())
    ok(at.toggle(key="w.compare_on").set_value(True).run())
    at.selectbox(key="w.cmp_backend").set_value("onnx")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("fake0 does not take" in e.value for e in at.error)
    assert at.selectbox(key="w.cmp_precision").options == ["fp32", "int8"]


def test_the_same_setting_twice_shows_the_plain_overview(at):
    ok(at.run())
    ok(at.toggle(key="w.compare_on").set_value(True).run())
    at.selectbox(key="w.cmp_vectors").set_value("float32")
    ok(at.run())
    assert list(at.table[0].value.columns[1:3]) == ["fake0", "fake1"]
    assert any("the second setting is the sidebar's own" in i.value for i in at.info)


@pytest.mark.slow  # minilm-en on 20 Tatoeba ids per direction, exported to onnx int8 once (about 30 s)
def test_minilm_at_torch_fp32_and_onnx_int8_side_by_side(monkeypatch):
    pytest.importorskip("onnxruntime")
    from tests.dashboard.test_app import app

    at = app(monkeypatch, XLR_DEFAULT_MODELS="minilm-en", XLR_DEFAULT_FIRST="20")
    at.query_params.update({"compare": "onnx/int8/float32", "compare_model": "minilm-en"})  # a link
    ok(at.run())
    base, fast = "minilm-en · torch fp32", "minilm-en · onnx int8"
    assert list(at.table[0].value.columns[1:3]) == [base, fast]
    plain = [m.replace("\\", "").replace("\u2060", "") for m in _markdown(at)]  # Markdown escapes off
    sentence = next(m for m in plain if m.startswith(fast))
    assert "of recall@1 on average over 5 directions" in sentence
    memory = at.table[3].value.set_index("setting")
    assert float(memory.loc["onnx int8", "weights MB"]) < float(memory.loc["torch fp32", "weights MB"])  # the export
    assert list(memory["bytes/vector"]) == ["1536", "1536"]  # the same float32 vectors (384-d)
    at.button(key="pv.measure").click()
    ok(at.run())
    speed = at.table[3].value
    assert all(v != "–" for v in speed["texts/s"])
    assert any(c.value.startswith("Speed: ") for c in at.caption)


def test_one_job_bar_when_only_the_vectors_differ(at, monkeypatch):
    """Both settings of a vectors-only comparison wait on the same encoding job: one progress bar (two drew
    the same Cancel button twice: StreamlitDuplicateElementKey, seen in the browser)."""
    from xlr.dashboard import ui

    monkeypatch.setattr(ui, "_QUICK", 0.0)  # draw the bar at once, while the job still runs
    at.query_params.update({"compare": "torch/fp32/ubinary", "compare_model": "fake0"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    ok(at)
    assert list(at.table[0].value.columns[1:3]) == ["fake0 · torch fp32", "fake0 · torch fp32 ubinary"]


def test_a_refused_second_setting_keeps_the_overview_and_says_what_it_shows(at):
    """e5-small at onnx/int8 (a CPU engine) was one red line and an empty page: no table at all, nothing to
    go on with. The refusal stays one sentence; the Overview of the chosen encoders is still there."""
    ok(at.run())
    ok(at.toggle(key="w.compare_on").set_value(True).run())
    at.selectbox(key="w.cmp_backend").set_value("onnx")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value.replace("\\", "") for e in at.error]  # literal() escapes Markdown
    assert any(e.startswith("Compare two settings: fake0 at onnx fp32 ubinary: fake0 does not take") for e in errors)
    assert any("The Overview shows the chosen encoders without the comparison." in e for e in errors), errors
    assert list(at.table[0].value.columns[1:3]) == ["fake0", "fake1"]
    assert not at.subheader or "The price of speed" not in [h.value for h in at.subheader]


def test_a_link_comparing_an_encoder_that_is_not_chosen_says_so(tmp_path, monkeypatch):
    """?compare=...&compare_model=use-m3 with use-m3 not among the encoders silently compared another encoder
    (and rewrote the link); an unreadable value is reported in the sidebar, as every other one is."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.query_params.update({"compare": "torch/fp32/ubinary", "compare_model": "labse"})
    ok(at.run())
    assert any(
        "query parameter 'compare_model': labse is not among the chosen encoders (fake0, fake1): fake0 compared"
        in w.value.replace("\\", "")
        for w in [*at.sidebar.warning, *at.sidebar.error, *at.sidebar.info]
    ), [w.value for w in [*at.sidebar.warning, *at.sidebar.error]]
    assert list(at.table[0].value.columns[1:3]) == ["fake0 · torch fp32", "fake0 · torch fp32 ubinary"]


def test_one_encoder_at_two_settings_keeps_the_model_cards_flags(tmp_path, monkeypatch):
    """minilm-en at torch fp32 and int8 vectors on Tatoeba: the plain Overview marks every cell "⚠ no ar" and
    says minilm-en was not trained on them; the two settings' columns (labels "minilm-en · torch fp32")
    found no card and lost both. Both columns are the same encoder, so every row stays in the ranking."""
    from dataclasses import replace

    from xlr.encoders.catalogue import CATALOGUE

    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    monkeypatch.setitem(CATALOGUE, "fake1", replace(CATALOGUE["fake1"], languages=("de", "en")))
    at.query_params.update({"compare": "torch/fp32/int8", "compare_model": "fake1"})
    ok(at.run())
    table = at.table[0].value.set_index("direction (source → target)")
    base, int8 = "fake1 · torch fp32", "fake1 · torch fp32 int8"
    assert table.loc["zh->en", base].endswith("⚠ no zh") and table.loc["zh->en", int8].endswith("⚠ no zh")
    assert "⚠" not in table.loc["de->en", base]
    warnings = [w.value.replace("\\", "") for w in at.warning]
    assert sum("fake1 was not trained on zh (model card)" in w for w in warnings) == 1, warnings
    assert "mean of rows" in table.index  # every row counts: the same encoder on both sides


def test_the_encoders_a_comparison_leaves_out_are_named(at):
    """Compare two settings of e5-small with minilm-en also chosen: the Overview showed two e5-small columns
    and nothing said where minilm-en went (the sidebar still said "Evaluating e5-small, minilm-en")."""
    at.query_params.update({"compare": "torch/fp32/int8", "compare_model": "fake0"})
    ok(at.run())
    assert list(at.table[0].value.columns[1:3]) == ["fake0 · torch fp32", "fake0 · torch fp32 int8"]
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any("fake1" in c and "Compare two settings" in c for c in captions), captions
