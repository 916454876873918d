"""How xlr calls sentence-transformers: load-time dtype, prompts by role, out-of-memory clean-up.

Used by :class:`xlr.encoders.backends.SentenceTransformerEncoder`; none of these imports torch
before it is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from xlr.encoders.base import BatchTooLarge, Role

__all__ = ["dtype_kwargs", "prompt_kwargs", "release_device_memory", "st_encode"]


def dtype_kwargs(precision: str) -> dict[str, Any]:
    """``model_kwargs`` that load the weights in ``precision`` (no fp32 copy first); ``{}`` for fp32.

    transformers 5 names the option ``dtype`` (``torch_dtype`` is its deprecated spelling);
    sentence-transformers casts its later modules (pooling, dense) to the backbone's dtype.
    """
    if precision not in ("fp16", "bf16"):  # fp32, and int8 (an exported engine's, not torch's)
        return {}
    import torch

    return {"dtype": torch.float16 if precision == "fp16" else torch.bfloat16}


def prompt_kwargs(shipped: dict[str, str] | None, prefix: str) -> dict[str, str]:
    """How to ask sentence-transformers for ``prefix``: by the name of the model's own prompt when it
    ships one with that text, else as an explicit ``prompt`` (``""``: none, so a model's default prompt
    never slips in unrecorded).

    >>> prompt_kwargs({"query": "query: ", "document": "passage: "}, "passage: ")
    {'prompt_name': 'document'}
    >>> prompt_kwargs({"query": "query: "}, "")
    {'prompt': ''}
    """
    name = next((k for k, v in (shipped or {}).items() if prefix and v == prefix), None)
    return {"prompt_name": name} if name is not None else {"prompt": prefix}


def release_device_memory(torch: Any) -> None:
    """Return cached allocator blocks after an out-of-memory (CUDA and MPS; nothing on the CPU)."""
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    mps = getattr(torch, "mps", None)
    if mps is not None and torch.backends.mps.is_available():
        mps.empty_cache()


def st_encode(model: Any, texts: list[str], role: Role, prefix: str) -> np.ndarray:
    """``(len(texts), dim)`` float32 from a ``SentenceTransformer``, one batch, ``prefix`` put first.

    Queries go through ``encode_query`` and documents through ``encode_document`` (a model with
    a task router routes them), the prefix as :func:`prompt_kwargs` says.  Running out of memory
    (``torch.OutOfMemoryError``: CUDA and MPS) becomes :class:`~xlr.encoders.base.BatchTooLarge`,
    which halves the batch; any other error propagates.
    """
    import torch  # already imported by the loaded model

    encode = model.encode_query if role == "query" else model.encode_document
    try:
        out = encode(
            texts,
            batch_size=len(texts),
            convert_to_numpy=True,
            show_progress_bar=False,
            **prompt_kwargs(getattr(model, "prompts", None), prefix),
        )
    except torch.OutOfMemoryError as exc:  # torch.cuda.OutOfMemoryError is this class
        release_device_memory(torch)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "out of memory"
        raise BatchTooLarge(first) from exc
    return np.asarray(out, dtype=np.float32)
