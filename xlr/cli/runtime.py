"""``--device``/``--precision``/``--batch-size``: how the CLI's encoders run (no logic: see
:mod:`xlr.encoders.device`)."""

from __future__ import annotations

import argparse
import warnings
from typing import Any

from xlr.encoders.base import Encoder
from xlr.encoders.device import PRECISIONS, Runtime, apply_runtime
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
        choices=PRECISIONS,
        default=None,
        help="fp32 (default, the published figures), fp16 or bf16 (GPU only; cached separately)",
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
        getattr(args, "device", None), getattr(args, "precision", None), getattr(args, "encode_batch_size", None)
    )


def load_with_runtime(name: str, args: argparse.Namespace, **options: Any) -> Encoder:
    """``load_encoder(name, **options)`` set to the device/precision/batch size of the command line."""
    return apply_runtime(load_encoder(name, **options), runtime_from(args))


def one_line_warnings() -> None:
    """Warnings (e.g. a read-only cache) print as ``xlr: warning: ...``, one line, no source."""
    warnings.formatwarning = lambda message, *args, **kwargs: f"xlr: warning: {' '.join(str(message).split())}\n"
