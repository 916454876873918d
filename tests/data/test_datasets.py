"""Tests of xlr.datasets: registry pins, data dir, downloads against a local HTTP server.

No test leaves the machine: every download goes to a server on 127.0.0.1 or to a closed
port. ``shared_data`` (the read-only ../shared/data) comes from tests/conftest.py.
"""

from __future__ import annotations

import http.server
import pickle
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest
from synthetic_wiki6 import write_wiki6
from upstream_fixtures import upstream_named

from xlr.data.records import CorpusError
from xlr.data.registry import (
    DATASETS,
    DatasetUnavailable,
    RemoteFile,
    data_dir,
    download,
    ensure_dataset,
    file_sha256,
    resolve_dataset,
    selected_files,
)

DATA = Path(__file__).resolve().parents[1] / "fixtures"


class Server:
    """A local mirror: files under ``root``, plus routes that misbehave on purpose."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(owner.root), **kwargs)

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_GET(self) -> None:
                owner.requests.append(self.path)
                if self.path.startswith("/truncated/"):  # announces more than it sends, then hangs up
                    body = b"x" * 1000
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body) + 500))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if self.path.startswith("/nolength/"):  # body delimited by closing the connection
                    self.protocol_version = "HTTP/1.0"
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"y" * 300)
                    self.close_connection = True
                    return
                if self.path.startswith("/stall/"):
                    time.sleep(2)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.handle_error = lambda request, address: None  # a client that gave up is no news
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_mirror_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLR_DATA_BASE_URL", raising=False)


@pytest.fixture()
def mirror(tmp_path: Path, shared_data: Path) -> Iterator[Server]:
    """A server holding a copy of ../shared/data/tatoeba laid out like the data dir."""
    root = tmp_path / "mirror"
    shutil.copytree(shared_data / "tatoeba", root / "tatoeba")
    with Server(root) as server:
        yield server


@pytest.fixture()
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


# ----------------------------------------------------------------- registry


def default_files(name: str) -> list[RemoteFile]:
    """The files a data set's default selection needs (tatoeba: the five pairs, xquad: seven languages)."""
    return list(selected_files(DATASETS[name]))


def test_registry_pins_match_shared_data(shared_data: Path) -> None:
    assert set(DATASETS) == {"wiki6", "xquad", "tatoeba", "ntrex"}
    assert {n: s.kind for n, s in DATASETS.items()} == {
        "wiki6": "jsonl",
        "xquad": "xquad",
        "tatoeba": "tatoeba",
        "ntrex": "aligned",
    }
    (wiki,) = DATASETS["wiki6"].files
    assert wiki == RemoteFile(
        "sample-6lang.jsonl",
        "https://raw.githubusercontent.com/dasmiq/cs6120-assignment5/refs/heads/main/sample-6lang.jsonl",
        7_514_418,
    )
    assert len(DATASETS["xquad"].files) == 12 and len(DATASETS["tatoeba"].files) == 224
    assert len(default_files("xquad")) == 7 and len(default_files("tatoeba")) == 10
    for name in ("xquad", "tatoeba"):
        for f in DATASETS[name].files:
            local = shared_data / f.relpath
            if name == "tatoeba":  # every pair is in the 112-language copy; the default five in tatoeba/ too
                local = shared_data / "tatoeba-112" / Path(f.relpath).name
                if f in default_files("tatoeba"):
                    assert file_sha256(shared_data / f.relpath) == f.sha256
            elif f not in default_files("xquad"):
                continue  # hi, ro, th, tr, vi: pinned from the upstream repository, not in ../shared/data
            assert f.size == local.stat().st_size and f.sha256 == file_sha256(local), f.relpath
            upstream = (
                "https://raw.githubusercontent.com/google-deepmind/xquad/master/"
                if name == "xquad"
                else "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/"
            )
            assert f.url == upstream + Path(f.relpath).name
    assert all(spec.description for spec in DATASETS.values())


