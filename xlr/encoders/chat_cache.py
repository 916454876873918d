"""The on-disk cache of chat generations (:class:`xlr.encoders.chat.ChatModel`'s answers).

One folder per *scope* (what an answer depends on besides its prompt: endpoint label, model,
prompt template name and hash, parameters; never the key), ``<cache>/chat/<scope hash>/``:

* ``scope.json``: the scope itself (written once, atomically), so that a reader that knows only
  the template (the Failed queries page) can find every scope holding its answers
  (:func:`cached_scopes`) without knowing the endpoint or the parameters;
* ``generations.jsonl``: one line ``{"k": input hash, "a": answer, "pt": prompt tokens, "ct":
  completion tokens}`` per prompt, appended under :func:`xlr.atomic.file_lock` and fsynced per
  batch (:func:`append_answers`); a torn last line is skipped when read (:func:`read_answers`).

The input hash (:func:`input_hash`) is 32 hex digits of SHA-256 over ``system \\0 user``.
Reading never sends anything and never fails on a damaged file: what cannot be read is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlr.atomic import atomic_write_text, file_lock

__all__ = ["CachedScope", "append_answers", "cached_scopes", "input_hash", "read_answers", "scope_folder"]

GENERATIONS = "generations.jsonl"
SCOPE = "scope.json"
MAX_SCOPE_BYTES = 64 * 1024


def input_hash(system: str, user: str) -> str:
    """32 hex digits of SHA-256 over ``system \\0 user`` (UTF-8, lone surrogates kept)."""
    return hashlib.sha256(f"{system}\0{user}".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def scope_folder(root: Path, scope: Mapping[str, Any]) -> Path:
    """``<root>/chat/<24 hex digits of SHA-256 over the scope as sorted JSON>``."""
    text = json.dumps(dict(scope), sort_keys=True)
    return Path(root) / "chat" / hashlib.sha256(text.encode()).hexdigest()[:24]


def read_answers(folder: Path) -> dict[str, str]:
    """Input hash -> answer of every readable line of ``folder``'s generations (later lines win)."""
    out: dict[str, str] = {}
    try:
        lines = (Path(folder) / GENERATIONS).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            row = json.loads(line)
        except ValueError:  # a torn last line of a killed run: that prompt is asked again
            continue
        if isinstance(row, dict) and isinstance(row.get("k"), str) and isinstance(row.get("a"), str):
            out[row["k"]] = row["a"]
    return out


def append_answers(folder: Path, scope: Mapping[str, Any], rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to ``folder``'s generations (``scope.json`` first if absent), fsynced, under the
    folder's lock; a read-only cache keeps nothing and raises nothing."""
    folder = Path(folder)
    try:
        with file_lock(folder / "lock"):
            scope_file = folder / SCOPE
            if not scope_file.exists():
                atomic_write_text(scope_file, json.dumps(dict(scope), indent=1))
            with open(folder / GENERATIONS, "a", encoding="utf-8") as fh:
                fh.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
                fh.flush()
                os.fsync(fh.fileno())
    except OSError:  # a read-only cache: answers are used, not kept
        pass


@dataclass(frozen=True)
class CachedScope:
    """One cache folder of a template: its ``scope`` (as written), its ``answers`` and when it last grew."""

    folder: Path
    scope: Mapping[str, Any]
    answers: Mapping[str, str]
    mtime: float

    @property
    def label(self) -> str:
        """``chat:<model> at <endpoint> (seed S, max_tokens N)``: how the page names the scope."""
        s = self.scope
        return f"chat:{s.get('model')} at {s.get('endpoint')} (seed {s.get('seed')}, max_tokens {s.get('max_tokens')})"


def cached_scopes(root: Path, template: str, template_hash: str) -> list[CachedScope]:
    """The cache folders under ``root`` holding answers of the template ``template`` with ``template_hash``,
    most recently written first (a folder whose ``scope.json`` does not say so, cannot be read or names
    another folder than its own is left out).

    ``root`` is the cache root (the folder holding ``chat/``); nothing is sent, nothing is written.
    """
    found = []
    base = Path(root) / "chat"
    try:
        folders = sorted(p for p in base.iterdir() if p.is_dir() and not p.is_symlink())
    except OSError:
        return []
    for folder in folders:
        try:
            path = folder / SCOPE
            if path.stat().st_size > MAX_SCOPE_BYTES:
                continue
            scope = json.loads(path.read_text(encoding="utf-8"))
            mtime = (folder / GENERATIONS).stat().st_mtime
        except (OSError, ValueError):
            continue
        if not isinstance(scope, dict) or scope.get("template") != template:
            continue
        if scope.get("template_hash") != template_hash or scope_folder(root, scope) != folder:
            continue
        answers = read_answers(folder)
        if answers:
            found.append(CachedScope(folder, scope, answers, mtime))
    return sorted(found, key=lambda c: -c.mtime)
