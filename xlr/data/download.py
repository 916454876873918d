"""Downloads with a deadline: nothing partial survives, every message is true.

:func:`download` streams a URL to a temporary ``*.part`` file beside the destination and
moves it into place only after the length and SHA-256 check out. Three limits stop a
transfer that does not finish: ``timeout`` (seconds without a byte, per read), ``deadline``
(seconds for the whole file, connection included) and ``min_rate`` (bytes/s averaged
since the start, checked once ``rate_window`` seconds have passed). Defaults come from
``$XLR_DOWNLOAD_DEADLINE`` (900 s) and ``$XLR_DOWNLOAD_MIN_RATE`` (1024 bytes/s).
Through :mod:`xlr.http` (httpx): redirects followed, ``HTTP(S)_PROXY``/``NO_PROXY`` honoured,
and the deadline enforced on every read, the headers' included (a server that drips its
headers is stopped too). Reads return whatever has arrived, so the byte count in a message is
the count received. Any failure, Ctrl-C or SIGTERM removes the partial file.
"""

from __future__ import annotations

import hashlib
import os
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from xlr import settings

__all__ = [
    "DEFAULT_DEADLINE",
    "DEFAULT_MIN_RATE",
    "DatasetUnavailable",
    "default_limits",
    "download",
    "file_sha256",
]

Progress = Callable[[int, int | None], None]
DEFAULT_DEADLINE = 900.0
DEFAULT_MIN_RATE = 1024.0


class DatasetUnavailable(ValueError):
    """A data file is neither on disk nor downloadable.

    The message names the URL and the exact local path to put the file at; ``missing``
    holds every ``(url, path)`` still missing (the failed one first).
    """

    def __init__(self, message: str, missing: tuple[tuple[str, Path], ...] = ()) -> None:
        super().__init__(message)
        self.missing = tuple(missing)

    def __reduce__(self):  # keep picklable despite the custom __init__
        return (type(self), (str(self), self.missing))


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fail(url: str, dest: Path, reason: str) -> DatasetUnavailable:
    return DatasetUnavailable(
        f"cannot download {url}: {reason}. Download it by hand and save it as {dest}",
        ((url, dest),),
    )


def default_limits() -> tuple[float, float]:
    """``(deadline seconds, min_rate bytes/s)`` from ``$XLR_DOWNLOAD_DEADLINE``/``$XLR_DOWNLOAD_MIN_RATE``."""
    return (
        settings.non_negative_float("XLR_DOWNLOAD_DEADLINE", DEFAULT_DEADLINE),
        settings.non_negative_float("XLR_DOWNLOAD_MIN_RATE", DEFAULT_MIN_RATE),
    )


