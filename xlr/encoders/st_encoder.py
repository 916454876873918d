"""Any sentence-transformers model, by hub id or local folder, run by torch, onnxruntime or OpenVINO.

:mod:`xlr.encoders.backends` re-exports it.  The identity (version, dimension,
input limit) is read from the folder without loading weights; the engine loads on the first
text not in the cache.  ``--backend onnx|openvino`` runs a cached export of the folder
(:mod:`xlr.encoders.exported`) with no torch import once it is built.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.metadata
from pathlib import Path
from typing import Any

import numpy as np

from xlr import settings
from xlr.encoders.base import PREFIX_MODES, BatchEncoder, EncoderIdentity, EncoderUnavailable, Role
from xlr.encoders.device import (
    DeviceUnavailable,
    Runtime,
    check_device,
    check_precision,
    default_batch_size,
    default_threads,
    resolve_device,
)
from xlr.encoders.exported import require_backend
from xlr.encoders.limits import cut_with_offsets
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
from xlr.paths import user_path

__all__ = ["SentenceTransformerEncoder", "package_version"]


def package_version(dist: str) -> str:
    """The installed version of ``dist``, or ``unknown``."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _engine_name(runtime: Runtime) -> str:
    """The identity's ``engine``: empty for torch (keys as before), else the backend."""
    return "" if runtime.backend == "torch" else runtime.backend


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
        self._exported: Any = None
        self.export_root: Path | None = None
        """Where exported models are cached (default ``<embedding cache>/models``)."""
        self.export_dir: Path | None = None
        """The exported model folder once loaded (``--backend onnx|openvino``)."""
        self.export_built: bool | None = None
        """After loading with an exported backend: True if this process exported it, False if reused."""
        self._tok: Any = None
        self._device: str | None = None
        self._runtime = runtime or Runtime.from_options()
        local = user_path(model)
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
            version=f"{version};sentence-transformers=={package_version('sentence-transformers')}",
            prefix_mode=prefix_mode,
            normalize=True,
            dim=int(dim or 0),
            precision=self._runtime.precision,
            engine=_engine_name(self._runtime),
        )
        self._check_runtime()
        if dim is None:  # the folder does not say (or it must be downloaded): load now
            self._load()
            if self._folder is None and snap is None:
                version = f"hub:{revision or hub_revision(model)}"
                self.identity = dataclasses.replace(
                    self.identity,
                    version=f"{version};sentence-transformers=={package_version('sentence-transformers')}",
                )

    def _check_runtime(self) -> None:
        rt = self._runtime
        if rt.backend != "torch":
            require_backend(rt.backend)  # one sentence: what to install
            if self._folder is None:
                raise EncoderUnavailable(
                    f"{self._name}: --backend {rt.backend} exports a model folder on this machine; "
                    "download the model first (run it once with --backend torch) or give st:/path/to/model"
                )
        else:
            if rt.device != "auto":
                check_device(rt.device)
            if rt.precision != "fp32":
                check_precision(resolve_device(rt.device), rt.precision)
        self._batch_cap = rt.batch_size

    def with_runtime(self, runtime: Runtime) -> SentenceTransformerEncoder:
        """A copy that runs with ``runtime`` (checked now: a missing device or package is one sentence)."""
        new = copy.copy(self)
        new._runtime = runtime
        new.identity = dataclasses.replace(self.identity, precision=runtime.precision, engine=_engine_name(runtime))
        if (runtime.device, runtime.precision, runtime.backend) != (
            self._runtime.device,
            self._runtime.precision,
            self._runtime.backend,
        ):
            new._st, new._device, new._exported = None, None, None
        new._check_runtime()
        return new

    @property
    def loaded(self) -> bool:
        return self._st is not None or self._exported is not None

    @property
    def device(self) -> str:
        """The device the model runs on (resolving ``auto`` imports torch; exported backends: cpu)."""
        if self._device is None:
            self._device = self._runtime.device_for_backend
            if self._device == "auto":
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
            "backend": self._runtime.backend,
            "batch_size": self.preferred_batch_size if loaded else self._runtime.batch_size,
            "model_loaded": loaded,
            "max_tokens": self.max_seq_length,
        }

    @property
    def export_target(self) -> Path | None:
        """The folder this encoder's onnx/openvino export is cached in (built or not yet); ``None`` for torch."""
        from xlr.encoders.cache import default_cache_dir
        from xlr.encoders.exported import export_key

        rt = self._runtime
        if rt.backend == "torch":
            return None
        root = self.export_root or default_cache_dir() / "models"
        return root / export_key(self.identity.version.split(";", 1)[0], rt.backend, rt.precision)

    def _load_exported(self) -> Any:
        """The onnx/openvino engine: the cached export of the model folder, exported first if absent."""
        from xlr.encoders.cache import default_cache_dir
        from xlr.encoders.exported import ExportedEngine, exported_model

        assert self._folder is not None  # checked by _check_runtime
        rt = self._runtime
        root = self.export_root or default_cache_dir() / "models"
        fingerprint = self.identity.version.split(";", 1)[0]
        try:
            where, facts, built = exported_model(self._folder, fingerprint, rt.backend, rt.precision, root)
        except EncoderUnavailable:
            raise
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise EncoderUnavailable(
                f"could not export {self._name} to {rt.backend} {rt.precision}: {first[:300]}"
            ) from None
        tok = fast_tokenizer(self._folder)
        if tok is None:
            raise EncoderUnavailable(f"{self._name}: --backend {rt.backend} needs the model's tokenizer.json")
        self.export_built = built
        self.export_dir = where
        self._exported = ExportedEngine(where, tok, facts, rt.backend, default_threads())
        return self._exported

    def _load(self) -> Any:
        model, local = self._source, user_path(self._source)
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
        """The engine object (the ``SentenceTransformer``, or the exported engine), loaded on first use."""
        if self._runtime.backend != "torch":
            return self._exported if self._exported is not None else self._load_exported()
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
        if self._runtime.backend != "torch":  # the exported graph has no prompts: put the prefix in front
            engine = self._exported if self._exported is not None else self._load_exported()
            prefix = self.identity.prefix(role)
            return np.asarray(engine.encode([prefix + t for t in texts]), dtype=np.float32)
        return st_encode(self.model, texts, role, self.identity.prefix(role))
