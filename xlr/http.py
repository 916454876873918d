"""xlr's HTTP client (API encoders and downloads): httpx with a total deadline enforced while reading.

httpx (the ``httpx2`` distribution, the maintained fork huggingface_hub ships) gives connection
reuse across threads, TLS with the system's trust store and ``HTTP(S)_PROXY``; what it does not
give is a limit on a whole request: its timeouts are per read, so a server that sends one byte
every few seconds, in the body or in the headers, is never stopped. Here every socket read,
write, connect and TLS handshake waits at most the time left before the *deadline* of the request
running in the calling thread (:func:`deadline`), so a trickle stops at the deadline, headers
included, on a new or a reused connection.

Proxies: the ``http``/``https``/``all`` proxies of the environment (``urllib.request.getproxies``:
``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, lower or upper case) are used for every host that
``NO_PROXY`` does not name (``urllib.request.proxy_bypass``). Errors: a deadline that passes is
:class:`DeadlineExceeded`; anything else the transport raises is an ``httpcore2``/``httpx2``
exception, which callers turn into one sentence (:func:`describe`).
"""

from __future__ import annotations

import os
import threading
import time
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore2
import httpx2

__all__ = ["TIMEOUT_ERRORS", "TRANSPORT_ERRORS", "DeadlineExceeded", "client", "deadline", "describe"]

_LOCAL = threading.local()


class DeadlineExceeded(httpcore2.ReadTimeout):
    """The request's total deadline passed (while connecting, sending or reading)."""


TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (httpcore2.TimeoutException, httpx2.TimeoutException, TimeoutError)
TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (
    httpcore2.NetworkError,
    httpcore2.ProtocolError,
    httpcore2.ProxyError,
    httpcore2.UnsupportedProtocol,
    httpx2.HTTPError,
    httpx2.InvalidURL,
    OSError,
)


@contextmanager
def deadline(instant: float | None) -> Iterator[None]:
    """Within the block, every network wait of this thread ends by ``instant`` (``time.monotonic()``; ``None``: none)."""
    before = getattr(_LOCAL, "deadline", None)
    _LOCAL.deadline = instant
    try:
        yield
    finally:
        _LOCAL.deadline = before


def _clamp(timeout: float | None) -> float | None:
    instant = getattr(_LOCAL, "deadline", None)
    if instant is None:
        return timeout
    left = instant - time.monotonic()
    if left <= 0:
        raise DeadlineExceeded("the time limit was reached")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        return _Stream(self._inner.start_tls(ssl_context, server_hostname, _clamp(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore2.NetworkBackend):
    """The synchronous socket backend with every wait clamped to the thread's deadline."""

    def __init__(self) -> None:
        self._inner = httpcore2.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.NetworkStream:
        return _Stream(self._inner.connect_tcp(host, port, _clamp(timeout), local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore2.NetworkStream:
        return _Stream(self._inner.connect_unix_socket(path, _clamp(timeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _Body(httpx2.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class _Transport(httpx2.BaseTransport):
    """One connection pool per route (direct, or each proxy), chosen per request from the environment."""

    def __init__(self, max_connections: int) -> None:
        self._ssl = httpx2.create_ssl_context()
        self._max = max_connections
        self._pools: dict[str, httpcore2.ConnectionPool] = {}
        self._lock = threading.Lock()

    def _pool(self, url: httpx2.URL) -> httpcore2.ConnectionPool:
        proxies = urllib.request.getproxies()
        proxy = proxies.get(url.scheme) or proxies.get("all")
        if proxy and urllib.request.proxy_bypass(url.host):
            proxy = None
        route = proxy or ""
        with self._lock:
            pool = self._pools.get(route)
            if pool is None:
                common: dict[str, Any] = dict(
                    ssl_context=self._ssl,
                    max_connections=self._max,
                    max_keepalive_connections=self._max,
                    keepalive_expiry=30.0,
                    network_backend=_Backend(),
                )
                pool = httpcore2.HTTPProxy(proxy_url=proxy, **common) if proxy else httpcore2.ConnectionPool(**common)
                self._pools[route] = pool
        return pool

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        assert isinstance(request.stream, httpx2.SyncByteStream)
        req = httpcore2.Request(
            method=request.method,
            url=httpcore2.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        resp = self._pool(request.url).handle_request(req)
        assert isinstance(resp.stream, Iterable)
        return httpx2.Response(
            status_code=resp.status, headers=resp.headers, stream=_Body(resp.stream), extensions=resp.extensions
        )

    def close(self) -> None:
        with self._lock:
            for pool in self._pools.values():
                pool.close()
            self._pools.clear()


_CLIENT: httpx2.Client | None = None
_CLIENT_LOCK = threading.Lock()


def _forget_in_child() -> None:
    """A forked child gets its own client: the parent's open connections are not shared."""
    global _CLIENT, _CLIENT_LOCK
    _CLIENT, _CLIENT_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


def client() -> httpx2.Client:
    """The process's client (one pool of up to 64 connections per route, shared by every thread)."""
    global _CLIENT
    with _CLIENT_LOCK:
        if _CLIENT is None:
            _CLIENT = httpx2.Client(transport=_Transport(64), trust_env=False, headers={"User-Agent": "xlr"})
        return _CLIENT


def describe(exc: BaseException) -> str:
    """``ExceptionName: message`` of a transport failure, on one line (the caller redacts and frames it)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
