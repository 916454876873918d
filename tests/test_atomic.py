from __future__ import annotations

import numpy as np
import pytest

from xlr.atomic import atomic_save_npy, atomic_write, atomic_write_text


def test_writes_and_replaces(tmp_path):
    p = atomic_write_text(tmp_path / "sub" / "a.txt", "héllo")
    assert p.read_text(encoding="utf-8") == "héllo"
    atomic_write_text(p, "new")
    assert p.read_text() == "new"
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(np.load(atomic_save_npy(tmp_path / "x.npy", arr), allow_pickle=False), arr)


def test_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    p = atomic_write_text(tmp_path / "a.txt", "old")

    def boom(fh):
        fh.write(b"partial")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        atomic_write(p, boom)
    assert p.read_text() == "old"
    assert sorted(f.name for f in tmp_path.iterdir()) == ["a.txt"]
    with pytest.raises(ValueError):  # object arrays would need pickle: refused, nothing written
        atomic_save_npy(tmp_path / "o.npy", np.array([{}], dtype=object))
    assert not (tmp_path / "o.npy").exists() and sorted(f.name for f in tmp_path.iterdir()) == ["a.txt"]
