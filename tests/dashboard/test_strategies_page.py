"""AppTest of pages/6_Strategies.py on a synthetic corpus with lookup encoders (fast)."""

from __future__ import annotations

from pathlib import Path

import pytest
from strategy_fakes import install_synthetic
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
PAGE = "pages/6_Strategies.py"


@pytest.fixture()
def at(tmp_path, monkeypatch):
    path = install_synthetic(tmp_path, monkeypatch, 80)
    for key, value in {
        "XLR_DEFAULT_DATASET": str(path),
        "XLR_DEFAULT_MODELS": "fake0,fake1",
        "XLR_DEFAULT_FIRST": "40",
        "XLR_CACHE_DIR": str(tmp_path / "cache"),
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("XLR_DEFAULT_DIRECTIONS", raising=False)
    monkeypatch.delenv("XLR_DEFAULT_KS", raising=False)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_strategies_page_runs_and_shows_one_table(at):
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
