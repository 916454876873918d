"""The sidebar's device and precision (fast AppTest with lookup encoders): from $XLR_DEVICE, into the URL,
into every encoder the pages use; an encoder that cannot take them says why and the page keeps the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
from strategy_fakes import install_synthetic
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def at(tmp_path, monkeypatch):
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    path = install_synthetic(tmp_path, monkeypatch, 40)
    for key, value in {
        "XLR_DEFAULT_DATASET": str(path),
        "XLR_DEFAULT_MODELS": "fake0,fake1",
        "XLR_DEFAULT_FIRST": "20",
        "XLR_CACHE_DIR": str(tmp_path / "cache"),
        "XLR_DEVICE": "cpu",
    }.items():
        monkeypatch.setenv(key, value)
    for var in ("XLR_DEFAULT_DIRECTIONS", "XLR_DEFAULT_KS"):
        monkeypatch.delenv(var, raising=False)
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def test_device_from_the_environment_reaches_the_url_and_the_encoders(at):
    from xlr.dashboard import resources

    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.selectbox(key="w.device").value == "cpu" and at.query_params["device"] in ("cpu", ["cpu"])
    assert any(r"fake0, fake1 \(on cpu, fp32\)" in i.value for i in at.sidebar.info)  # escaped markdown
    ctx = at.session_state["xlr.context"]
    assert ctx.key("fake0") == "fake0 | cpu/fp32"
    assert resources.encoder(ctx.key("fake0")).identity.name == "fake0"
    assert at.table, "the overview shows its table with the device set"

    # fp16 on encoders that run in fp32 only: each says why, nothing else is lost
    at.selectbox(key="w.precision").set_value("fp16").run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.sidebar.error]
    assert any("fake0: fake0 does not take" in e for e in errors) and any(
        "Choose at least one encoder" in e for e in errors
    )
    assert at.query_params["precision"] in ("fp16", ["fp16"])
    assert at.multiselect(key="w.models").value == ["fake0", "fake1"]

    # back to fp32: the encoders load again and the table returns
    at.selectbox(key="w.precision").set_value("fp32").run()
    assert not at.sidebar.error and at.table and "precision" not in at.query_params
