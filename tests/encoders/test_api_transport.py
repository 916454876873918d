"""The HTTP layer under attack (issue 17): a total deadline enforced while reading (headers included), body
size caps, NaN/inf/deeply nested answers as one sentence, HTTP(S)_PROXY/NO_PROXY honoured, connections reused
across concurrent requests. Every server is on 127.0.0.1 and stops by itself (tests/http_servers.py)."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.encoders.api_servers import FakeEmbeddings
from tests.http_servers import Drip, Proxy, wait_for
from xlr.encoders import api_http
from xlr.encoders.api import ApiSettings, OpenAIEncoder
from xlr.encoders.api_http import ApiRequestError

ANSWER = json.dumps({"data": [{"index": 0, "embedding": [1.0, 0.0]}], "usage": {"total_tokens": 3}}).encode()


def _probe(url: str, tmp_path, **kw) -> OpenAIEncoder:
    settings = ApiSettings(base_url=url, **{"retries": 0, "timeout": 5.0, "total_timeout": 1.0, **kw})
    return OpenAIEncoder("m", settings, fingerprint_dir=tmp_path / "fp")


@pytest.mark.parametrize("mode", ["headers", "body"])
def test_a_dripping_answer_stops_at_the_total_deadline(tmp_path, mode):
    """One byte every 0.1 s beats a 5 s read timeout; the 1 s total deadline stops it (60 bytes would take 6 s)."""
    with Drip(mode, every=0.1, length=100, limit=60).running() as server:
        with pytest.raises(ApiRequestError, match="time limit|deadline") as info:
            _ = _probe(f"{server.url}/v1", tmp_path).identity
        assert wait_for(lambda: server.sent < 60 and server.stop.is_set() is False)
        sent = server.sent
    assert sent < 40, f"the client read {sent} bytes: it went on past its deadline"
    assert "\n" not in str(info.value)


def test_an_announced_4_gb_body_is_refused_before_reading_it(tmp_path):
    with Drip("big", length=4_000_000_000, limit=200).running() as server:
        with pytest.raises(ApiRequestError, match=r"4,000,000,000 bytes.*over the limit") as info:
            _ = _probe(f"{server.url}/v1", tmp_path, total_timeout=30.0).identity
        sent = server.sent
    assert sent < 200 * 65536 and "\n" not in str(info.value)


def test_an_unannounced_body_stops_at_the_cap(tmp_path, monkeypatch):
    monkeypatch.setattr(api_http, "MAX_BODY", 1_000_000)
    with Drip("big", length=None, limit=200).running() as server:
        with pytest.raises(ApiRequestError, match=r"over the limit of 1,000,000 bytes"):
            _ = _probe(f"{server.url}/v1", tmp_path, total_timeout=30.0).identity
        sent = server.sent
    assert sent < 200 * 65536


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": [{"index": 0, "embedding": [NaN, 1.0]}]}',
        b'{"data": [{"index": 0, "embedding": [1.0, Infinity]}]}',
        b'{"data": [{"index": 0, "embedding": [1e999, 0.0]}]}',
        b'{"data": [{"index": 0, "embedding": [1' + b"0" * 400 + b", 0.0]}]}",
        b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"data": [{"index": 1e400, "embedding": [1.0]}]}',
        b'{"data": [{"index": 0, "embedding": []}]}',
    ],
)
def test_odd_answers_are_one_sentence(tmp_path, body):
    with Proxy(body).running() as server:
        with pytest.raises(ApiRequestError) as info:
            _ = _probe(f"{server.url}/v1", tmp_path).identity
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 400 and server.url in msg


@pytest.mark.parametrize("tokens", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-5", b"true"])
def test_an_odd_usage_count_is_not_counted(tmp_path, tokens):
    body = b'{"data": [{"index": 0, "embedding": [1.0, 0.0]}], "usage": {"total_tokens": ' + tokens + b"}}"
    with Proxy(body).running() as server:
        enc = _probe(f"{server.url}/v1", tmp_path)
        assert enc.identity.dim == 2 and enc.usage_tokens == 0


def test_https_proxy_and_no_proxy_are_honoured(tmp_path, monkeypatch):
    with Proxy(ANSWER).running() as proxy:
        for var in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(var, proxy.url)
        for var in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(var, raising=False)
        enc = _probe("http://embeddings.example.test/v1", tmp_path, allow_insecure=True)
        assert enc.identity.dim == 2
        assert proxy.records == ["POST http://embeddings.example.test/v1/embeddings HTTP/1.1"]
        for var in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(var, "embeddings.example.test")
        with pytest.raises(ApiRequestError):  # not through the proxy: the name does not resolve
            _ = _probe("http://embeddings.example.test/v1", tmp_path / "2", allow_insecure=True).identity
        assert len(proxy.records) == 1


def test_concurrent_requests_reuse_connections(tmp_path):
    with FakeEmbeddings(dim=8).running() as fake:
        enc = OpenAIEncoder(
            "m", ApiSettings(base_url=fake.url, max_inputs=2, concurrency=2), fingerprint_dir=tmp_path / "fp"
        )
        enc.encode([f"text {i}" for i in range(24)])
    assert len(fake.requests) == 13  # the probe and 12 requests
    assert len(set(fake.peers)) <= 3, f"{len(set(fake.peers))} connections for {len(fake.peers)} requests"


JSONISH = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["data", "index", "embedding", "usage", "total_tokens", "error", "x"]), inner, max_size=4
        )
    ),
    max_leaves=20,
)


def _fuzz_answer(obj) -> None:
    raw = json.dumps(obj, allow_nan=True).encode()
    try:
        api_http.decode_answer(raw, "http://x/v1")
        from xlr.encoders.api import parse_embeddings

        parse_embeddings(api_http.decode_answer(raw, "http://x/v1"), 1, None, "http://x/v1")
    except ApiRequestError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH)
def test_fuzz_api_answers_are_vectors_or_one_sentence(obj):
    _fuzz_answer(obj)


@pytest.mark.slow
@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSONISH)
def test_fuzz_api_answers_slow(obj):
    _fuzz_answer(obj)
