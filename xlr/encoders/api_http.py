"""HTTP transport of the API encoders: one JSON POST with retries, backoff and deadlines.

Plain ``http.client`` (no SDK): the request body is JSON, the API key travels only in
the ``Authorization`` header, and every message that leaves this module passes through
:func:`redact`, so a key echoed by a server never reaches a log, a manifest or a terminal.

Retry policy (``post_json``):

* retried: HTTP 429, 500, 502, 503, 504, a connection error, a stalled response
  (no byte for ``timeout`` seconds) and a body that is not valid JSON;
* delay before try ``i`` (``i`` = 1, 2, ...): ``Retry-After`` when the server sends it
  (seconds or an HTTP date), else ``min(backoff * 2**(i-1), max_backoff)`` seconds;
  deterministic, no jitter;
* never past ``deadline`` (a ``time.monotonic()`` instant): when the next wait would
  cross it, the call fails with one sentence;
* other 4xx answers fail at once with the server's own message (redacted, shortened).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["ApiRequestError", "Endpoint", "post_json", "redact"]

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class ApiRequestError(ValueError):
    """An API request failed for good (after the retries it was allowed); one sentence."""


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` (and of its last 8+ characters) replaced by ``***``."""
    if not secret:
        return text
    text = text.replace(secret, "***")
    tail = secret[-8:]
    if len(secret) > 12 and tail in text:  # servers often echo a masked key: 'sk-...abcd1234'
        text = text.replace(tail, "***")
    return text


@dataclass(frozen=True)
class Endpoint:
    """Where embeddings are requested: ``base_url`` + ``/embeddings``.

    ``label`` (scheme, host, port and path; never credentials or a query string) is what
    identities, messages and manifests show.
    """

    base_url: str

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiRequestError(
                f"API base URL {self.label!r} is not an http(s) URL such as https://api.openai.com/v1"
            )
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ApiRequestError(
                f"API base URL {self.label!r} must not carry credentials or a query string; "
                "the key goes in OPENAI_API_KEY"
            )

    @property
    def label(self) -> str:
        p = urlsplit(self.base_url)
        host = p.hostname or "?"
        port = f":{p.port}" if p.port else ""
        return f"{p.scheme}://{host}{port}{p.path.rstrip('/')}"

    @property
    def is_local(self) -> bool:
        return urlsplit(self.base_url).hostname in ("127.0.0.1", "localhost", "::1")

    def path(self, route: str) -> str:
        return urlsplit(self.base_url).path.rstrip("/") + route


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); ``None`` if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _server_message(body: bytes) -> str:
    """The ``error.message`` of an OpenAI-style error body, else its first 200 characters."""
    text = body.decode("utf-8", "replace")
    try:
        obj = json.loads(text)
        msg = obj.get("error", {}).get("message") if isinstance(obj.get("error"), dict) else obj.get("error")
        if isinstance(msg, str) and msg.strip():
            text = msg
    except (ValueError, AttributeError):
        pass
    return " ".join(text.split())[:200]


def _once(endpoint: Endpoint, route: str, payload: bytes, headers: dict[str, str], timeout: float):
    """One POST; returns ``(status, headers, body)``; raises ``OSError`` on transport failure."""
    p = urlsplit(endpoint.base_url)
    cls = http.client.HTTPSConnection if p.scheme == "https" else http.client.HTTPConnection
    conn = cls(p.hostname or "", p.port, timeout=timeout)
    try:
        conn.request("POST", endpoint.path(route), body=payload, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def post_json(
    endpoint: Endpoint,
    route: str,
    body: dict[str, Any],
    *,
    api_key: str | None,
    timeout: float,
    deadline: float,
    retries: int = 5,
    backoff: float = 0.5,
    max_backoff: float = 30.0,
    what: str = "the request",
) -> dict[str, Any]:
    """POST ``body`` as JSON to ``endpoint`` + ``route`` and return the decoded JSON object.

    ``timeout``: seconds without a byte before a try counts as stalled; ``deadline``: the
    monotonic instant after which no try starts.  Raises :class:`ApiRequestError` (one
    sentence, key redacted) once the retries are spent or the error is not retryable.
    """
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "xlr"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    where = endpoint.label
    last, tries = "no answer", 0
    for attempt in range(retries + 1):
        wait: float | None = None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            last = f"{last}, then the time limit was reached" if tries else "the time limit was reached before it"
            break
        tries += 1
        try:
            status, resp_headers, raw = _once(endpoint, route, payload, headers, min(timeout, remaining))
        except TimeoutError:
            last = f"no answer within {min(timeout, remaining):g} s"
        except (OSError, http.client.HTTPException) as exc:
            last = f"connection failed ({type(exc).__name__}: {exc})"
        else:
            if status == 200:
                try:
                    obj = json.loads(raw.decode("utf-8"))
                    if not isinstance(obj, dict):
                        raise ValueError("not an object")
                    return obj
                except (UnicodeDecodeError, ValueError):
                    last = "a response that is not a JSON object"
            elif status in RETRY_STATUS:
                last = f"HTTP {status} ({_server_message(raw)})"
                wait = _retry_after(resp_headers.get("Retry-After"))
            else:
                hint = " (check OPENAI_API_KEY)" if status in (401, 403) else ""
                raise ApiRequestError(
                    redact(f"{where} refused {what}: HTTP {status}, {_server_message(raw)}{hint}", api_key)
                )
        if attempt == retries:
            break
        if wait is None:
            wait = min(backoff * 2**attempt, max_backoff)
        if time.monotonic() + wait >= deadline:
            last += f"; the next try (in {wait:g} s) would pass the time limit"
            break
        time.sleep(wait)
    raise ApiRequestError(redact(f"{where} failed {what} after {tries} tries: {last}", api_key))
