"""ONNX (and OpenVINO) copies of a sentence-transformers model: built once, cached, run without torch.

Export: the whole SentenceTransformer pipeline (Transformer, Pooling, Dense, ...) is traced by
``torch.onnx.export`` (TorchScript exporter, opset 17; no optimum) into ``model.onnx``, inputs
``input_ids``/``attention_mask`` (and ``token_type_ids`` when the model takes them), output the
sentence embedding.  ``int8``: ``onnxruntime.quantization.quantize_dynamic`` (int8 weights per
output channel of every MatMul, activations quantized per batch at run time).

Cache: ``<cache root>/models/<key>/`` beside the embedding namespaces, where ``key`` hashes the
source model's fingerprint, backend, precision and the versions of torch, transformers,
sentence-transformers, onnx, onnxruntime (and openvino) and :data:`EXPORT_FORMAT`.  A folder
counts once ``export.json`` is in it (written last, renamed into place); builders take a
``flock`` so two processes export once.  Later runs load the exported file: no torch import.

Running: the model folder's ``tokenizer.json`` through the ``tokenizers`` library (truncation to
``max_seq_length``, padding to the longest text of the batch, as sentence-transformers does) and
an ``onnxruntime.InferenceSession`` (or an OpenVINO compiled model) on the CPU.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from xlr.atomic import atomic_write_text
from xlr.encoders.base import EncoderUnavailable

__all__ = ["EXPORT_FORMAT", "ExportedEngine", "export_key", "exported_model", "require_backend"]

EXPORT_FORMAT = 1
"""Bumped whenever the export recipe changes (invalidates every cached export)."""

_EXTRAS = {
    "onnx": ("onnxruntime", "onnx", "pip install 'xlr[onnx]' (onnxruntime and onnx)"),
    "openvino": ("openvino", "onnx", "pip install 'xlr[openvino]' (openvino, onnxruntime and onnx)"),
}


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def require_backend(backend: str) -> None:
    """Raise :class:`EncoderUnavailable` (one sentence: what to install) unless ``backend``'s packages are there."""
    if backend == "torch":
        return
    if backend not in _EXTRAS:
        raise EncoderUnavailable(f"unknown backend {backend!r}; choose torch, onnx or openvino")
    dists, install = _EXTRAS[backend][:2], _EXTRAS[backend][2]
    needed = [*dists, "onnxruntime"] if backend == "openvino" else list(dists)
    missing = [d for d in dict.fromkeys(needed) if _version(d) == "missing"]
    if missing:
        raise EncoderUnavailable(f"--backend {backend} needs {', '.join(missing)}: {install}")


def export_key(fingerprint: str, backend: str, precision: str) -> str:
    """Hex key of an exported model: source fingerprint, backend, precision, library versions, recipe."""
    libs = ["torch", "transformers", "sentence-transformers", "onnx", "onnxruntime"]
    if backend == "openvino":
        libs.append("openvino")
    blob = json.dumps([fingerprint, backend, precision, EXPORT_FORMAT, {d: _version(d) for d in libs}])
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


Builder = Callable[[Path, Path, str], dict[str, Any]]
"""``builder(source folder, output folder, precision) -> facts``: writes ``model.onnx`` into the output."""


def exported_model(
    folder: Path,
    fingerprint: str,
    backend: str,
    precision: str,
    root: Path,
    *,
    builder: Builder | None = None,
) -> tuple[Path, dict[str, Any], bool]:
    """``(export folder, its export.json facts, built now?)``: the cached export, built first if absent.

    ``builder`` defaults to :func:`build_onnx` (torch is imported only then).
    """
    key = export_key(fingerprint, backend, precision)
    target = root / key
    meta = target / "export.json"
    if not meta.is_file():
        with _locked(root / f".{key}.lock"):
            if not meta.is_file():  # another process may have built it while we waited
                if target.exists():
                    shutil.rmtree(target)  # a torn build (no export.json): start again
                tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
                os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache is shared like the embeddings
                try:
                    facts = (builder or build_onnx)(folder, tmp, precision)
                    facts |= {"key": key, "backend": backend, "precision": precision, "source": fingerprint}
                    atomic_write_text(tmp / "export.json", json.dumps(facts, indent=1))
                    os.replace(tmp, target)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                return target, facts, True
    try:
        facts = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EncoderUnavailable(f"the exported model at {target} cannot be read ({exc}); delete that folder") from None
    return target, facts, False


