"""What a visitor of a served dashboard can trigger (issue 17), fast AppTests with lookup encoders:
local paths and API encoders from the URL or the path box only under XLR_DASHBOARD_ALLOW_PATHS /
XLR_DASHBOARD_ALLOW_API (or on a loopback bind), an API run only after a confirmation that states its cost
and within the server's cap, the key never shown, odd URL parameters a sentence, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st_
from strategy_fakes import synthetic_app

from tests.dashboard.test_app import ok
from tests.encoders.api_servers import FakeEmbeddings
from xlr.dashboard import jobs

KEY = "sk-dash-0123456789abcdefSECRETKEY"


def walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from walk(child)


def page_text(at) -> str:
    """Every element's proto as text (labels, values, options, messages) in the main area and the sidebar."""
    return "\n".join(str(getattr(n, "proto", "")) for root in (at.main, at.sidebar) for n in walk(root))


def served(monkeypatch, address: str = "0.0.0.0") -> None:
    """As if ``streamlit run --server.address <address>``."""
    import streamlit as st

    real = st.get_option
    monkeypatch.setattr(st, "get_option", lambda key: address if key == "server.address" else real(key))


@pytest.fixture
def fake():
    with FakeEmbeddings(dim=16).running() as f:
        yield f


def _app(tmp_path, monkeypatch, **env):
    for var in ("XLR_DASHBOARD_ALLOW_PATHS", "XLR_DASHBOARD_ALLOW_API", "XLR_DASHBOARD_MAX_COST", "OPENAI_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return synthetic_app(tmp_path, monkeypatch, 30, 10, **env)


def _ok(at):
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_key_ending_in_cr_is_never_shown(tmp_path, monkeypatch, fake):
    at = _app(
        tmp_path,
        monkeypatch,
        OPENAI_API_KEY=KEY + "\r",
        XLR_OPENAI_BASE_URL=fake.url,
        XLR_DEFAULT_MODELS="fake0,openai:fake-model",
    )
    text = page_text(_ok(at))
    for part in (KEY, KEY[:12], KEY[-8:]):
        assert part not in text
    assert "sk-…TKEY" in text.replace("\\\\", "")  # what may be shown of it (Markdown-escaped)


def test_a_served_dashboard_refuses_url_paths_without_saying_whether_they_exist(tmp_path, monkeypatch):
    served(monkeypatch)
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"id": "1", "lang": "en", "text": "private"}\n', encoding="utf-8")
    texts = []
    for path in (secret, tmp_path / "missing.jsonl"):
        at = _app(tmp_path, monkeypatch)
        at.query_params["dataset"] = str(path)
        _ok(at)
        assert at.session_state["w.dataset"] != str(path)
        warnings = [w.value.replace("\\", "") for w in at.sidebar.warning]
        assert any("XLR_DASHBOARD_ALLOW_PATHS" in w for w in warnings), warnings
        texts.append(page_text(at).replace(str(path), "P").replace(path.name, "N"))
        assert "private" not in page_text(at)
    assert texts[0] == texts[1]


def test_a_served_dashboard_refuses_the_path_box_alike(tmp_path, monkeypatch):
    served(monkeypatch)
    secret = tmp_path / "secret.jsonl"
    secret.write_text('{"id": "1", "lang": "en", "text": "private"}\n', encoding="utf-8")
    messages = []
    for path in (secret, tmp_path / "missing.jsonl"):
        at = _ok(_app(tmp_path, monkeypatch))
        at.sidebar.text_input(key="w.path").input(str(path))
        at.sidebar.button(key="w.load_path").click()
        _ok(at)
        assert at.session_state["w.dataset"] != str(path)
        messages.append(" ".join(e.value for e in at.sidebar.error).replace("\\", ""))
    assert messages[0] == messages[1] and "XLR_DASHBOARD_ALLOW_PATHS" in messages[0]


