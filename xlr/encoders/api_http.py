"""HTTP transport of the API encoders: one JSON POST with retries, backoff and deadlines.

Through :mod:`xlr.http` (httpx; no SDK): the request body is JSON, the API key travels only in
the ``Authorization`` header, and every message that leaves this module passes through
:func:`redact`, so a key echoed by a server never reaches a log, a manifest or a terminal.

Retry policy (``post_json``):

* retried: HTTP 429, 500, 502, 503, 504, a connection error, a stalled response
  (no byte for ``timeout`` seconds) and a body that is not valid JSON;
* not retried: an answer over :data:`MAX_BODY` bytes (refused as soon as it is announced or
  read), the deadline reached in the middle of an answer (enforced on every read);
* delay before try ``i`` (``i`` = 1, 2, ...): ``Retry-After`` when the server sends it
  (seconds or an HTTP date), else ``min(backoff * 2**(i-1), max_backoff)`` seconds;
  deterministic, no jitter;
* never past ``deadline`` (a ``time.monotonic()`` instant): when the next wait would
  cross it, the call fails with one sentence;
* other 4xx answers fail at once with the server's own message (redacted, shortened).
"""

from __future__ import annotations

import base64
import email.utils
import ipaddress
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2

from xlr import http as xlr_http

__all__ = [
    "KEY_VAR",
    "MAX_BODY",
    "ApiKeyError",
    "ApiRequestError",
    "Endpoint",
    "decode_answer",
    "mask_key",
    "post_json",
    "read_api_key",
    "redact",
]

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
MAX_BODY = 512 << 20
"""Largest answer read (bytes): 2,048 vectors of 3,072 float32 dimensions as JSON floats take ~130 MB."""


class ApiRequestError(ValueError):
    """An API request failed for good (after the retries it was allowed); one sentence."""


KEY_VAR = "OPENAI_API_KEY"
_FRAGMENT = 8
"""Shortest run of a secret's characters that :func:`redact` hides (secrets of 12+ characters)."""
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class ApiKeyError(ValueError):
    """The API key variable holds something that cannot be a key (the message names the variable, never the value)."""


def read_api_key(env: Mapping[str, str] | None = None, var: str = KEY_VAR) -> str | None:
    """The key in ``env[var]`` (default ``os.environ``), stripped; ``None`` when unset or blank.

    A key is printable ASCII without whitespace (``!`` to ``~``): anything else left after
    stripping (a carriage return inside, a space, a non-ASCII letter) raises
    :class:`ApiKeyError` naming the variable and the position, never the value.
    """
    raw = (os.environ if env is None else env).get(var)
    key = (raw or "").strip()
    if not key:
        return None
    for i, ch in enumerate(key):
        if not "!" <= ch <= "~":
            raise ApiKeyError(
                f"${var} holds a character that cannot be part of a key (a space, a control character such as "
                f"a carriage return, or a non-ASCII letter) at position {i + 1} of {len(key)}; "
                "set it again (the value is not shown)"
            )
    return key


def mask_key(key: str | None) -> str:
    """What may be shown of a key: ``sk-…last4`` (``…last4`` without the ``sk-`` prefix; ``…`` when short)."""
    if not key or len(key) < 12:
        return "…"
    return f"{'sk-' if key.startswith('sk-') else ''}…{key[-4:]}"