def test_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XLR_DATA_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    default = Path(platformdirs.user_cache_dir("xlr")) / "data"
    monkeypatch.setenv("XLR_DATA_DIR", "")
    assert data_dir() == default
    monkeypatch.delenv("XLR_DATA_DIR")
    assert data_dir() == default


# ----------------------------------------------------------------- ensure_dataset


def test_ensure_downloads_then_uses_local_files(mirror: Server, tmp_path: Path, shared_data: Path) -> None:
    root = tmp_path / "root"
    seen: list[tuple[int, int | None]] = []
    paths = ensure_dataset(
        "tatoeba",
        root=root,
        base_url=mirror.url + "/",
        progress=lambda d, t: seen.append((d, t)),
    )
    assert paths == [root / f.relpath for f in default_files("tatoeba")]
    assert sorted(mirror.requests) == sorted(f"/{f.relpath}" for f in default_files("tatoeba"))
    for f, p in zip(default_files("tatoeba"), paths, strict=True):
        assert file_sha256(p) == f.sha256 and (p.stat().st_mode & 0o777) == 0o644
    total = sum(f.size or 0 for f in default_files("tatoeba"))
    assert seen[-1] == (total, total) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert leftovers(root) == sorted(f.relpath for f in default_files("tatoeba"))  # no .part left

    mirror.requests.clear()
    assert ensure_dataset("tatoeba", root=root, base_url=mirror.url) == paths
    assert mirror.requests == []  # present: no network access

    loaded = resolve_dataset("tatoeba", root=root, base_url=mirror.url)
    assert mirror.requests == []
    assert loaded.name == loaded.corpus.name == "tatoeba" and loaded.queries is None
    assert len(loaded.corpus) == 10000 and loaded.files == tuple(paths)


def test_wrong_size_file_is_named_kept_and_downloaded_once_deleted(mirror: Server, tmp_path: Path) -> None:
    root = tmp_path / "root"
    ensure_dataset("tatoeba", root=root, base_url=mirror.url)
    broken = root / "tatoeba" / "tatoeba.ell-eng.ell"
    broken.write_bytes(broken.read_bytes()[:100])
    for download_missing in (False, True):  # the user's file is never downloaded over
        mirror.requests.clear()
        with pytest.raises(DatasetUnavailable) as info:
            ensure_dataset("tatoeba", root=root, base_url=mirror.url, download_missing=download_missing)
        assert f"found {broken}, 100 bytes, expected 52,202: delete it or download again" in str(info.value)
        assert mirror.requests == [] and broken.stat().st_size == 100
    broken.unlink()
    ensure_dataset("tatoeba", root=root, base_url=mirror.url)
    assert mirror.requests == ["/tatoeba/tatoeba.ell-eng.ell"]
    assert file_sha256(broken) == default_files("tatoeba")[6].sha256


def test_base_url_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    served = tmp_path / "mirror"
    write_wiki6(served / "sample-6lang.jsonl")
    with Server(served) as server:
        monkeypatch.setenv("XLR_DATA_BASE_URL", server.url)
        monkeypatch.setenv("XLR_DATA_DIR", str(tmp_path / "data"))
        loaded = resolve_dataset("wiki6")
        assert server.requests == ["/sample-6lang.jsonl"]
    assert loaded.files == (tmp_path / "data" / "sample-6lang.jsonl",)
    assert loaded.corpus.name == "wiki6" and len(loaded.corpus) == 11838 and len(loaded.corpus.ids) == 1973


def test_404_names_url_and_path(tmp_path: Path) -> None:
    empty = tmp_path / "mirror"
    empty.mkdir()
    root = tmp_path / "root"
    with Server(empty) as server:
        with pytest.raises(DatasetUnavailable) as info:
            ensure_dataset("wiki6", root=root, base_url=server.url)
    url, dest = f"{server.url}/sample-6lang.jsonl", root / "sample-6lang.jsonl"
    assert str(info.value) == (
        f"data set 'wiki6': cannot download {url}: HTTP 404 File not found. Download it by hand and save it as {dest}"
    )
    assert info.value.missing == ((url, dest),)
    assert leftovers(root) == []