def test_paths_are_accepted_when_allowed_or_bound_to_loopback(tmp_path, monkeypatch):
    other = tmp_path / "other.jsonl"
    other.write_text(
        "".join(f'{{"id": "{i}", "lang": "{lang}", "text": "t{i}{lang}"}}\n' for i in range(3) for lang in "ab"),
        encoding="utf-8",
    )
    for address, env in (("0.0.0.0", {"XLR_DASHBOARD_ALLOW_PATHS": "1"}), ("127.0.0.1", {})):
        served(monkeypatch, address)
        at = _app(tmp_path, monkeypatch, **env)
        at.query_params["dataset"] = str(other)
        _ok(at)
        assert at.session_state["w.dataset"] == str(other)


def test_a_served_dashboard_refuses_api_encoders_from_the_url(tmp_path, monkeypatch, fake):
    served(monkeypatch)
    at = _app(tmp_path, monkeypatch, OPENAI_API_KEY=KEY, XLR_OPENAI_BASE_URL=fake.url)
    at.query_params["models"] = "fake0,openai:fake-model,st:/"
    _ok(at)
    assert at.multiselect(key="w.models").value == ["fake0"]
    warnings = " ".join(w.value for w in at.sidebar.warning).replace("\\", "")
    assert "XLR_DASHBOARD_ALLOW_API" in warnings and "XLR_DASHBOARD_ALLOW_PATHS" in warnings
    assert fake.requests == []


def test_an_api_run_waits_for_a_confirmation_stating_its_cost(tmp_path, monkeypatch, fake):
    served(monkeypatch)
    at = _app(
        tmp_path,
        monkeypatch,
        OPENAI_API_KEY=KEY,
        XLR_OPENAI_BASE_URL=fake.url,
        XLR_DASHBOARD_ALLOW_API="1",
        XLR_API_PRICES="fake-model=0.02",
    )
    at.query_params["models"] = "fake0,openai:fake-model"
    _ok(at)
    assert fake.requests == [], "nothing is sent before the visitor confirms"
    warnings = " ".join(w.value for w in at.sidebar.warning).replace("\\", "").replace("\u2060", "")
    assert "openai:fake-model: up to" in warnings and "~$" in warnings
    assert at.session_state["xlr.context"].models == ("fake0",)
    confirm = [b for b in at.sidebar.button if "openai:fake-model" in b.label]
    assert confirm
    monkeypatch.setattr(jobs, "_loadable", lambda emb: False)  # encode in the job's thread: no child process
    confirm[0].click()
    ok(at.run())
    assert "openai:fake-model" in at.session_state["xlr.context"].models
    assert fake.requests, "sent once confirmed"
    assert "openai:fake-model" in " ".join(map(str, at.table[0].value.columns))


def test_the_server_cost_cap_refuses_an_api_run(tmp_path, monkeypatch, fake):
    at = _app(
        tmp_path,
        monkeypatch,
        XLR_OPENAI_BASE_URL=fake.url,
        XLR_DEFAULT_MODELS="fake0,openai:fake-model",
        XLR_API_PRICES="fake-model=1000",
        XLR_DASHBOARD_MAX_COST="0.0001",
    )
    _ok(at)
    errors = " ".join(e.value for e in at.sidebar.error).replace("\\", "")
    assert "over the limit" in errors and "XLR_DASHBOARD_MAX_COST" in errors
    assert not [b for b in at.sidebar.button if "openai:fake-model" in b.label]
    assert at.session_state["xlr.context"].models == ("fake0",)
    assert fake.requests == []


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("first", "²"),
        ("first", "١٢"),
        ("first", "9" * 400),
        ("dataset", "a\x00b"),
        ("dataset", "~nobody-xlr/x.jsonl"),
        ("k", "²"),
        ("directions", "\x00->en"),
        ("models", "\x00"),
        ("device", "cuda:²"),
    ],
)
def test_odd_url_parameters_are_a_sentence_never_a_crash(tmp_path, monkeypatch, param, value):
    monkeypatch.setenv("XLR_DASHBOARD_ALLOW_PATHS", "1")
    at = synthetic_app(tmp_path, monkeypatch, 30, 10)
    at.query_params[param] = value
    _ok(at)
    assert at.session_state["xlr.context"] is not None or at.sidebar.error