def build_onnx(folder: Path, out: Path, precision: str) -> dict[str, Any]:
    """Export the sentence-transformers model in ``folder`` to ``out/model.onnx`` (int8: quantized)."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    st = SentenceTransformer(str(folder), device="cpu")
    st.eval()
    with _quiet():
        sample = st.tokenize(["an example sentence", "a second, longer example sentence"])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *tensors: torch.Tensor) -> torch.Tensor:
            out: torch.Tensor = self.st(dict(zip(names, tensors)))["sentence_embedding"]
            return out

    fp32 = out / ("model.onnx" if precision == "fp32" else "model.fp32.onnx")
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"embedding": {0: "batch"}}
    with torch.no_grad(), _quiet():
        torch.onnx.export(
            Pipeline().eval(),
            tuple(sample[n] for n in names),
            str(fp32),
            dynamo=False,
            input_names=names,
            output_names=["embedding"],
            dynamic_axes=axes,
            opset_version=17,
        )
    if precision == "int8":
        from onnxruntime.quantization import QuantType, quantize_dynamic

        with _quiet():
            quantize_dynamic(
                str(fp32),
                str(out / "model.onnx"),
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        fp32.unlink()
    limit = st.max_seq_length
    return {"inputs": names, "max_seq_length": int(limit) if isinstance(limit, int) else None}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporters' warnings (tracer, quantizer pre-processing advice)."""
    import logging
    import warnings

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


class ExportedEngine:
    """An exported model and its tokenizer, run on the CPU by onnxruntime or OpenVINO.

    ``encode(texts)`` -> ``(n, dim)`` float32 (not normalised: the caller normalises).
    """

    def __init__(self, export_dir: Path, tokenizer: Any, facts: dict[str, Any], backend: str, threads: int) -> None:
        self.inputs = list(facts.get("inputs") or ["input_ids", "attention_mask"])
        tok = tokenizer  # a tokenizers.Tokenizer of the source folder (st_folder.fast_tokenizer)
        limit = facts.get("max_seq_length")
        if isinstance(limit, int):
            tok.enable_truncation(limit)
        else:
            tok.no_truncation()
        if tok.padding is None:
            pad = tok.token_to_id("[PAD]")
            tok.enable_padding(pad_id=0 if pad is None else pad, pad_token="[PAD]" if pad is not None else "<pad>")
        else:
            tok.enable_padding(pad_id=tok.padding["pad_id"], pad_token=tok.padding["pad_token"])
        self._tok = tok
        model = export_dir / "model.onnx"
        if backend == "openvino":
            import openvino as ov

            core = ov.Core()
            config = {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"}  # no silent bf16
            self._ov = core.compile_model(core.read_model(str(model)), "CPU", config)
            self._run: Callable[[dict[str, np.ndarray]], np.ndarray] = lambda feed: np.asarray(
                self._ov(feed)[self._ov.output(0)]
            )
        else:
            import onnxruntime as ort

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = threads
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
            self._run = lambda feed: np.asarray(session.run(None, feed)[0])

    def encode(self, texts: list[str]) -> np.ndarray:
        enc = self._tok.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64)}
        if "token_type_ids" in self.inputs:
            feed["token_type_ids"] = np.array([e.type_ids for e in enc], dtype=np.int64)
        return np.asarray(self._run(feed), dtype=np.float32)
