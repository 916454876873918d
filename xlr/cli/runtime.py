"""``--device``/``--precision``/``--batch-size``: how the CLI's encoders run (no logic: see
:mod:`xlr.encoders.device`)."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from xlr.encoders.base import Encoder
from xlr.encoders.device import BACKENDS, WEIGHT_PRECISIONS, Runtime, apply_runtime
from xlr.encoders.registry import load_encoder

__all__ = ["add_runtime_flags", "load_with_runtime", "one_line_warnings"]


def add_runtime_flags(p: argparse.ArgumentParser, *, device: bool = True) -> None:
    """Add ``--precision`` and ``--encode-batch-size`` (and ``--device`` unless the command has one)."""
    if device:
        p.add_argument(
            "--device",
            default=None,
            help="where sentence-transformers models run: auto (cuda, then mps, then cpu; default, "
            "or $XLR_DEVICE), cpu, cuda, cuda:N, mps",
        )
    p.add_argument(
        "--precision",
        choices=WEIGHT_PRECISIONS,
        default=None,
        help="weights: fp32 (default, the published figures), fp16 or bf16 (torch on a GPU), int8 (onnx or "
        "openvino); cached separately",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default=None,
        help="what runs sentence-transformers models: torch (default), onnx or openvino (exported once from the "
        "model folder and cached beside the embeddings; pip install 'xlr[onnx]' / 'xlr[openvino]')",
    )
    p.add_argument(
        "--encode-batch-size",
        type=int,
        default=None,
        help="texts per encoder call (default: 32 on the CPU, 128 on a GPU, 256 in fp16/bf16)",
    )


def runtime_from(args: argparse.Namespace) -> Runtime:
    """The device/precision/batch size of the command line (``$XLR_DEVICE`` for a missing ``--device``)."""
    return Runtime.from_options(
        getattr(args, "device", None),
        getattr(args, "precision", None),
        getattr(args, "encode_batch_size", None),
        getattr(args, "backend", None),
    )


def load_with_runtime(name: str, args: argparse.Namespace, **options: Any) -> Encoder:
    """``load_encoder(name, **options)`` set to the device/precision/batch size/backend of the command line;
    exported models are cached in ``<--cache-dir>/models`` when ``--cache-dir`` is given."""
    enc = apply_runtime(load_encoder(name, **options), runtime_from(args))
    cache_dir = getattr(args, "cache_dir", None)
    if cache_dir is not None and hasattr(enc, "export_root"):
        enc.export_root = Path(cache_dir).expanduser() / "models"
    return enc


def one_line_warnings() -> None:
    """Warnings (e.g. a read-only cache) print as ``xlr: warning: ...``, one line, no source."""
    warnings.formatwarning = lambda message, *args, **kwargs: f"xlr: warning: {' '.join(str(message).split())}\n"