@pytest.mark.parametrize(
    "custom",
    [("zh-TW->en",), ("a:b->en", "en->a:b"), ("x,y->en",), ("pt-BR->zh-Hant-TW", "en->pt-BR"), ("a%b->c",)],
)
def test_url_state_reloads_any_direction_as_the_same_view(custom):
    from xlr.dashboard.state import Settings, initial_settings, settings_params

    s = Settings("tatoeba", directions="custom", custom=custom)
    back, warnings = initial_settings({}, settings_params(s), "tatoeba")
    assert warnings == [] and back.directions == "custom" and back.custom == custom
    old, _ = initial_settings({}, {"directions": "ar-en,de:en"}, "tatoeba")  # links written before still read
    assert old.custom == ("ar->en", "de->en")


PIECES = [*"ab-_>:,./~%0123456789 ²١\x00\x1b\u202e", "->", "all", "to-en", "cuda:", "openai:", "st:/", "fp16"]
PARAM_TEXT = st_.lists(st_.sampled_from(PIECES), max_size=12).map("".join)
PARAMS = st_.dictionaries(
    st_.sampled_from(["dataset", "models", "k", "directions", "first", "lenient", "device", "precision"]),
    PARAM_TEXT,
    max_size=8,
)


def _fuzz_params(params, allow: bool) -> None:
    from xlr.dashboard.policy import ServePolicy
    from xlr.dashboard.state import initial_settings, settings_params

    policy = ServePolicy(paths=allow, api=allow)
    s, warnings = initial_settings({}, params, "tatoeba", policy)
    assert all("\n" not in w for w in warnings)
    if not allow:
        assert s.dataset == "tatoeba" or s.dataset in ("wiki6", "xquad")
        assert not any(m.startswith("openai:") for m in s.models)
    again, more = initial_settings({}, settings_params(s), "tatoeba", policy)
    assert again == s, (params, settings_params(s), more)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, st_.booleans())
def test_fuzz_url_parameters_give_settings_that_reload_as_themselves(params, allow):
    _fuzz_params(params, allow)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(PARAMS, st_.booleans())
def test_fuzz_url_parameters_slow(params, allow):
    _fuzz_params(params, allow)


def test_a_served_dashboard_refuses_an_api_encoder_typed_in_the_sidebar(tmp_path, monkeypatch, fake):
    served(monkeypatch)
    at = _ok(_app(tmp_path, monkeypatch, OPENAI_API_KEY=KEY, XLR_OPENAI_BASE_URL=fake.url))
    at.multiselect(key="w.models").set_value(["fake0", "openai:fake-model"])
    _ok(at)
    errors = " ".join(e.value for e in at.sidebar.error).replace("\\", "")
    assert "XLR_DASHBOARD_ALLOW_API" in errors
    assert at.session_state["xlr.context"].models == ("fake0",)
    assert fake.requests == []


def test_policy_rules_and_short_upload_names():
    from xlr.dashboard.policy import ServePolicy, is_api_model, is_path_model
    from xlr.dashboard.safe import short_name

    assert ServePolicy.from_env({}, "127.0.0.1") == ServePolicy(True, True, None)
    assert ServePolicy.from_env({}, "0.0.0.0") == ServePolicy(False, False, None)
    assert ServePolicy.from_env({}, None).paths is False  # all interfaces
    behind_proxy = {"XLR_DASHBOARD_ALLOW_PATHS": "0", "XLR_DASHBOARD_ALLOW_API": "no"}
    assert ServePolicy.from_env(behind_proxy, "localhost") == ServePolicy(False, False, None)
    bad_cap = ServePolicy.from_env({"XLR_DASHBOARD_MAX_COST": "nan"}, "::1")
    assert bad_cap.max_cost == 0.0 and "XLR_DASHBOARD_MAX_COST" in bad_cap.problem
    assert is_path_model("st:/srv/model") and is_path_model("st:~/m") and is_path_model("st:./m")
    assert not is_path_model("st:intfloat/multilingual-e5-small") and is_api_model(" openai:x")
    name = "x" * 300 + ".jsonl"
    short = short_name(name)
    assert len(short) == 60 and short.endswith(".jsonl") and "…" in short and short_name("a.jsonl") == "a.jsonl"
