"""What a sentence-transformers model folder says about itself, read without loading weights.

Used by :class:`~xlr.encoders.backends.SentenceTransformerEncoder` to know its identity
(version, output dimension) and input limit without importing torch.

A folder is checked to be a model (:func:`check_model_folder`: ``modules.json`` or
``config.json``, at most :data:`MAX_FOLDER_FILES` files and :data:`MAX_FOLDER_BYTES` bytes,
module paths inside the folder) before anything in it is hashed, so ``st:/`` or ``st:<a venv>``
is one sentence at once.  Every bad config file is one :class:`ModelFolderError` sentence
naming it (deeply nested JSON, a negative ``max_seq_length``, a corrupt ``tokenizer.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Any

from xlr.encoders.base import EncoderUnavailable

__all__ = [
    "MAX_FOLDER_BYTES",
    "MAX_FOLDER_FILES",
    "ModelFolderError",
    "check_model_folder",
    "fast_tokenizer",
    "fingerprint_dir",
    "folder_dim",
    "folder_max_seq_length",
    "hub_reachable",
    "hub_revision",
    "hub_snapshot",
    "tokenizer_file",
]


MAX_FOLDER_FILES = 10_000
"""more files than any sentence-transformers model folder holds"""
MAX_FOLDER_BYTES = 200 << 30
"""200 GiB: more than any model folder this tool can run"""
_MAX_CONFIG_BYTES = 16 << 20


class ModelFolderError(EncoderUnavailable):
    """An ``st:`` folder is not a model folder, is too big for one, or holds a bad config file."""


def _json(path: Path) -> Any:
    """The JSON in ``path``; ``None`` when absent or not JSON; deep nesting is one sentence."""
    try:
        if path.stat().st_size > _MAX_CONFIG_BYTES:
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise ModelFolderError(
            f"{path}: JSON nested too deeply (arrays or objects inside each other beyond the parser's limit)"
        ) from None
    except (OSError, ValueError):
        return None


def _files(folder: Path) -> list[tuple[str, Path]]:
    """``(relative name, path)`` of the visible files under ``folder``, sorted; links to folders are not entered."""
    out: list[tuple[str, Path]] = []
    for top, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            if name.startswith("."):
                continue
            path = Path(top) / name
            if path.is_file():
                out.append((path.relative_to(folder).as_posix(), path))
                if len(out) > MAX_FOLDER_FILES:
                    raise ModelFolderError(
                        f"{folder} holds more than {MAX_FOLDER_FILES:,} files: it is not one model's folder; "
                        "give the folder of the model (with modules.json or config.json)"
                    )
    return sorted(out)


def check_model_folder(folder: Path) -> list[tuple[str, Path]]:
    """Refuse (one :class:`ModelFolderError` sentence) a folder that is not a model folder; return its files.

    A model folder has ``modules.json`` or ``config.json``; its ``modules.json`` (if any) is a
    list of modules whose paths stay inside the folder; it holds at most :data:`MAX_FOLDER_FILES`
    files and :data:`MAX_FOLDER_BYTES` bytes.  Only names and sizes are read here.
    """
    if not folder.is_dir():
        raise ModelFolderError(f"{folder} is not a folder")
    if not any((folder / n).is_file() for n in ("modules.json", "config.json")):
        raise ModelFolderError(
            f"{folder} is not a sentence-transformers model folder (no modules.json or config.json); "
            "give the folder a model was saved in"
        )
    if (folder / "modules.json").is_file():
        mods = _json(folder / "modules.json")
        for m in mods if isinstance(mods, list) else []:
            rel = str(m.get("path", "")) if isinstance(m, dict) else ""
            inside = os.path.normpath(os.path.join(folder, rel))
            if os.path.isabs(rel) or not (inside == str(folder) or inside.startswith(str(folder) + os.sep)):
                raise ModelFolderError(f"{folder / 'modules.json'}: module path {rel!r} leaves the folder")
    files = _files(folder)
    total = sum(p.stat().st_size for _, p in files)
    if total > MAX_FOLDER_BYTES:
        raise ModelFolderError(
            f"{folder} holds more than {MAX_FOLDER_BYTES:,} bytes ({total:,}): it is not one model's folder"
        )
    return files


_DIGESTS: dict[tuple[str, int, int, int, int], bytes] = {}
_DIGESTS_LOCK = threading.Lock()


def _file_digest(path: Path) -> bytes:
    """sha256 of every byte of ``path``, streamed; kept per (path, size, mtime, inode, device)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)
    with _DIGESTS_LOCK:
        hit = _DIGESTS.get(key)
    if hit is not None:
        return hit
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(8 << 20), b""):
            h.update(block)
    digest = h.digest()
    with _DIGESTS_LOCK:
        _DIGESTS[key] = digest
    return digest


def fingerprint_dir(path: Path) -> str:
    """Content fingerprint of a local model folder: every visible file's name, size and sha256.

    The folder is checked first (:func:`check_model_folder`); each file is read whole, streamed,
    once per state (path, size, mtime, inode) in a process, so an edit anywhere in a 2 GB
    checkpoint (same size) changes the key, and a second encoder of the same folder costs a stat.
    """
    h = hashlib.sha256()
    for rel, f in check_model_folder(path):
        h.update(f"{rel}\0{f.stat().st_size}\0".encode())
        h.update(_file_digest(f))
    return h.hexdigest()[:16]


