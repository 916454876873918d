"""Real HTTP servers on 127.0.0.1 for the API-encoder tests.

* :class:`FakeEmbeddings`: an OpenAI-compatible ``/v1/embeddings`` server in a thread whose
  vector of a text is a deterministic function of (model, input_type, text); it records every
  request (body, headers, concurrency) and answers float or base64 as asked.
* :class:`FaultProxy`: forwards ``/v1/embeddings`` to an upstream server, except for the
  faults queued in ``faults`` (one per request): ``429`` (with ``Retry-After``), ``500``,
  ``stall`` (answers nothing for ``stall_s`` seconds, then closes), ``badjson``, ``wrongdim``
  (drops the last component of every vector); ``upstream`` can be switched at any time.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import numpy as np


def fake_vector(model: str, input_type: str | None, text: str, dim: int) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha256(f"{model}|{input_type}|{text}".encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


class _Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):  # quiet
        pass

    def _send(self, code: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length", 0) or 0)
        return self.rfile.read(n)


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class FakeEmbeddings:
    """See the module docstring; ``url`` is the base URL (``http://127.0.0.1:<port>/v1``)."""

    def __init__(self, dim: int = 16, *, echo_auth_401: bool = False, delay_s: float = 0.0) -> None:
        self.dim = dim
        self.echo_auth_401 = echo_auth_401
        self.delay_s = delay_s
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []
        self.peers: list[int] = []  # the client port of each request: one per connection used
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    @contextmanager
    def running(self) -> Iterator[FakeEmbeddings]:
        outer = self

        class Handler(_Base):
            def do_POST(self):
                raw = self._body()
                with outer.lock:
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    req = json.loads(raw)
                    with outer.lock:
                        outer.requests.append(req)
                        outer.headers.append(dict(self.headers))
                        outer.peers.append(self.client_address[1])
                    if outer.echo_auth_401:
                        msg = f"Incorrect API key provided: {self.headers.get('Authorization', '')}"
                        self._send(401, json.dumps({"error": {"message": msg}}).encode())
                        return
                    if outer.delay_s:
                        time.sleep(outer.delay_s)
                    texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
                    dim = req.get("dimensions") or outer.dim
                    data = []
                    for i, t in enumerate(texts):
                        v = fake_vector(req["model"], req.get("input_type"), t, dim)
                        emb = (
                            base64.b64encode(v.astype("<f4").tobytes()).decode()
                            if req.get("encoding_format") == "base64"
                            else [float(x) for x in v]
                        )
                        data.append({"object": "embedding", "index": i, "embedding": emb})
                    data.reverse()  # order must come from 'index', not position
                    usage = {"prompt_tokens": 3 * len(texts), "total_tokens": 3 * len(texts)}
                    self._send(200, json.dumps({"data": data, "model": req["model"], "usage": usage}).encode())
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

        with _serve(Handler) as server:
            self.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
            yield self


class FaultProxy:
    """See the module docstring; ``url`` is the proxy's base URL."""

    def __init__(self, upstream: str, *, stall_s: float = 3.0) -> None:
        self.upstream = upstream
        self.stall_s = stall_s
        self.faults: list[str] = []
        self.log: list[tuple[float, str, dict[str, str]]] = []  # (monotonic time, fault or 'ok', headers)
        self.lock = threading.Lock()

    def _forward(self, raw: bytes) -> tuple[int, bytes]:
        u = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
        try:
            conn.request(
                "POST", u.path.rstrip("/") + "/embeddings", body=raw, headers={"Content-Type": "application/json"}
            )
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    @contextmanager
    def running(self) -> Iterator[FaultProxy]:
        outer = self

        class Handler(_Base):
            def do_POST(self):
                raw = self._body()
                with outer.lock:
                    fault = outer.faults.pop(0) if outer.faults else "ok"
                    outer.log.append((time.monotonic(), fault, dict(self.headers)))
                if fault == "429":
                    self._send(429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "1"})
                elif fault == "500":
                    self._send(500, b'{"error": {"message": "upstream exploded"}}')
                elif fault == "stall":
                    time.sleep(outer.stall_s)
                    self.close_connection = True
                elif fault == "badjson":
                    self._send(200, b'{"data": [{"embedding": [0.1, 0.2')
                else:
                    status, body = outer._forward(raw)
                    if fault == "wrongdim" and status == 200:
                        obj = json.loads(body)
                        for d in obj["data"]:
                            if isinstance(d["embedding"], str):
                                d["embedding"] = base64.b64encode(base64.b64decode(d["embedding"])[:-4]).decode()
                            else:
                                d["embedding"] = d["embedding"][:-1]
                        body = json.dumps(obj).encode()
                    self._send(status, body)

        with _serve(Handler) as server:
            self.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
            yield self


