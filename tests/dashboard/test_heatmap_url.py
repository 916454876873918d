"""The heatmap's hub choice is in the URL and a link restores it (fast AppTest, lookup encoders)."""

from __future__ import annotations

from strategy_fakes import synthetic_app

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
    chosen = at.query_params["hub_id"]
    chosen = chosen[0] if isinstance(chosen, list) else chosen
    assert hubs[1].startswith(chosen + " ")  # the option's label is "<id> (top-1 of n)"
    params = {k: v[0] if isinstance(v, list) else v for k, v in ((k, at.query_params[k]) for k in at.query_params)}
    (tmp_path / "again").mkdir()
    fresh = synthetic_app(tmp_path / "again", monkeypatch, 40, 20)
    for k, v in params.items():
        fresh.query_params[k] = v
    fresh.run()
    fresh.switch_page(PAGE).run()
    assert not fresh.exception, [e.value for e in fresh.exception]
    assert fresh.selectbox(key="hm.hub").value == at.selectbox(key="hm.hub").value