def _positive(value: Any) -> int | None:
    """``value`` when it is a positive integer (JSON ``true`` is not one), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _modules(folder: Path) -> list[dict[str, Any]]:
    mods = _json(folder / "modules.json")
    return [m for m in mods if isinstance(m, dict)] if isinstance(mods, list) else []


def _transformer_dir(folder: Path) -> Path:
    for m in _modules(folder):
        if str(m.get("type", "")).endswith("Transformer"):
            return folder / str(m.get("path", ""))
    return folder


_POOL_FLAGS = (
    "pooling_mode_cls_token",
    "pooling_mode_mean_tokens",
    "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
    "pooling_mode_weightedmean_tokens",
    "pooling_mode_lasttoken",
)


def _pool_dim(cfg: dict[str, Any]) -> int | None:
    emb = _positive(cfg.get("word_embedding_dimension", cfg.get("embedding_dimension")))
    if emb is None:
        return None
    mode = cfg.get("pooling_mode")
    if isinstance(mode, str):
        return emb
    if isinstance(mode, list):
        return emb * len(mode)
    n = sum(bool(cfg.get(k)) for k in _POOL_FLAGS)
    return emb * n if n else None


def folder_dim(folder: Path) -> int | None:
    """Output dimension from ``modules.json`` and each module's config (the last module that
    sets a width wins: Pooling, then Dense); ``None`` when the folder does not say."""
    mods = _modules(folder)
    if not mods:
        return None
    dim: int | None = None
    for m in mods:
        kind = str(m.get("type", ""))
        cfg = _json(folder / str(m.get("path", "")) / "config.json")
        if kind.endswith("Transformer"):
            dim = _positive(cfg.get("hidden_size")) if isinstance(cfg, dict) else None
        elif kind.endswith("Pooling"):
            dim = _pool_dim(cfg) if isinstance(cfg, dict) else None
        elif kind.endswith("Dense"):
            dim = _positive(cfg.get("out_features")) if isinstance(cfg, dict) else None
        elif kind.endswith(("Normalize", "Dropout", "LayerNorm")):
            continue
        else:
            return None  # a module we cannot read: load the model to know
        if dim is None:
            return None
    return dim


def folder_max_seq_length(folder: Path) -> int | None:
    """``max_seq_length`` of the Transformer module (``sentence_bert_config.json``), else the
    tokenizer's ``model_max_length`` when sensible; ``None`` if neither says."""
    tdir = _transformer_dir(folder)
    for cfg_path in (tdir / "sentence_bert_config.json", folder / "sentence_bert_config.json"):
        cfg = _json(cfg_path)
        value = cfg.get("max_seq_length") if isinstance(cfg, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            if value <= 0:
                raise ModelFolderError(f"max_seq_length is {value} in {cfg_path}; it must be a positive integer")
            return value
    tok = _json(tdir / "tokenizer_config.json")
    limit = _positive(tok.get("model_max_length")) if isinstance(tok, dict) else None
    if limit is not None and limit < 100_000:
        return limit
    return None


def tokenizer_file(folder: Path) -> Path | None:
    """The fast tokenizer (``tokenizer.json``) of the Transformer module, if there is one."""
    path = _transformer_dir(folder) / "tokenizer.json"
    return path if path.is_file() else None


def fast_tokenizer(folder: Path) -> Any:
    """The ``tokenizers.Tokenizer`` of the folder (no truncation, no padding), ``None`` if it has none;
    a corrupt ``tokenizer.json`` is one :class:`ModelFolderError` sentence naming it."""
    path = tokenizer_file(folder)
    if path is None:
        return None
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(str(path))
    except Exception as exc:  # the Rust library raises its own Exception type
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelFolderError(f"cannot read the tokenizer {path} ({first[:200]})") from None
    tok.no_truncation()
    tok.no_padding()
    return tok


def hub_snapshot(model_id: str, revision: str | None = None) -> tuple[Path, str] | None:
    """``(snapshot folder, commit)`` of a hub model in the local Hugging Face cache, read offline."""
    try:
        from huggingface_hub import try_to_load_from_cache

        hit = try_to_load_from_cache(model_id, "modules.json", revision=revision)
        if not isinstance(hit, str):
            hit = try_to_load_from_cache(model_id, "config.json", revision=revision)
        if isinstance(hit, str):
            path = Path(hit)
            parts = path.parts
            if "snapshots" in parts:
                i = parts.index("snapshots")
                return Path(*parts[: i + 2]), parts[i + 1]
    except Exception:  # pragma: no cover - best effort only
        pass
    return None


def hub_revision(model_id: str) -> str:
    """The cached snapshot commit of a hub model, read offline; ``unknown`` if none."""
    snap = hub_snapshot(model_id)
    return snap[1] if snap else "unknown"


def hub_reachable(timeout: float = 3.0) -> bool:
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
