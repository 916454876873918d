"""The sidebar's backend, weight precision and vector precision (issue 20): keys as the CLI's, the URL,
one sentence for a missing extra; fast AppTests with lookup encoders."""

from __future__ import annotations

import pytest
from strategy_fakes import HashEncoder, synthetic_app

from tests.dashboard.test_app import ok
from xlr.dashboard.state import encoder_from_key, encoder_key, initial_settings, settings_params, split_key
from xlr.encoders.device import DeviceUnavailable, Runtime


def test_encoder_keys_carry_the_backend(monkeypatch):
    from xlr.encoders.catalogue import CATALOGUE, EncoderCard

    key = encoder_key("minilm-en", "auto", "int8", "onnx")
    assert key == "minilm-en | auto/int8/onnx"
    assert split_key(key) == ("minilm-en", Runtime("auto", "int8", None, "onnx"))
    assert encoder_key("labse", "cuda", "fp16") == "labse | cuda/fp16"  # torch keys as before (caches stay valid)
    assert encoder_key("e5-small") == "e5-small"
    assert (
        len({encoder_key("m", "auto", p, b) for p, b in [("fp32", "torch"), ("fp32", "onnx"), ("int8", "onnx")]}) == 3
    )
    with pytest.raises(ValueError, match="runs fp32/int8 weights, not fp16"):
        split_key("m | auto/fp16/onnx")
    cpu_engine = HashEncoder("cpu-engine")
    cpu_engine.cpu_only = True  # a bundled engine: a GPU in fp32 falls back to the CPU, another backend is refused
    monkeypatch.setitem(CATALOGUE, "cpu-engine", EncoderCard("cpu-engine", "t", lambda _c: cpu_engine, needs="bundled"))
    assert encoder_from_key("cpu-engine | cuda/fp32") is cpu_engine
    with pytest.raises(DeviceUnavailable, match="--backend"):
        encoder_from_key("cpu-engine | cuda/fp32/onnx")


@pytest.mark.slow  # builds minilm-en's encoder object (no weights loaded)
def test_the_dashboard_key_names_the_cli_encoder():
    from xlr.cli.main import _parser
    from xlr.cli.runtime import load_with_runtime

    args = _parser().parse_args(
        ["eval", "--dataset", "x", "--model", "minilm-en", "--backend", "onnx", "--precision", "int8"]
    )
    cli = load_with_runtime("minilm-en", args)
    dash = encoder_from_key(encoder_key("minilm-en", "auto", "int8", "onnx"))
    assert dash.identity == cli.identity and dash.identity.label == "minilm-en[onnx int8]"
    assert dash.identity.cache_key("query") != encoder_from_key("minilm-en").identity.cache_key("query")


def test_the_panel_reads_and_writes_its_url_parameters():
    params = {
        "backend": "ONNX",
        "precision": "int8",
        "vectors": "ubinary",
        "compare": "torch/fp32/int8/rescore20",
        "compare_model": "minilm-en",
        "models": "e5-small,minilm-en",
    }
    s, warnings = initial_settings({}, params, "tatoeba")
    assert warnings == []
    assert (s.backend, s.precision, s.vectors, s.compare, s.compare_model) == (
        "onnx",
        "int8",
        "ubinary",
        "torch/fp32/int8/rescore20",
        "minilm-en",
    )
    written = settings_params(s)
    assert {k: written[k] for k in params} == {**params, "backend": "onnx"}
    assert initial_settings({}, written, "tatoeba")[0] == s  # read back to the same settings
    plain = settings_params(initial_settings({}, {}, "tatoeba")[0])
    assert not set(plain) & {"backend", "vectors", "compare", "compare_model", "precision"}  # defaults left out
    s, warnings = initial_settings(
        {}, {"backend": "tensorrt", "precision": "int8", "vectors": "float16", "compare": "onnx"}, "tatoeba"
    )
    assert (s.backend, s.precision, s.vectors, s.compare) == ("torch", "fp32", "float32", "")
    assert warnings == [
        "query parameter 'backend' must be one of torch, onnx, openvino, got 'tensorrt'",
        "query parameter 'vectors' must be one of float32, int8, ubinary, cbinary, got 'float16'",
        "the torch backend runs fp32/fp16/bf16 weights, not int8: fp32 kept",
        "query parameter 'compare': setting 'onnx': expected backend/precision[/vectors[/rescoreN]], e.g. onnx/int8 "
        "or torch/fp32/ubinary (vectors: float32, int8, ubinary, cbinary)",
    ]


@pytest.fixture()
def at(tmp_path, monkeypatch):
    return synthetic_app(tmp_path, monkeypatch, 40, 20)


def test_vector_precision_reaches_the_url_and_the_ranking(at):
    ok(at.run())
    float_table = at.table[0].value
    at.selectbox(key="w.vectors").set_value("ubinary")
    ok(at.run())
    ctx = at.session_state["xlr.context"]
    assert ctx.spec.vectors.precision == "ubinary" and at.query_params["vectors"] in ("ubinary", ["ubinary"])
    assert any("with ubinary vectors" in i.value for i in at.sidebar.info)
    binary_table = at.table[0].value
    assert list(binary_table.columns[1:3]) == ["fake0", "fake1"]  # the pages' names, not fake0+ubinary
    assert not binary_table.equals(float_table)  # 16-d vectors in 2 bytes rank differently


def test_a_missing_extra_is_one_sentence_in_the_sidebar(at, monkeypatch):
    from xlr.encoders import exported

    monkeypatch.setattr(exported, "_version", lambda dist: "missing" if dist == "onnxruntime" else "1.0")
    ok(at.run())
    at.selectbox(key="w.backend").set_value("onnx").run()
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.sidebar.warning]
    assert r"the onnx Backend needs onnxruntime: pip install 'xlr\[onnx\]' \(onnxruntime and onnx\)" in warnings
    assert at.selectbox(key="w.precision").options == ["fp32", "int8"]  # the precisions onnx runs
    assert at.query_params["backend"] in ("onnx", ["onnx"])
    assert not any("Traceback" in e.value for e in at.sidebar.error)