@contextmanager
def _sigterm_as_exit() -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(143)`` so ``finally`` clauses run (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _size_text(done: int, total: int | None) -> str:
    return f"{done} of {total} bytes" if total is not None else f"{done} bytes"


def download(
    url: str,
    dest: str | os.PathLike,
    *,
    size: int | None = None,
    sha256: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30,
    deadline: float | None = None,
    min_rate: float | None = None,
    rate_window: float = 30,
) -> Path:
    """Download ``url`` to ``dest`` (parents created) and return ``dest``.

    Streams to a ``<dest name>.<random>.part`` file in the same folder (so concurrent
    downloads never clobber each other), then ``os.replace``-s it into place. Checks the
    announced ``Content-Length`` against ``size`` before reading, the bytes received against
    ``Content-Length`` and ``size``, and the SHA-256 against ``sha256``. ``progress(done,
    total)`` is called after each chunk (``total`` = ``Content-Length`` or ``size`` or
    ``None``).

    Limits: ``timeout`` seconds without a byte; ``deadline`` seconds for the whole file
    (``None``: :func:`default_limits`; ``0``: none); ``min_rate`` bytes/s, the average since
    the start, checked once ``rate_window`` seconds have passed (``None``: default; ``0``:
    none). Each read waits at most ``min(timeout, time left)``, so a trickling server is
    stopped within a second or so of the deadline.

    Any failure (HTTP error, refused connection, stall, deadline, too slow, stream cut
    short, size or hash mismatch, disk error) removes the partial file and raises
    :class:`DatasetUnavailable` with the true number of bytes received; Ctrl-C and SIGTERM
    (main thread) remove it too. An existing ``dest`` is only replaced by a verified file.
    """
    import httpx2  # the HTTP layer loads on the first download: the core imports without it

    from xlr import http as xlr_http

    dest = Path(dest)
    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise _fail(url, dest, "invalid address (only http:// and https:// addresses can be downloaded)")
    env_deadline, env_rate = default_limits()
    deadline = env_deadline if deadline is None else deadline
    min_rate = env_rate if min_rate is None else min_rate
    start = time.monotonic()

    def left() -> float:
        return deadline - (time.monotonic() - start) if deadline else float("inf")

    with _sigterm_as_exit():
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f"{dest.name}.", suffix=".part")
        except OSError as exc:
            raise _fail(url, dest, f"cannot write to {dest.parent} ({exc.strerror or exc})") from None
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                digest = hashlib.sha256()
                done, announced, total = 0, None, size
                connected = False
                try:
                    with (
                        xlr_http.deadline(start + deadline if deadline else None),
                        xlr_http.client().stream(
                            "GET",
                            url,
                            headers={"Accept-Encoding": "identity"},  # the bytes as stored: sizes and hashes hold
                            timeout=httpx2.Timeout(timeout),
                            follow_redirects=True,
                        ) as resp,
                    ):
                        connected = True
                        if resp.status_code != 200:
                            raise _fail(url, dest, f"HTTP {resp.status_code} {resp.reason_phrase}")
                        header = resp.headers.get("Content-Length")
                        announced = int(header) if header and header.strip().isdigit() else None
                        if announced is not None and size is not None and announced != size:
                            raise _fail(url, dest, f"the server announces {announced} bytes, expected {size}")
                        total = announced if announced is not None else size
                        for chunk in resp.iter_raw():  # whatever has arrived, at most 64 KiB
                            out.write(chunk)
                            digest.update(chunk)
                            done += len(chunk)
                            if progress is not None:
                                progress(done, total)
                            elapsed = time.monotonic() - start
                            if min_rate and elapsed >= rate_window and done / elapsed < min_rate:
                                raise _fail(
                                    url,
                                    dest,
                                    f"too slow: {done} bytes in {elapsed:.0f} s, below the minimum of "
                                    f"{min_rate:g} bytes/s",
                                )
                            if left() <= 0:
                                raise xlr_http.DeadlineExceeded("the time limit was reached")
                except xlr_http.TIMEOUT_ERRORS:
                    if left() <= 0:  # every wait is cut to the deadline
                        raise _fail(
                            url,
                            dest,
                            f"not complete within the {deadline:g} s deadline ({_size_text(done, total)} received)",
                        ) from None
                    what = f"after {_size_text(done, total)}" if connected else "before any answer"
                    raise _fail(url, dest, f"no data for {timeout:g} s (timed out) {what}") from None
                except xlr_http.TRANSPORT_ERRORS as exc:
                    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError) and connected:
                        raise  # writing the partial file: reported below
                    if not connected:
                        raise _fail(url, dest, f"no connection ({xlr_http.describe(exc)})") from None
                    if announced is not None and done < announced:
                        raise _fail(url, dest, f"the connection closed after {done} of {announced} bytes") from None
                    raise _fail(
                        url,
                        dest,
                        f"transfer failed after {_size_text(done, total)} ({xlr_http.describe(exc)})",
                    ) from None
            if announced is not None and done != announced:
                raise _fail(url, dest, f"the connection closed after {done} of {announced} bytes")
            if size is not None and done != size:
                raise _fail(url, dest, f"size mismatch: received {done} bytes, expected {size}")
            if sha256 is not None and digest.hexdigest() != sha256.lower():
                raise _fail(
                    url,
                    dest,
                    f"SHA-256 mismatch: received {digest.hexdigest()}, expected {sha256.lower()}",
                )
            os.chmod(tmp, 0o644)  # mkstemp creates 0600
            os.replace(tmp, dest)
        except OSError as exc:  # writing, closing or moving the file
            raise _fail(url, dest, f"cannot write {tmp} ({exc.strerror or exc})") from None
        finally:
            tmp.unlink(missing_ok=True)
    return dest
