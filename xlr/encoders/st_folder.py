"""What a sentence-transformers model folder says about itself, read without loading weights.

Used by :class:`~xlr.encoders.backends.SentenceTransformerEncoder` to know its identity
(version, output dimension) and input limit without importing torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

__all__ = [
    "fingerprint_dir",
    "folder_dim",
    "folder_max_seq_length",
    "hub_reachable",
    "hub_revision",
    "hub_snapshot",
    "tokenizer_file",
]


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def fingerprint_dir(path: Path) -> str:
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
    emb = cfg.get("word_embedding_dimension", cfg.get("embedding_dimension"))
    if not isinstance(emb, int):
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
            hidden = cfg.get("hidden_size") if isinstance(cfg, dict) else None
            dim = hidden if isinstance(hidden, int) else None
        elif kind.endswith("Pooling"):
            dim = _pool_dim(cfg) if isinstance(cfg, dict) else None
        elif kind.endswith("Dense"):
            out = cfg.get("out_features") if isinstance(cfg, dict) else None
            dim = out if isinstance(out, int) else None
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
        if isinstance(cfg, dict) and isinstance(cfg.get("max_seq_length"), int):
            return int(cfg["max_seq_length"])
    tok = _json(tdir / "tokenizer_config.json")
    if isinstance(tok, dict) and isinstance(tok.get("model_max_length"), int) and tok["model_max_length"] < 100_000:
        return int(tok["model_max_length"])
    return None


def tokenizer_file(folder: Path) -> Path | None:
    """The fast tokenizer (``tokenizer.json``) of the Transformer module, if there is one."""
    path = _transformer_dir(folder) / "tokenizer.json"
    return path if path.is_file() else None


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
