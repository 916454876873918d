"""AppTest of pages/6_Strategies.py on a synthetic corpus with lookup encoders (fast)."""

from __future__ import annotations

import pytest
from strategy_fakes import synthetic_app

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
