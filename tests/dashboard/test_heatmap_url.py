"""The heatmap's hub choice is in the URL and a link restores it (fast AppTest, lookup encoders)."""

from __future__ import annotations

from strategy_fakes import reopened, synthetic_app, url_of

PAGE = "pages/1_Similarity_heatmap.py"


def test_the_chosen_hub_is_in_the_url_and_a_link_restores_it(tmp_path, monkeypatch):
    at = synthetic_app(tmp_path, monkeypatch, 40, 20)
    at.run()
    at.switch_page(PAGE).run()
    at.selectbox(key="hm.source").set_value("zh").run()  # zh is rotated: its queries crowd on a few hubs
    at.number_input(key="hm.hub_min").set_value(2).run()
    assert not at.exception, [e.value for e in at.exception]
    hubs = list(at.selectbox(key="hm.hub").options)
    assert len(hubs) >= 2, hubs
    assert "hub_id" not in at.query_params  # the largest hub is the default: left out
    at.selectbox(key="hm.hub").set_value(hubs[1]).run()
    chosen = url_of(at)["hub_id"]
    assert hubs[1].startswith(chosen + " ")  # the option's label is "<id> (top-1 of n)"
    fresh = reopened(at, tmp_path, monkeypatch, 40, 20, PAGE)
    assert fresh.selectbox(key="hm.hub").value == at.selectbox(key="hm.hub").value
