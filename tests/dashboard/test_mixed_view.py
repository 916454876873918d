"""The mixed-pool view on the Overview (fast AppTest with lookup encoders)."""

from __future__ import annotations

import re

from strategy_fakes import reopened, synthetic_app, url_of


def test_mixed_pool_has_intervals_flags_and_a_chart(tmp_path, monkeypatch):
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    at.toggle(key="ov.mixed").set_value(True).run()
    for _ in range(50):
        if at.dataframe:
            break
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(d.value for d in at.dataframe if "top-1 own language" in d.value.columns)
    assert all(re.fullmatch(r"\[\d\.\d{3}, \d\.\d{3}\]", v) for v in table["recall@1 95% interval"])
    assert "⚠ not on the card" in table.columns
    assert any("Mixed pool: where the top-1 lands" in str(c.proto.spec) for c in at.get("plotly_chart"))


def test_the_mixed_view_is_in_the_url_and_a_link_opens_it(tmp_path, monkeypatch):
    """Issue 19: every setting in the URL; a link with ``mixed=1&mixed_gold=any`` opens the evaluated view."""
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    at.radio(key="ov.mixed_gold").set_value("any").run()
    at.toggle(key="ov.mixed").set_value(True).run()
    params = url_of(at)
    assert (params.get("mixed"), params.get("mixed_gold")) == ("1", "any")
    fresh = reopened(at, tmp_path, monkeypatch, 40, 20)
    assert fresh.toggle(key="ov.mixed").value is True and fresh.radio(key="ov.mixed_gold").value == "any"