def _b64_cores(secret: bytes) -> list[str]:
    """The base64 characters that ``secret`` yields wherever it sits in a base64 text (3 alignments x 2 alphabets).

    At alignment ``p`` (``p`` bytes before it in its 3-byte group), only the groups made of the
    secret's own bytes are fixed: characters ``4*ceil(p/3)`` to ``4*floor((p+n)/3)`` of the encoding.
    """
    out = []
    for p in range(3):
        std = base64.b64encode(b"\0" * p + secret).decode()
        core = std[4 * -(-p // 3) : 4 * ((p + len(secret)) // 3)]
        out += [core, core.replace("+", "-").replace("/", "_")]
    return out


def redact(text: str, secret: str | None) -> str:
    """``text`` with every trace of ``secret`` replaced by ``***``.

    Hidden: the secret itself, in any ASCII letter case; any run of :data:`_FRAGMENT` (8) or more
    of its consecutive characters (its prefix, a server's ``sk-...abcd1234`` echo), also case-folded,
    when the secret has 12 characters or more; its base64 forms (standard and URL-safe alphabets, at
    any byte alignment, e.g. inside ``Basic`` credentials), any run of 12+ of their characters.
    :func:`mask_key`'s ``sk-…last4`` stays visible.
    """
    if not secret:
        return text
    folded = text.translate(_ASCII_LOWER)
    needles: list[tuple[str, int, bool]] = [(secret.translate(_ASCII_LOWER), _FRAGMENT, True)]
    if len(secret) < 12:
        needles = [(secret.translate(_ASCII_LOWER), len(secret), True)]
    needles += [(core, 12, False) for core in _b64_cores(secret.encode("utf-8", "surrogatepass")) if len(core) >= 12]
    hidden = [False] * len(text)
    for needle, width, fold in needles:
        windows = {needle[i : i + width] for i in range(len(needle) - width + 1)}
        haystack = folded if fold else text
        for i in range(len(text) - width + 1):
            if haystack[i : i + width] in windows:
                hidden[i : i + width] = [True] * width
    out, i = [], 0
    while i < len(text):
        if hidden[i]:
            while i < len(text) and hidden[i]:
                i += 1
            out.append("***")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class Endpoint:
    """Where embeddings are requested: ``base_url`` + ``/embeddings``.

    ``label`` (scheme, host, port and path; never credentials or a query string) is what
    identities, messages and manifests show. Plain ``http://`` to a machine other than this one
    (not a loopback address) would carry the key in clear: refused unless ``allow_insecure``.
    """

    base_url: str
    allow_insecure: bool = False

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
        if parts.scheme == "http" and not self.is_local and not self.allow_insecure:
            raise ApiRequestError(
                f"API base URL {self.label} is plain http:// to another machine: the key and the texts would "
                "travel in clear; use https://, or pass --api-allow-insecure (dashboard: XLR_API_ALLOW_INSECURE=1)"
            )

    @property
    def label(self) -> str:
        p = urlsplit(self.base_url)
        host = p.hostname or "?"
        port = f":{p.port}" if p.port else ""
        return f"{p.scheme}://{host}{port}{p.path.rstrip('/')}"

    @property
    def is_local(self) -> bool:
        """A loopback host (``localhost``, ``127.0.0.0/8``, ``::1``): the request never leaves this machine."""
        host = urlsplit(self.base_url).hostname or ""
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

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
    text = body[:20_000].decode("utf-8", "replace")
    try:
        obj = json.loads(text)
        msg = obj.get("error", {}).get("message") if isinstance(obj.get("error"), dict) else obj.get("error")
        if isinstance(msg, str) and msg.strip():
            text = msg
    except (ValueError, AttributeError, RecursionError):
        pass
    return " ".join(text.split())[:200]


class _Refused(Exception):
    """An answer that must not be read further (too big); not retried."""


def decode_answer(raw: bytes, where: str) -> dict[str, Any]:
    """The JSON object of a 200 answer; one-sentence :class:`ApiRequestError` for anything else.

    Refused: not UTF-8, not JSON, not an object, nested deeper than Python's parser allows.
    ``NaN``/``Infinity`` are read (as Python does) and refused later where a number is used.
    """
    try:
        obj = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ApiRequestError(f"{where} answered JSON nested too deeply to read") from None
    except (UnicodeDecodeError, ValueError):
        raise ApiRequestError(f"{where} answered something that is not JSON") from None
    if not isinstance(obj, dict):
        raise ApiRequestError(f"{where} answered JSON that is not an object")
    return obj


def _read_capped(resp: httpx2.Response, cap: int) -> bytes:
    """The body, refused (:class:`_Refused`) as soon as it is announced or grows over ``cap`` bytes."""
    length = resp.headers.get("Content-Length", "")
    if length.strip().isdigit() and int(length) > cap:
        raise _Refused(f"an answer of {int(length):,} bytes, over the limit of {cap:,} bytes")
    parts, size = [], 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise _Refused(f"an answer over the limit of {cap:,} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _once(
    endpoint: Endpoint, route: str, payload: bytes, headers: dict[str, str], timeout: float, deadline: float
) -> tuple[int, httpx2.Headers, bytes]:
    """One POST within ``deadline`` (every read, headers included); ``(status, headers, body)``."""
    with xlr_http.deadline(deadline):
        with xlr_http.client().stream(
            "POST",
            endpoint.base_url.rstrip("/") + route,
            content=payload,
            headers=headers,
            timeout=httpx2.Timeout(timeout),
        ) as resp:
            cap = MAX_BODY if resp.status_code == 200 else 1 << 20
            return resp.status_code, resp.headers, _read_capped(resp, cap)


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
    monotonic instant by which every try ends, enforced on every read (a server dripping one
    byte at a time, in its headers or its body, is stopped there). An answer is read up to
    :data:`MAX_BODY` bytes (refused as soon as it announces or reaches more; error bodies up
    to 1 MiB). Raises :class:`ApiRequestError` (one sentence, key redacted) once the retries
    are spent or the error is not retryable.
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
            status, resp_headers, raw = _once(endpoint, route, payload, headers, timeout, deadline)
        except xlr_http.TIMEOUT_ERRORS:
            if time.monotonic() >= deadline:  # every wait was cut to the deadline: it has passed
                last = "the time limit was reached while waiting for the answer"
                break
            last = f"no answer within {min(timeout, remaining):g} s"
        except _Refused as exc:
            raise ApiRequestError(redact(f"{where} sent {exc} to {what}; nothing more was read", api_key)) from None
        except xlr_http.TRANSPORT_ERRORS as exc:
            last = f"connection failed ({xlr_http.describe(exc)})"
        except (ValueError, TypeError) as exc:  # a request the client refuses to send (a bad header): not retried
            raise ApiRequestError(
                redact(f"{where}: {what} could not be sent ({type(exc).__name__}: {exc})", api_key)
            ) from None
        else:
            if status == 200:
                try:
                    return decode_answer(raw, where)
                except ApiRequestError as exc:
                    last = f"a response that is not a JSON object ({str(exc).removeprefix(where + ' ')})"
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