def test_connection_refused_names_url_and_path(tmp_path: Path, closed_port: int) -> None:
    root = tmp_path / "root"
    base = f"http://127.0.0.1:{closed_port}"
    with pytest.raises(DatasetUnavailable) as info:
        ensure_dataset("tatoeba", root=root, base_url=base, timeout=5)
    first = default_files("tatoeba")[0].relpath
    message = str(info.value)
    assert message.startswith(f"data set 'tatoeba': cannot download {base}/{first}: no connection (")
    assert f"save it as {root / first}" in message
    assert "(9 more files missing: " in message and str(root / "tatoeba" / "tatoeba.fra-eng.fra") in message
    assert len(info.value.missing) == 10
    assert leftovers(root) == []


def test_shared_data_found_without_network(
    monkeypatch: pytest.MonkeyPatch, shared_data: Path, closed_port: int
) -> None:
    monkeypatch.setenv("XLR_DATA_DIR", str(shared_data))
    before = leftovers(shared_data)
    for name in (
        "tatoeba",
        "xquad",
    ):  # any download attempt would hit a closed port and fail
        paths = ensure_dataset(name, base_url=f"http://127.0.0.1:{closed_port}")
        assert paths == [shared_data / f.relpath for f in default_files(name)]
    with pytest.raises(DatasetUnavailable) as info:
        resolve_dataset("wiki6", download_missing=False)
    assert str(info.value) == (
        f"data set 'wiki6': the file is missing and downloading is off; download "
        f"{DATASETS['wiki6'].files[0].url} and save it as {shared_data / 'sample-6lang.jsonl'}"
    )
    loaded = resolve_dataset("xquad", download_missing=False)
    assert len(loaded.corpus) == 1680 and loaded.queries is not None and len(loaded.queries) == 8330
    assert leftovers(shared_data) == before


# ----------------------------------------------------------------- download


