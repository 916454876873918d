"""Small misbehaving HTTP servers on 127.0.0.1 for the HTTP-layer tests (bounded in time and bytes).

* :class:`Drip`: answers every request by ``mode``: ``headers`` sends its status line and headers one byte
  every ``every`` seconds; ``body`` sends headers announcing ``length`` bytes, then the body one byte every
  ``every`` seconds; ``big`` announces ``length`` bytes (4 GB by default; ``None``: no length, the body ends when the
  connection closes) and sends ``chunk``-byte blocks as
  fast as the client reads. Each answer stops after ``limit`` bytes (so a client that does not give up still
  ends), and ``sent`` counts the bytes written before the client left.
* :class:`Proxy`: a forward HTTP proxy that answers every request itself (``records`` the absolute URIs).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


def _read_request(conn: socket.socket) -> bytes:
    """The request head and its Content-Length body (b'' when the client closed)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


class _Server:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        self.conns: list[socket.socket] = []
        self.lock = threading.Lock()

    def serve(self, conn: socket.socket) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _accept(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.conns.append(conn)
            t = threading.Thread(target=self._serve_one, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve_one(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.serve(conn)
            except OSError:  # the client left
                pass

    @contextmanager
    def running(self) -> Iterator[_Server]:
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        try:
            yield self
        finally:
            self.stop.set()
            t.join(5)
            self.sock.close()
            for conn in self.conns:  # kept-alive connections: end their reads now
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            for w in self.threads:
                w.join(5)


class Drip(_Server):
    """See the module docstring."""

    def __init__(
        self,
        mode: str,
        *,
        every: float = 0.1,
        length: int | None = 4_000_000_000,
        limit: int = 60,
        chunk: int = 65536,
    ) -> None:
        super().__init__()
        self.mode, self.every, self.length, self.limit, self.chunk = mode, every, length, limit, chunk
        self.sent = 0
        self.requests = 0

    def _write(self, conn: socket.socket, data: bytes) -> None:
        conn.sendall(data)
        with self.lock:
            self.sent += len(data)

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        if not _read_request(conn):
            return
        with self.lock:
            self.requests += 1
        size = "Connection: close" if self.length is None else f"Content-Length: {self.length}"
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n{size}\r\n\r\n".encode()
        if self.mode == "headers":
            for i in range(min(self.limit, len(head))):
                if self.stop.wait(self.every):
                    return
                self._write(conn, head[i : i + 1])
            return
        conn.sendall(head)
        if self.mode == "body":
            for _ in range(self.limit):
                if self.stop.wait(self.every):
                    return
                self._write(conn, b" ")
            return
        block = b" " * self.chunk  # big: as fast as the client reads, at most `limit` blocks
        for _ in range(self.limit):
            if self.stop.is_set():
                return
            self._write(conn, block)


class Proxy(_Server):
    """A forward proxy that answers each request itself with ``body`` (JSON by default)."""

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body
        self.records: list[str] = []

    def serve(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        while True:
            head = _read_request(conn)
            if not head:
                return
            with self.lock:
                self.records.append(head.split(b"\r\n")[0].decode("latin-1"))
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(self.body)}\r\n\r\n".encode()
                + self.body
            )


def wait_for(predicate, seconds: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``seconds`` pass (for counters updated by server threads)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
