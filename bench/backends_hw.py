"""The ``backends`` section of ``bench.encode_hw``: one model, every backend and precision this machine runs.

Settings (each skipped with the reason when this machine cannot run it):

* torch fp32, and on a GPU fp16 and bf16 (sentence-transformers with the SDPA attention of
  transformers, the default for BERT-like models; ``attn_implementation`` is recorded);
* onnx fp32 and int8, openvino fp32 and int8 on the CPU (xlr's ``--backend``; the export is built
  once, outside the clock);
* on CUDA: the exported fp32 ONNX graph on onnxruntime's ``CUDAExecutionProvider`` when the
  installed onnxruntime has it (``onnxruntime-gpu``), else skipped with that sentence.

Per setting: texts/s (median of ``repeats`` runs after one warm-up, on the same texts, in turns),
ratio to torch fp32, and the agreement with torch fp32 (max |diff| and min cosine).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ATTENTION: dict[str, str] = {}
"""The attention implementation each torch setting ran with (filled while running)."""


def _cosine_min(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def _settings(device: str, root: Path, model: Path, batch: int | None) -> dict[str, Callable[[], Any] | str]:
    """name -> a function returning an encode(texts) callable, or the sentence saying why it is skipped."""
    from xlr.encoders.backends import SentenceTransformerEncoder
    from xlr.encoders.device import Runtime

    def xlr(backend: str, precision: str, dev: str) -> Callable[[], Any]:
        def build() -> Any:
            enc = SentenceTransformerEncoder(str(model), name="bench", runtime=Runtime(dev, precision, batch, backend))
            enc.export_root = root

            def encode(texts: list[str]) -> np.ndarray:
                vecs = enc.encode(texts, batch_size=batch)
                if backend == "torch":  # which attention kernel ran (sdpa expected)
                    config = getattr(getattr(enc.model[0], "auto_model", None), "config", None)
                    ATTENTION[f"{backend} {precision}"] = str(getattr(config, "_attn_implementation", None))
                return vecs

            return encode

        return build

    out: dict[str, Callable[[], Any] | str] = {"torch fp32": xlr("torch", "fp32", device)}
    gpu = device != "cpu"
    for p in ("fp16", "bf16"):
        out[f"torch {p}"] = xlr("torch", p, device) if gpu else "needs a GPU"
    for backend in ("onnx", "openvino"):
        for p in ("fp32", "int8"):
            try:
                from xlr.encoders.exported import require_backend

                require_backend(backend)
                out[f"{backend} {p} (cpu)"] = xlr(backend, p, "cpu")
            except ValueError as exc:
                out[f"{backend} {p} (cpu)"] = str(exc)
    if device.startswith("cuda"):
        out["onnx fp32 (cuda)"] = _onnx_cuda(model, root, batch)
    return out


def _onnx_cuda(model: Path, root: Path, batch: int | None) -> Callable[[], Any] | str:
    try:
        import onnxruntime as ort
    except ImportError:
        return "onnxruntime is not installed"
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return "this onnxruntime has no CUDAExecutionProvider (pip install onnxruntime-gpu)"

    def build() -> Any:
        from xlr.encoders.exported import exported_model
        from xlr.encoders.st_folder import fast_tokenizer, fingerprint_dir

        where, facts, _ = exported_model(model, "local:" + fingerprint_dir(model), "onnx", "fp32", root)
        tok = fast_tokenizer(model)
        tok.enable_truncation(int(facts.get("max_seq_length") or 512))
        pad = tok.token_to_id("[PAD]")
        tok.enable_padding(pad_id=0 if pad is None else pad)
        session = ort.InferenceSession(str(where / "model.onnx"), providers=["CUDAExecutionProvider"])
        names = list(facts["inputs"])

        def encode(texts: list[str]) -> np.ndarray:
            parts = []
            for i in range(0, len(texts), batch or 128):
                enc = tok.encode_batch(texts[i : i + (batch or 128)])
                feed = {
                    "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                    "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                    "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
                }
                parts.append(session.run(None, {k: feed[k] for k in names})[0])
            return np.concatenate(parts)

        return encode

    return build


def backends(args: argparse.Namespace, texts: list[str]) -> dict[str, Any]:
    """Run every setting of :func:`_settings` on ``texts``; see the module docstring."""
    from xlr.encoders.device import resolve_device

    device = resolve_device(args.device)
    out: dict[str, Any] = {"device": device, "model": str(args.model), "n_texts": len(texts), "figures": []}
    if device.startswith("cuda"):
        import torch

        out["gpu"] = torch.cuda.get_device_name(torch.device(device))
    with tempfile.TemporaryDirectory(prefix="xlr-bench-backends-") as tmp:
        fns: dict[str, Any] = {}
        for name, make in _settings(device, Path(tmp), Path(args.model), args.batch).items():
            if isinstance(make, str):
                out["figures"].append({"name": name, "skipped": make})
                continue
            t0 = time.perf_counter()
            fn = make()
            first = np.asarray(fn(texts[:8]))  # load / export / kernels outside the clock
            fns[name] = (fn, round(time.perf_counter() - t0, 2), first)
        runs: dict[str, list[float]] = {k: [] for k in fns}
        vecs: dict[str, np.ndarray] = {}
        for _ in range(args.repeats):
            for name, (fn, _, _) in fns.items():
                t0 = time.perf_counter()
                vecs[name] = np.asarray(fn(texts), dtype=np.float32)
                if device.startswith("cuda"):
                    import torch

                    torch.cuda.synchronize()
                runs[name].append(time.perf_counter() - t0)
    base = len(texts) / float(np.median(runs["torch fp32"]))
    for name, (_, setup_s, _) in fns.items():
        rate = len(texts) / float(np.median(runs[name]))
        out["figures"].append(
            {
                "name": name,
                "texts_per_s": round(rate, 1),
                "ratio_to_torch_fp32": round(rate / base, 2),
                "setup_s": setup_s,
                "max_abs_diff_vs_torch_fp32": float(np.abs(vecs[name] - vecs["torch fp32"]).max()),
                "min_cosine_vs_torch_fp32": round(_cosine_min(vecs[name], vecs["torch fp32"]), 5),
                "runs_s": [round(x, 3) for x in runs[name]],
            }
            | ({"attention": ATTENTION[name]} if name in ATTENTION else {})
        )
    return out
