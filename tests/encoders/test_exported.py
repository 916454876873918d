"""--backend onnx|openvino and weight precision: the export cache, identities, one-sentence refusals.

Fast tests use a stand-in builder (no torch export); the slow ones export the real minilm-en.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from xlr.encoders import exported
from xlr.encoders.base import EncoderIdentity, EncoderUnavailable
from xlr.encoders.device import DeviceUnavailable, Runtime, apply_runtime
from xlr.encoders.exported import export_key, exported_model, require_backend


class CountingBuilder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, folder, out, precision):
        self.calls.append(precision)
        (out / "model.onnx").write_bytes(b"stand-in " + precision.encode())
        return {"inputs": ["input_ids", "attention_mask"], "max_seq_length": 8}


def test_an_export_is_built_once_and_reused(tmp_path):
    build = CountingBuilder()
    where, facts, built = exported_model(tmp_path / "src", "local:abc", "onnx", "int8", tmp_path / "m", builder=build)
    assert built and build.calls == ["int8"]
    assert (where / "model.onnx").read_bytes() == b"stand-in int8"
    assert json.loads((where / "export.json").read_text())["key"] == facts["key"] == where.name
    again, facts2, built2 = exported_model(tmp_path / "src", "local:abc", "onnx", "int8", tmp_path / "m", builder=build)
    assert (again, facts2, built2) == (where, facts, False) and build.calls == ["int8"]  # second run: no export
    other, _, built3 = exported_model(tmp_path / "src", "local:abc", "onnx", "fp32", tmp_path / "m", builder=build)
    assert built3 and other != where and build.calls == ["int8", "fp32"]
    assert sorted(p.name for p in (tmp_path / "m").iterdir() if not p.name.startswith(".")) == sorted(
        [where.name, other.name]
    )


def test_a_torn_export_is_built_again_and_a_failed_one_leaves_nothing(tmp_path):
    build = CountingBuilder()
    where, _, _ = exported_model(tmp_path, "local:abc", "onnx", "fp32", tmp_path / "m", builder=build)
    (where / "export.json").unlink()  # killed before the build finished
    _, _, built = exported_model(tmp_path, "local:abc", "onnx", "fp32", tmp_path / "m", builder=build)
    assert built and len(build.calls) == 2

    def broken(folder, out, precision):
        (out / "model.onnx").write_bytes(b"half")
        raise RuntimeError("exporter failed")

    with pytest.raises(RuntimeError, match="exporter failed"):
        exported_model(tmp_path, "local:xyz", "onnx", "fp32", tmp_path / "m", builder=broken)
    assert [p for p in (tmp_path / "m").iterdir() if p.is_dir() and p.name != where.name] == []


def test_export_key_follows_source_backend_precision_and_versions(monkeypatch):
    keys = {
        export_key("local:a", "onnx", "fp32"),
        export_key("local:a", "onnx", "int8"),
        export_key("local:a", "openvino", "int8"),
        export_key("local:b", "onnx", "fp32"),
    }
    assert len(keys) == 4
    before = export_key("local:a", "onnx", "int8")
    monkeypatch.setattr(exported, "_version", lambda dist: "9.9" if dist == "onnxruntime" else "1")
    assert export_key("local:a", "onnx", "int8") != before


def test_identity_and_cache_key_differ_per_backend_and_precision():
    base = EncoderIdentity("m", "sentence-transformers", "local:a", "none", True, 8)
    variants = [
        base,
        EncoderIdentity("m", "sentence-transformers", "local:a", "none", True, 8, precision="fp16"),
        EncoderIdentity("m", "sentence-transformers", "local:a", "none", True, 8, engine="onnx"),
        EncoderIdentity("m", "sentence-transformers", "local:a", "none", True, 8, precision="int8", engine="onnx"),
        EncoderIdentity("m", "sentence-transformers", "local:a", "none", True, 8, precision="int8", engine="openvino"),
    ]
    assert len({v.cache_key("query") for v in variants}) == 5
    assert [v.label for v in variants] == ["m", "m[fp16]", "m[onnx]", "m[onnx int8]", "m[openvino int8]"]
    assert variants[3].describe()["engine"] == "onnx" and base.describe()["engine"] == "sentence-transformers"


def test_missing_extras_are_one_sentence(monkeypatch):
    monkeypatch.setattr(exported, "_version", lambda dist: "missing" if dist == "onnxruntime" else "1.0")
    with pytest.raises(EncoderUnavailable) as err:
        require_backend("onnx")
    assert str(err.value) == "--backend onnx needs onnxruntime: pip install 'xlr[onnx]' (onnxruntime and onnx)"
    require_backend("torch")  # always there


@pytest.mark.parametrize(
    "runtime, match",
    [
        (dict(precision="int8"), "for int8 use --backend onnx or openvino"),
        (dict(precision="fp16", backend="onnx"), "onnx runs fp32/int8 weights, not fp16"),
        (dict(device="cuda", backend="onnx"), "runs on the CPU here"),
        (dict(backend="tensorrt"), "unknown backend"),
    ],
)
def test_runtime_refuses_unsupported_combinations(runtime, match):
    with pytest.raises(DeviceUnavailable, match=match):
        Runtime(**runtime)


def test_encoders_without_backends_refuse_one():
    from strategy_fakes import HashEncoder

    with pytest.raises(DeviceUnavailable, match="does not take --device, --precision, --backend"):
        apply_runtime(HashEncoder(), Runtime(backend="onnx"))
    assert apply_runtime(HashEncoder(), Runtime()).identity.name == "hash"


def test_cli_backend_flag_reaches_the_runtime():
    from xlr.cli.main import _parser
    from xlr.cli.runtime import runtime_from

    args = _parser().parse_args(["eval", "--dataset", "x", "--model", "m", "--backend", "onnx", "--precision", "int8"])
    assert runtime_from(args) == Runtime("auto", "int8", None, "onnx")


SENTENCES = ["The cat sat on the mat.", "Der Hund schläft.", "A much longer sentence " * 80, "短い文"]


@pytest.mark.slow  # exports the real minilm-en (about 10 s) twice: fp32 and int8
def test_minilm_exports_once_and_matches_torch(tmp_path, minilm, monkeypatch):
    pytest.importorskip("onnxruntime")
    want = minilm.encode(SENTENCES)
    fp32 = minilm.with_runtime(Runtime("cpu", "fp32", backend="onnx"))
    fp32.export_root = tmp_path / "models"
    got = fp32.encode(SENTENCES)
    assert fp32.export_built is True
    np.testing.assert_allclose(got, want, atol=1e-5)  # same graph, same tokens (truncation to 256 included)
    int8 = minilm.with_runtime(Runtime("cpu", "int8", backend="onnx"))
    int8.export_root = tmp_path / "models"
    q = int8.encode(SENTENCES)
    assert (q * want).sum(axis=1).min() > 0.95
    assert (
        len({minilm.identity.cache_key("query"), fp32.identity.cache_key("query"), int8.identity.cache_key("query")})
        == 3
    )

    import torch

    monkeypatch.setattr(torch.onnx, "export", lambda *a, **k: pytest.fail("exported again"))
    again = minilm.with_runtime(Runtime("cpu", "int8", backend="onnx"))
    again.export_root = tmp_path / "models"
    np.testing.assert_array_equal(again.encode(SENTENCES), q)
    assert again.export_built is False  # the second run loaded the cached export


@pytest.mark.slow  # exports the real minilm-en for OpenVINO (fp32 and int8)
def test_minilm_runs_on_openvino(tmp_path, minilm):
    pytest.importorskip("openvino")
    want = minilm.encode(SENTENCES)
    for precision, check in (("fp32", lambda got: np.abs(got - want).max() < 1e-4), ("int8", None)):
        enc = minilm.with_runtime(Runtime("cpu", precision, backend="openvino"))
        enc.export_root = tmp_path / "models"
        got = enc.encode(SENTENCES)
        assert enc.export_built is True and enc.runtime_info()["backend"] == "openvino"
        assert check(got) if check else (got * want).sum(axis=1).min() > 0.95
