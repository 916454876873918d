"""The sidebar's *Languages* of a named many-language data set: read from the URL or the environment, written
back, checked; the slow test opens Tatoeba's swh and amh pairs (the 112-language set) through a link."""

from __future__ import annotations

import pytest

from xlr.dashboard.state import initial_settings, settings_params


def test_languages_from_the_url_round_trip_and_win_over_the_environment():
    s, warnings = initial_settings({"XLR_DEFAULT_LANGUAGES": "tel"}, {"languages": "swh,amh"}, "tatoeba")
    assert warnings == [] and s.languages == "swh,amh"
    assert settings_params(s)["languages"] == "swh,amh"
    assert initial_settings({}, settings_params(s), "wiki6")[0] == s
    env, _ = initial_settings({"XLR_DEFAULT_LANGUAGES": "all"}, {}, "tatoeba")
    assert env.languages == "all"
    plain, _ = initial_settings({}, {}, "tatoeba")
    assert plain.languages == "" and "languages" not in settings_params(plain)


def test_a_language_the_data_set_lacks_is_one_warning_and_the_default_is_kept():
    s, warnings = initial_settings({}, {"dataset": "xquad", "languages": "swh"}, "tatoeba")
    assert s.dataset == "xquad" and s.languages == ""
    assert len(warnings) == 1 and "query parameter 'languages'" in warnings[0] and "'swh'" in warnings[0]
    # a data set without a language choice (one JSONL file) ignores the parameter
    assert initial_settings({}, {"dataset": "wiki6", "languages": "de"}, "tatoeba")[0].languages == ""


@pytest.mark.slow
def test_a_link_opens_tatoeba_languages_beyond_the_default_five(monkeypatch):
    from tests.dashboard.test_app import app, ok, overview

    at = app(monkeypatch, XLR_DEFAULT_MODELS="e5-small", XLR_DEFAULT_FIRST="20")
    at.query_params["languages"] = "swh,amh"
    ok(at.run())
    assert at.sidebar.text_input(key="w.languages").value == "swh,amh"
    assert any("languages am, en, sw" in c.value for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]
    assert list(overview(at).iloc[:-1, 0]) == ["am->en", "sw->en"]
    at.sidebar.text_input(key="w.languages").set_value("xyz")
    ok(at.run())
    assert any("has no language 'xyz'" in w.value for w in at.sidebar.warning)
    assert list(overview(at).iloc[:-1, 0]) == ["ar->en", "de->en", "el->en", "fr->en", "zh->en"]  # the default five