class FakeChat:
    """An OpenAI-compatible ``/v1/chat/completions`` server on 127.0.0.1 (see :mod:`xlr.encoders.chat`).

    A translation request (system message starting "You are a translation engine") is answered from
    ``translations`` (user text -> answer), else word by word through ``words`` (unknown words kept); a
    title request from ``titles`` keyed by the document text (after ``Document:\\n``), else ``""``.
    ``faults`` (one per request): ``429`` (``Retry-After: 0.1``), ``500``, ``slow`` (nothing for ``slow_s``
    seconds, then the connection closes). ``echo_key``: every answer
    ends with the ``Authorization`` header received. Usage: ``prompt_tokens`` = estimate_tokens(system)
    + estimate_tokens(user), ``completion_tokens`` = estimate_tokens(answer); ``counted`` adds them up.
    """

    def __init__(
        self,
        *,
        titles: dict[str, str] | None = None,
        translations: dict[str, str] | None = None,
        words: dict[str, str] | None = None,
        echo_key: bool = False,
    ) -> None:
        self.titles = dict(titles or {})
        self.translations = dict(translations or {})
        self.words = dict(words or {})
        self.echo_key = echo_key
        self.faults: list[str] = []
        self.slow_s = 1.0
        self.requests: list[dict] = []
        self.attempts = 0
        self.counted = {"prompt_tokens": 0, "completion_tokens": 0}
        self.lock = threading.Lock()

    def answer(self, system: str, user: str) -> str:
        if system.startswith("You are a translation engine"):
            if user in self.translations:
                return self.translations[user]
            return " ".join(self.words.get(w, w) for w in user.split())
        return self.titles.get(user.partition("Document:\n")[2], "")

    @contextmanager
    def running(self) -> Iterator[FakeChat]:
        from xlr.encoders.api_cost import estimate_tokens

        outer = self

        class Handler(_Base):
            def do_POST(self):
                req = json.loads(self._body())
                with outer.lock:
                    outer.attempts += 1
                    fault = outer.faults.pop(0) if outer.faults else "ok"
                if fault == "429":
                    self._send(429, b'{"error": {"message": "slow down"}}', {"Retry-After": "0.1"})
                    return
                if fault == "500":
                    self._send(500, b'{"error": {"message": "model crashed"}}')
                    return
                if fault == "slow":  # answers nothing for a while, then closes
                    time.sleep(outer.slow_s)
                    self.close_connection = True
                    return
                system, user = (m["content"] for m in req["messages"])
                text = outer.answer(system, user)
                if outer.echo_key:
                    text += " " + self.headers.get("Authorization", "")
                usage = {
                    "prompt_tokens": estimate_tokens(system) + estimate_tokens(user),
                    "completion_tokens": estimate_tokens(text),
                }
                with outer.lock:
                    outer.requests.append(req)
                    for k, v in usage.items():
                        outer.counted[k] += v
                body = {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}], "usage": usage}
                self._send(200, json.dumps(body).encode())

        with _serve(Handler) as server:
            self.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
            yield self
