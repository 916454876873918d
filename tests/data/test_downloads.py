"""Downloads that never hang and never leave a partial file; the wiki6 pin.

Every server here runs on 127.0.0.1 inside the test; nothing leaves the machine.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from synthetic_wiki6 import wiki6_bytes

from xlr.data.download import DatasetUnavailable, default_limits, download
from xlr.data.registry import WIKI6_SIZE, ensure_dataset, resolve_dataset
from xlr.report.results import build_manifest
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import EvalSpec

ROOT = Path(__file__).resolve().parents[2]


class Misbehaving:
    """``/trickle/<seconds>``: headers, then one byte every <seconds> (forever, until the client leaves);
    ``/stall/<n>``: n bytes at once, then silence; ``/file/<name>``: ``files[name]`` with or without a length."""

    def __init__(self, files: dict[str, tuple[bytes, bool]] | None = None) -> None:
        self.files = files or {}
        self.stop = threading.Event()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                kind, _, arg = self.path.strip("/").partition("/")
                if kind == "file":
                    body, with_length = owner.files[arg]
                    if not with_length:
                        self.protocol_version = "HTTP/1.0"
                    self.send_response(200)
                    if with_length:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.close_connection = True
                    return
                self.send_response(200)
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                if kind == "stall":
                    self.wfile.write(b"s" * int(arg))
                    self.wfile.flush()
                    owner.stop.wait(30)
                    return
                while not owner.stop.is_set():  # trickle
                    self.wfile.write(b"t")
                    self.wfile.flush()
                    owner.stop.wait(float(arg))

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.handle_error = lambda request, address: None
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Misbehaving:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Misbehaving]:
    with Misbehaving() as s:
        yield s


def _left(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_trickle_stopped_by_the_deadline_without_partial_file(server: Misbehaving, tmp_path: Path) -> None:
    dest = tmp_path / "dl" / "f.jsonl"
    start = time.monotonic()
    with pytest.raises(DatasetUnavailable) as info:  # a byte every 0.3 s beats a 1 s per-read timeout
        download(f"{server.url}/trickle/0.3", dest, timeout=1, deadline=1.5, min_rate=0)
    took = time.monotonic() - start
    msg = str(info.value)
    assert "not complete within the 1.5 s deadline" in msg and str(dest) in msg
    received = int(msg.split("deadline (")[1].split(" of ")[0])
    assert 1 <= received <= 10, msg
    assert took < 10  # generous: the limit is what is checked, not the speed
    assert _left(tmp_path / "dl") == []


def test_minimum_rate(server: Misbehaving, tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable, match=r"too slow: \d+ bytes in \d+ s, below the minimum of 1000 bytes/s"):
        download(f"{server.url}/trickle/0.1", tmp_path / "f", timeout=5, deadline=0, min_rate=1000, rate_window=0.5)
    assert _left(tmp_path) == []


def test_stall_message_counts_the_bytes_received(server: Misbehaving, tmp_path: Path) -> None:
    with pytest.raises(DatasetUnavailable) as info:
        download(f"{server.url}/stall/21791", tmp_path / "f", timeout=0.5, deadline=0)
    assert "no data for 0.5 s (timed out) after 21791 of 1000000 bytes" in str(info.value)
    assert _left(tmp_path) == []


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XLR_DOWNLOAD_DEADLINE", "12")
    monkeypatch.setenv("XLR_DOWNLOAD_MIN_RATE", "0")
    assert default_limits() == (12.0, 0.0)
    monkeypatch.setenv("XLR_DOWNLOAD_DEADLINE", "soon")
    with pytest.raises(ValueError, match=r"^\$XLR_DOWNLOAD_DEADLINE='soon': expected a number"):
        default_limits()


@pytest.mark.slow
def test_one_byte_every_2s_against_a_10s_deadline(server: Misbehaving, tmp_path: Path) -> None:
    """The case of the issue: fails within 15 s (30 s per-read timeout never fires), no partial file."""
    start = time.monotonic()
    with pytest.raises(DatasetUnavailable, match="not complete within the 10 s deadline"):
        download(f"{server.url}/trickle/2", tmp_path / "f", timeout=30, deadline=10, min_rate=0)
    assert time.monotonic() - start < 15
    assert _left(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_leave_no_partial_file(server: Misbehaving, tmp_path: Path, sig: int) -> None:
    dest = tmp_path / "dl" / "f.jsonl"
    code = (
        "import sys; from xlr.data.download import download; "
        f"download({server.url + '/trickle/0.2'!r}, {str(dest)!r}, timeout=30, deadline=0, min_rate=0)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stderr=subprocess.PIPE)
    try:
        for _ in range(300):  # wait until the partial file exists
            if any(n.endswith(".part") for n in _left(dest.parent)):
                break
            time.sleep(0.05)
        assert any(n.endswith(".part") for n in _left(dest.parent))
        os.kill(proc.pid, sig)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert _left(dest.parent) == []


def test_wiki6_truncated_without_length_is_refused(tmp_path: Path) -> None:
    body = b"".join(wiki6_bytes(size=None).splitlines(keepends=True)[:149])
    with Misbehaving({"sample-6lang.jsonl": (body, False)}) as s:
        with pytest.raises(DatasetUnavailable, match=rf"size mismatch: received {len(body)} bytes, expected 7514418"):
            ensure_dataset("wiki6", root=tmp_path, base_url=f"{s.url}/file")
    assert _left(tmp_path) == []


def test_wiki6_right_size_wrong_shape_is_refused(tmp_path: Path) -> None:
    body = wiki6_bytes(n_ids=1972)  # 1972 ids, padded to the published size
    assert len(body) == WIKI6_SIZE
    with Misbehaving({"sample-6lang.jsonl": (body, True)}) as s:
        with pytest.raises(DatasetUnavailable) as info:
            resolve_dataset("wiki6", root=tmp_path, base_url=f"{s.url}/file")
    msg = str(info.value)
    assert "holds 11832 records, 1972 ids x 6 languages (ar, de, el, en, fr, zh); the published file holds " in msg
    assert "11838 records, 1973 ids x 6 languages" in msg and "Delete it and download it again" in msg
    with pytest.raises(DatasetUnavailable, match="holds 11832 records"):  # stays refused on later runs
        resolve_dataset("wiki6", root=tmp_path, download_missing=False)
    (tmp_path / "sample-6lang.jsonl").write_bytes(wiki6_bytes(langs=("ar", "de", "el", "en", "fr", "ja"), size=None))
    with pytest.raises(DatasetUnavailable, match="wrong size|holds|expected 7,514,418"):
        resolve_dataset("wiki6", root=tmp_path, download_missing=False)


def test_wiki6_published_shape_accepted_and_hash_recorded(tmp_path: Path) -> None:
    body = wiki6_bytes()
    with Misbehaving({"sample-6lang.jsonl": (body, False)}) as s:
        data = resolve_dataset("wiki6", root=tmp_path, base_url=f"{s.url}/file")
    assert (len(data.corpus), len(data.corpus.ids), data.corpus.languages) == (
        11838,
        1973,
        ("ar", "de", "el", "en", "fr", "zh"),
    )
    manifest = build_manifest(data, EvalSpec((Direction("de", "en"),)), [])
    import hashlib

    assert manifest["dataset"]["files"] == [
        {"path": str(tmp_path / "sample-6lang.jsonl"), "sha256": hashlib.sha256(body).hexdigest()}
    ]


def test_headers_dripping_stop_at_the_deadline(tmp_path: Path) -> None:
    """Headers one byte every 0.1 s beat a 5 s read timeout; the 1 s deadline stops them (60 bytes: 6 s)."""
    from tests.http_servers import Drip

    with Drip("headers", every=0.1, limit=60).running() as server:
        with pytest.raises(DatasetUnavailable, match="not complete within the 1 s deadline") as info:
            download(f"{server.url}/f", tmp_path / "f", timeout=5, deadline=1, min_rate=0)
        sent = server.sent
    assert sent < 40, f"{sent} header bytes read: the deadline did not hold while reading headers"
    assert "\n" not in str(info.value) and _left(tmp_path) == []


def test_downloads_honour_http_proxy_and_no_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.http_servers import Proxy

    with Proxy(b"hello").running() as proxy:
        for var in ("HTTP_PROXY", "http_proxy"):
            monkeypatch.setenv(var, proxy.url)
        for var in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(var, raising=False)
        got = download("http://files.example.test/f.txt", tmp_path / "f.txt", size=5, deadline=10, min_rate=0)
        assert got.read_bytes() == b"hello"
        assert proxy.records == ["GET http://files.example.test/f.txt HTTP/1.1"]
        for var in ("NO_PROXY", "no_proxy"):
            monkeypatch.setenv(var, ".example.test")
        with pytest.raises(DatasetUnavailable):
            download("http://files.example.test/g.txt", tmp_path / "g.txt", deadline=10, min_rate=0)
        assert len(proxy.records) == 1


def test_wiki6_of_the_wrong_size_is_named_and_not_listed_as_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from xlr.cli.main import main

    path = tmp_path / "sample-6lang.jsonl"
    with open(path, "wb") as fh:
        fh.truncate(7_000_000)
    want = f"found {path}, 7,000,000 bytes, expected 7,514,418: delete it or download again"
    for download_missing in (True, False):
        with pytest.raises(DatasetUnavailable) as info:
            ensure_dataset("wiki6", root=tmp_path, base_url="http://127.0.0.1:9", download_missing=download_missing)
        assert want in str(info.value) and "save it as" not in str(info.value)
    assert path.stat().st_size == 7_000_000  # left as it is
    monkeypatch.setenv("XLR_DATA_DIR", str(tmp_path))
    assert main(["datasets"]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("wiki6"))
    assert "[present]" not in line and "wrong size" in line
