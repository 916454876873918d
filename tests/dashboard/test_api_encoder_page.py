"""An OpenAI-compatible encoder in the dashboard: its cost is stated before anything is sent, then it is
evaluated like any encoder (AppTest against a fake embeddings server on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.test_app import app, ok, overview
from tests.encoders.api_servers import FakeEmbeddings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.mark.slow  # the page encodes in a background job (a child process where the encoder allows it)
def test_api_encoder_states_its_cost_then_is_evaluated(monkeypatch, tmp_path):
    key = "sk-dashboard-test-SECRET-42"
    with FakeEmbeddings(dim=16).running() as fake:
        monkeypatch.setenv("XLR_OPENAI_BASE_URL", fake.url)
        monkeypatch.setenv("OPENAI_API_KEY", key)
        monkeypatch.setenv("XLR_CACHE_DIR", str(tmp_path / "cache"))
        at = app(
            monkeypatch,
            XLR_DEFAULT_DATASET=str(FIXTURES / "tiny.jsonl"),
            XLR_DEFAULT_MODELS="openai:fake-model",
            XLR_DEFAULT_FIRST="0",
        )
        at = ok(at.run())
        warnings = [w.value.replace("\\", "").replace("\u2060", "") for w in at.sidebar.warning]
        assert any("openai:fake-model: up to" in w and "tokens (estimate)" in w for w in warnings), warnings
        assert not fake.requests, "nothing is sent before the confirmation"
        at = ok(at.sidebar.button(key="w.api_send.openai:fake-model").click().run())
        table = overview(at)
        assert "openai:fake-model" in " ".join(map(str, table.columns)) + " ".join(map(str, table.values.ravel()))
        assert fake.requests, "the page sent its texts to the endpoint"
        page_text = " ".join(str(e.value) for e in [*at.sidebar.warning, *at.sidebar.info, *at.markdown, *at.caption])
        assert key not in page_text
