"""The cache stays inside itself (issue 17): no symlink is followed, nothing it did not create is deleted,
and a shard whose rows are not unit vectors (for a normalising encoder) is caught even with a valid checksum.

Fast tier (``HashEncoder``); the attack through a real process is ``test_symlink_attack_in_a_shared_folder``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from strategy_fakes import HashEncoder

from xlr.encoders.cache import CacheRepairWarning, EmbeddingCache

TEXTS = [f"sentence number {i}" for i in range(12)]


def _victim(folder: Path) -> dict[str, bytes]:
    """A folder of someone else's files, some named like the cache's own (shards, orphans, temporaries)."""
    folder.mkdir()
    stem = uuid.uuid4().hex
    files = {
        "notes.json": b"{}",
        f"{stem}.json": b"not a shard",
        f"{stem}.keys.npy": b"precious",
        f"{uuid.uuid4().hex}.vecs.npy": b"orphan-looking",
        f".{stem}.keys.npy.abc.tmp": b"temporary-looking",
        "identity.json": b"{}",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_a_symlinked_namespace_is_refused_and_the_target_untouched(tmp_path: Path) -> None:
    enc = HashEncoder("hash", 8)
    root = tmp_path / "cache"
    root.mkdir()
    victim = tmp_path / "victim"
    before = _victim(victim)
    (root / enc.identity.cache_key("document")).symlink_to(victim)
    with pytest.warns(CacheRepairWarning, match="is a symbolic link") as caught:
        vecs, stats = EmbeddingCache(root).embed(enc, TEXTS)
    assert len([w for w in caught if issubclass(w.category, CacheRepairWarning)]) == 1
    assert "\n" not in str(caught[0].message)
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == before
    assert stats.encoded == len(TEXTS) and stats.written is False
    np.testing.assert_array_equal(vecs, enc.encode(TEXTS))


@pytest.mark.parametrize("name", [".lock", ".lock.gate"])
def test_dangling_lock_symlinks_create_nothing_where_they_point(tmp_path: Path, name: str) -> None:
    enc = HashEncoder("hash", 8)
    EmbeddingCache(tmp_path / "cache").embed(enc, TEXTS[:2])
    (ns,) = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
    (ns / name).unlink(missing_ok=True)
    target = tmp_path / "elsewhere" / "planted"
    target.parent.mkdir()
    (ns / name).symlink_to(target)
    with pytest.warns(CacheRepairWarning, match="symbolic link"):
        vecs, stats = EmbeddingCache(tmp_path / "cache").embed(enc, TEXTS)
    assert not target.exists() and list(target.parent.iterdir()) == []
    np.testing.assert_array_equal(vecs, enc.encode(TEXTS))


def test_repair_and_sweep_delete_only_what_the_cache_created(tmp_path: Path) -> None:
    enc = HashEncoder("hash", 8)
    EmbeddingCache(tmp_path).embed(enc, TEXTS[:2])
    (ns,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    mine = {"notes.keys.npy": b"x", ".my.tmp": b"y", "README.vecs.npy": b"z", "readme.json": b"not a shard"}
    for name, data in mine.items():
        (ns / name).write_bytes(data)
    (ns / "folder.json").mkdir()
    EmbeddingCache(tmp_path).embed(enc, TEXTS)
    assert {n: (ns / n).read_bytes() for n in mine} == mine and (ns / "folder.json").is_dir()


def test_a_tampered_shard_with_a_valid_checksum_is_caught_by_its_norms(tmp_path: Path) -> None:
    enc = HashEncoder("hash", 8)
    good, _ = EmbeddingCache(tmp_path).embed(enc, TEXTS)
    (ns,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    (vec_file,) = ns.glob("*.vecs.npy")
    meta_file = vec_file.with_name(vec_file.name.replace(".vecs.npy", ".json"))
    vecs = np.load(vec_file)
    vecs[0] = -3 * vecs[0]  # a poisoned row: wrong vector, checksum recomputed
    np.save(vec_file, vecs)
    meta = json.loads(meta_file.read_text())
    meta["vecs_sha256"] = hashlib.sha256(vec_file.read_bytes()).hexdigest()
    meta_file.write_text(json.dumps(meta))
    again, stats = EmbeddingCache(tmp_path).embed(enc, TEXTS)
    assert stats.rebuilt_shards == 1 and stats.encoded == len(TEXTS)
    np.testing.assert_array_equal(again, good)


@pytest.mark.slow
def test_symlink_attack_in_a_shared_folder(tmp_path: Path) -> None:
    """Another user plants the namespaces of e5-small as links to a victim folder in a shared cache;
    a real ``xlr eval`` run warns once per namespace, computes in memory and leaves the victim as it was."""
    import os
    import subprocess
    import sys

    from xlr.encoders.registry import load_encoder

    shared = tmp_path / "shared-tmp"
    shared.mkdir(mode=0o1777)
    cache = shared / "xlr-cache"
    cache.mkdir()
    victim = tmp_path / "home"
    before = _victim(victim)
    identity = load_encoder("e5-small").identity
    for role in ("query", "document"):
        link = cache / identity.cache_key(role)
        if not link.is_symlink():
            link.symlink_to(victim)
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, "-m", "xlr", "eval", "--dataset", str(fixture), "--model", "e5-small"]
        + ["--cache-dir", str(cache), "--no-progress", "--k", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert {p.name: p.read_bytes() for p in victim.iterdir()} == before
    assert proc.returncode == 0, proc.stderr
    assert "is a symbolic link" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in cache.iterdir()) == sorted({identity.cache_key(r) for r in ("query", "document")})
