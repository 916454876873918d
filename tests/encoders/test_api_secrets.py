"""Secrets and spending (issue 17): the key is cleaned or refused by name, never shown; plain http to another
machine is refused; prices, limits and timeouts are finite; ``--api-max-cost 0`` sends nothing at all."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.encoders.api_servers import FakeEmbeddings
from xlr.cli.main import main
from xlr.encoders.api import ApiSettings, OpenAIEncoder
from xlr.encoders.api_http import ApiRequestError, Endpoint, redact

KEY = "sk-xlr-test-0123456789abcdefSECRET"
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.jsonl"


@pytest.fixture
def fake():
    with FakeEmbeddings(dim=16).running() as f:
        yield f


def _eval(fake, tmp_path, *extra: str) -> int:
    argv = ["eval", "--dataset", str(TINY), "--model", "openai:fake-model", "--api-base", fake.url]
    return main([*argv, "--cache-dir", str(tmp_path / "cache"), "--no-progress", *extra])


def test_key_ending_in_cr_is_stripped_and_works(fake, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", KEY + "\r")  # a CRLF .env
    assert _eval(fake, tmp_path) == 0
    assert {h["Authorization"] for h in fake.headers} == {f"Bearer {KEY}"}
    out = capsys.readouterr()
    assert KEY not in out.out + out.err


@pytest.mark.parametrize("bad", [KEY[:10] + "\r" + KEY[10:], KEY[:10] + " " + KEY[10:], KEY + "é"])
def test_a_key_that_cannot_be_a_header_is_named_never_shown(fake, tmp_path, monkeypatch, capsys, bad):
    monkeypatch.setenv("OPENAI_API_KEY", bad)
    assert _eval(fake, tmp_path) == 2
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("xlr: error")]
    assert len(errors) == 1 and "OPENAI_API_KEY" in errors[0]
    for part in (KEY, KEY[:12], KEY[-8:], KEY[12:20]):
        assert part not in err
    assert not fake.requests


def test_read_and_mask_key():
    from xlr.encoders.api_http import mask_key, read_api_key

    assert read_api_key({"OPENAI_API_KEY": f"  {KEY}\r\n"}) == KEY
    assert read_api_key({"OPENAI_API_KEY": " \r "}) is None and read_api_key({}) is None
    assert mask_key(KEY) == "sk-…CRET" and mask_key("abc") == "…" and KEY not in mask_key(KEY)
    with pytest.raises(ValueError, match=r"OPENAI_API_KEY .*position 4 of") as info:
        read_api_key({"OPENAI_API_KEY": "sk-\x00" + KEY})
    assert KEY not in str(info.value)


def test_redact_matches_case_base64_prefix_and_fragments():
    b64 = base64.b64encode(KEY.encode()).decode()
    basic = base64.b64encode(f"user:{KEY}".encode()).decode()
    urlsafe = base64.urlsafe_b64encode(b"\xff\xfe" + KEY.encode()).decode()
    text = f"a {KEY.lower()} b {KEY.upper()} c {b64} d {basic} e {urlsafe} f {KEY[:14]}… g ...{KEY[-8:]}"
    out = redact(text, KEY)
    for leak in (KEY.lower(), KEY.upper(), b64[4:-4], basic[8:-4], urlsafe[8:-4], KEY[:14], KEY[-8:]):
        assert leak not in out, leak
    assert redact("key sk-…CRET here", KEY) == "key sk-…CRET here"  # the mask itself is safe to show


def test_plain_http_to_another_machine_is_refused_unless_allowed(monkeypatch):
    monkeypatch.delenv("XLR_API_ALLOW_INSECURE", raising=False)
    with pytest.raises(ApiRequestError, match=r"http://api\.example\.com/v1 .*--api-allow-insecure"):
        OpenAIEncoder("m", ApiSettings(base_url="http://api.example.com/v1"))
    for ok in ("https://api.example.com/v1", "http://127.0.0.1:8000/v1", "http://localhost/v1", "http://[::1]/v1"):
        assert Endpoint(ok).base_url == ok
    e = OpenAIEncoder("m", ApiSettings(base_url="http://api.example.com/v1", allow_insecure=True))
    assert e.endpoint.label == "http://api.example.com/v1"  # built, nothing sent yet
    monkeypatch.setenv("XLR_API_ALLOW_INSECURE", "1")  # the dashboard's equivalent
    OpenAIEncoder("m", ApiSettings(base_url="http://api.example.com/v1"))


def test_cli_refuses_plain_http_to_another_machine(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("XLR_API_ALLOW_INSECURE", raising=False)
    argv = ["eval", "--dataset", str(TINY), "--model", "openai:m", "--api-base", "http://192.0.2.1:9/v1"]
    assert main([*argv, "--cache-dir", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--api-allow-insecure" in err and KEY not in err


def test_api_max_cost_zero_sends_nothing_not_even_the_probe(fake, tmp_path, capsys):
    assert _eval(fake, tmp_path, "--api-price", "0.02", "--api-max-cost", "0") == 2
    assert "nothing was sent" in capsys.readouterr().err
    assert fake.requests == []


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--api-max-cost", "nan"], "--api-max-cost"),
        (["--api-max-cost", "-1"], "--api-max-cost"),
        (["--api-price", "nan", "--api-max-cost", "1"], "--api-price"),
        (["--api-price", "-0.5"], "--api-price"),
        (["--api-timeout", "inf"], "--api-timeout"),
        (["--api-total-timeout", "nan"], "--api-total-timeout"),
    ],
)
def test_non_finite_or_negative_limits_are_refused(fake, tmp_path, capsys, flags, named):
    with pytest.raises(SystemExit) as info:
        _eval(fake, tmp_path, *flags)
    assert info.value.code == 2
    assert named in capsys.readouterr().err
    assert fake.requests == []


def test_settings_refuse_infinite_timeouts():
    with pytest.raises(ValueError, match="timeout"):
        ApiSettings(timeout=float("inf"))
    with pytest.raises(ValueError, match="total_timeout"):
        ApiSettings(total_timeout=float("nan"))


def test_library_cost_checks_refuse_nan_and_negative_limits_and_prices():
    from xlr.encoders.api_cost import BudgetError, PriceError, estimate_cost

    est = estimate_cost("openai:text-embedding-3-small", "text-embedding-3-small", ["abcd"])
    for bad in (float("nan"), -1.0, float("-inf")):
        with pytest.raises(BudgetError, match="limit"):
            est.check(bad)
    for bad in (float("nan"), -0.5, float("inf")):
        with pytest.raises(PriceError, match="price"):
            estimate_cost("openai:m", "m", ["abcd"], prices={"m": bad})
