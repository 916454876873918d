"""AppTest of pages/6_Strategies.py on a synthetic corpus with lookup encoders (fast)."""

from __future__ import annotations

import pytest
from strategy_fakes import reopened, synthetic_app, url_of

PAGE = "pages/6_Strategies.py"


@pytest.fixture()
def at(tmp_path, monkeypatch):
    return synthetic_app(tmp_path, monkeypatch, 80, 40)


def test_strategies_page_runs_and_shows_one_table(at):
    import logging

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record.getMessage())

    kept: list[str] = []
    arrow = logging.getLogger("streamlit.dataframe_util")  # logs a traceback when a table is not Arrow-ready
    arrow.addHandler(handler := Keep(logging.INFO))
    old_level = arrow.level
    arrow.setLevel(logging.INFO)
    try:
        _runs_and_shows_one_table(at)
    finally:
        arrow.removeHandler(handler)
        arrow.setLevel(old_level)
    assert not [m for m in kept if "Arrow" in m], kept  # ("n" mixed counts with "" in verdict rows)


def _runs_and_shows_one_table(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at.switch_page(PAGE).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "first 40 linked ids" in at.caption[1].value and "other 40 ids" in at.caption[1].value
    assert at.info[0].value.startswith("Choose strategies")
    at.multiselect(key="strat.pick").set_value(["procrustes", "csls(k=10)", "rrf(k=60)"])
    at.button(key="strat.run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    table = at.dataframe[0].value
    assert set(table["strategy"]) == {
        "baseline (fake0)",
        "procrustes",
        "csls(k=10)",
        "rrf(k=60)",
    }
    verdict = table[(table.strategy == "procrustes") & (table.direction == "verdict")]
    assert verdict["R@1"].tolist() == ["YES"]
    assert any("procrustes: YES" in s.value for s in at.success)
    assert len(at.get("download_button")) == 2
    assert not [b for b in at.button if b.label == "Cancel the run"]  # issue 19: it stayed after the results


def test_a_run_encodes_in_the_background_and_can_be_cancelled_and_resumed(at, monkeypatch):
    """*Run* first encodes what is missing as a background job: the page shows its bar with Cancel (no
    table yet); Cancel keeps what was encoded and offers Resume; Resume finishes and the run goes on."""
    import threading
    import time

    from xlr.encoders.registry import load_encoder

    gate = threading.Event()
    enc = load_encoder("fake0")  # the very object the page will use
    original = enc._encode_batch

    def gated(texts, role):
        assert gate.wait(30), "the test never opened the gate"
        return original(texts, role)

    monkeypatch.setattr(enc, "_encode_batch", gated)
    at.run()
    at.switch_page(PAGE).run()
    at.multiselect(key="strat.pick").set_value(["csls(k=10)"])
    at.button(key="strat.run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.dataframe and [b for b in at.button if b.label == "Cancel"]
    next(b for b in at.button if b.label == "Cancel").click().run()
    gate.set()  # the batch in flight finishes; the job stops there

    def shown(label: str) -> bool:
        for _ in range(100):
            at.run()
            if [b for b in at.button if b.label == label]:
                return True
            time.sleep(0.1)
        return False

    assert shown("Resume encoding") and any("cancelled after" in w.value for w in at.warning)
    assert not at.dataframe
    next(b for b in at.button if b.label == "Resume encoding").click().run()
    for _ in range(100):
        if at.dataframe:
            break
        time.sleep(0.1)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert set(at.dataframe[0].value["strategy"]) == {"baseline (fake0)", "csls(k=10)"}


def test_the_cost_follows_the_chosen_strategies(at):
    """CSLS needs only the evaluated pool and queries; centering/Procrustes fit on the other ids too:
    the page's estimate says so before *Run* (issue 19: the same figure for 11 strategies, csls or none)."""
    import re

    at.run()
    at.switch_page(PAGE).run()

    def texts() -> int:
        cost = next(c.value for c in at.caption if "Encoding cost" in c.value)
        return sum(int(n) for n in re.findall(r"of (\d+) texts", cost))

    at.multiselect(key="strat.pick").set_value(["csls(k=10)"]).run()
    csls = texts()
    at.multiselect(key="strat.pick").set_value(["csls(k=10)", "procrustes"]).run()
    fitting = texts()
    assert 0 < csls < fitting, (csls, fitting)
    cost = next(c.value for c in at.caption if "Encoding cost" in c.value)
    # the overview's encoding measured the fakes' rate on these short texts: an estimate, in seconds
    assert "texts/s" not in cost and re.search(r"about \d+ s", cost), cost


def test_the_page_settings_are_in_the_url_and_a_link_restores_them(at, tmp_path, monkeypatch):
    """Issue 19: every setting of every page in the URL; a pasted link opens the same Strategies view."""
    at.run()
    at.switch_page(PAGE).run()
    at.number_input(key="strat.k").set_value(5).run()
    at.multiselect(key="strat.pick").set_value(["csls(k=5)", "procrustes"]).run()
    at.number_input(key="strat.first").set_value(20).run()
    at.select_slider(key="strat.alpha").set_value(0.01).run()
    at.select_slider(key="strat.resamples").set_value(1000).run()
    assert not at.exception, [e.value for e in at.exception]
    params = url_of(at)
    assert {k: params.get(k) for k in ("strat_k", "strategies", "strat_first", "alpha", "resamples")} == {
        "strat_k": "5",
        "strategies": "csls(k=5),procrustes",
        "strat_first": "20",
        "alpha": "0.01",
        "resamples": "1000",
    }
    fresh = reopened(at, tmp_path, monkeypatch, 80, 40, PAGE)
    assert fresh.number_input(key="strat.k").value == 5
    assert fresh.multiselect(key="strat.pick").value == ["csls(k=5)", "procrustes"]
    assert fresh.number_input(key="strat.first").value == 20
    assert fresh.select_slider(key="strat.alpha").value == 0.01
    assert fresh.select_slider(key="strat.resamples").value == 1000


def test_no_strategy_chosen_stays_none_and_reads_back(at):
    at.run()
    at.switch_page(PAGE).run()
    at.multiselect(key="strat.pick").set_value([]).run()
    at.run()  # the URL it wrote is read back on the next run: still none (an empty list is not "all")
    assert at.multiselect(key="strat.pick").value == [] and url_of(at)["strategies"] == "none"
    assert at.button(key="strat.run").disabled


def test_a_new_k_keeps_the_chosen_strategies(at):
    at.run()
    at.switch_page(PAGE).run()
    at.multiselect(key="strat.pick").set_value(["csls(k=10)", "procrustes"]).run()
    at.number_input(key="strat.k").set_value(7).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="strat.pick").value == ["csls(k=7)", "procrustes"]