def test_download_interrupted_stream(mirror: Server, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "file.txt"
    with pytest.raises(DatasetUnavailable) as info:
        download(f"{mirror.url}/truncated/file.txt", dest)
    assert "the connection closed after 1000 of 1500 bytes" in str(info.value)
    assert str(dest) in str(info.value) and f"{mirror.url}/truncated/file.txt" in str(info.value)
    assert leftovers(tmp_path / "out") == []


def test_download_size_and_hash_mismatch(mirror: Server, tmp_path: Path, shared_data: Path) -> None:
    url = f"{mirror.url}/tatoeba/tatoeba.ara-eng.eng"
    dest = tmp_path / "out" / "tatoeba.ara-eng.eng"
    dest.parent.mkdir()
    dest.write_text("old")
    with pytest.raises(DatasetUnavailable, match="the server announces 29068 bytes, expected 10"):
        download(url, dest, size=10)
    sha = file_sha256(shared_data / "tatoeba" / "tatoeba.ara-eng.eng")
    with pytest.raises(
        DatasetUnavailable,
        match=f"SHA-256 mismatch: received {sha}, expected {'0' * 64}",
    ):
        download(url, dest, sha256="0" * 64)
    with pytest.raises(DatasetUnavailable, match="size mismatch: received 300 bytes, expected 299"):
        download(f"{mirror.url}/nolength/x", dest, size=299)
    assert dest.read_text() == "old"  # a failed download never replaces the file
    assert leftovers(tmp_path / "out") == ["tatoeba.ara-eng.eng"]
    calls: list[tuple[int, int | None]] = []
    assert (
        download(
            url,
            dest,
            size=29068,
            sha256=sha.upper(),
            progress=lambda d, t: calls.append((d, t)),
        )
        == dest
    )
    assert file_sha256(dest) == sha and calls[-1] == (29068, 29068)
    assert download(f"{mirror.url}/nolength/x", tmp_path / "y") == tmp_path / "y"  # length unknown: fine
    assert (tmp_path / "y").read_bytes() == b"y" * 300


def test_download_timeout_and_bad_address(mirror: Server, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "f"
    with pytest.raises(DatasetUnavailable) as info:
        download(f"{mirror.url}/stall/tatoeba/tatoeba.ara-eng.eng", dest, timeout=0.3)
    assert "timed out" in str(info.value) and str(dest) in str(info.value)
    with pytest.raises(DatasetUnavailable, match="invalid address"):
        download("nonsense-address", dest)
    assert leftovers(tmp_path / "out") == []


def test_download_unwritable_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DatasetUnavailable, match=f"cannot write to {blocker}"):
        download("http://127.0.0.1:1/x", blocker / "sub" / "f")


# ----------------------------------------------------------------- resolve_dataset


def test_resolve_paths_and_unknown_names(tmp_path: Path) -> None:
    loaded = resolve_dataset(DATA / "tiny.jsonl")
    assert (loaded.name, len(loaded.corpus), loaded.queries, loaded.files) == (
        "tiny",
        5,
        None,
        (DATA / "tiny.jsonl",),
    )
    xq = resolve_dataset(str(upstream_named("xquad_tiny", "xquad.")))
    assert xq.queries is not None and len(xq.queries) == 6
    xq_dir = upstream_named("xquad_tiny", "xquad.")
    assert xq.files == (xq_dir / "xquad.de.json", xq_dir / "xquad.en.json")
    tt = resolve_dataset(upstream_named("tatoeba_xyz", "tatoeba."))
    assert tt.corpus.languages == ("en", "xyz") and len(tt.files) == 2
    assert len(resolve_dataset(DATA / "mixed.jsonl", lenient=True).corpus) == 3
    with pytest.raises(CorpusError):
        resolve_dataset(DATA / "mixed.jsonl")
    with pytest.raises(
        ValueError,
        match=r"unknown data set 'nope': not a registered name \(wiki6, xquad, tatoeba, ntrex\)",
    ):
        resolve_dataset("nope")
    with pytest.raises(ValueError, match="unknown data set 'nope'; known: wiki6, xquad, tatoeba"):
        ensure_dataset("nope")


def test_errors_are_value_errors_and_pickle() -> None:
    err = DatasetUnavailable("cannot download u: x", (("u", Path("/p")),))
    assert isinstance(err, ValueError)
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.missing == err.missing


def test_tatoeba_files_found_in_the_112_language_folder(tmp_path: Path) -> None:
    """A data directory laid out like ../shared/data holds the whole test set in ``tatoeba-112/``:
    a pair missing from ``tatoeba/`` is taken from there (pinned size checked), never downloaded;
    a file in ``tatoeba/`` still comes first."""
    root = tmp_path / "root"
    (root / "tatoeba-112").mkdir(parents=True)
    swh = selected_files(DATASETS["tatoeba"], "swh")
    for f in swh:
        (root / "tatoeba-112" / Path(f.relpath).name).write_bytes(b"x" * (f.size or 1))
    paths = ensure_dataset("tatoeba", root=root, languages="swh", download_missing=False)
    assert paths == [root / "tatoeba-112" / Path(f.relpath).name for f in swh]

    (root / "tatoeba").mkdir()
    own = root / "tatoeba" / Path(swh[0].relpath).name
    own.write_bytes(b"y" * (swh[0].size or 1))
    assert ensure_dataset("tatoeba", root=root, languages="swh", download_missing=False)[0] == own

    (root / "tatoeba-112" / Path(swh[1].relpath).name).write_bytes(b"short")  # wrong size: not used
    with pytest.raises(DatasetUnavailable, match="expected"):
        ensure_dataset("tatoeba", root=root, languages="swh", download_missing=False)
