"""The sidebar's device and precision (fast AppTest with lookup encoders): from $XLR_DEVICE, into the URL,
into every encoder the pages use; an encoder that cannot take them says why and the page keeps the rest."""

from __future__ import annotations

import pytest
from strategy_fakes import synthetic_app


@pytest.fixture()
def at(tmp_path, monkeypatch):
    return synthetic_app(tmp_path, monkeypatch, 40, 20, XLR_DEVICE="cpu")


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
    assert any(e.startswith("fake0 does not take") for e in errors) and any(
        "Choose at least one encoder" in e for e in errors
    )
    assert at.query_params["precision"] in ("fp16", ["fp16"])
    assert at.multiselect(key="w.models").value == ["fake0", "fake1"]

    # back to fp32: the encoders load again and the table returns
    at.selectbox(key="w.precision").set_value("fp32").run()
    assert not at.sidebar.error and at.table and "precision" not in at.query_params
