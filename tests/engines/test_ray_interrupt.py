"""Ctrl-C under ``eval --engine ray`` cancels the run and writes nothing (issue 17; slow: a real local Ray in a
real subprocess, a real SIGINT sent to its process group as a terminal's Ctrl-C is)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _corpus(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            for lang in ("en", "de"):
                words = " ".join(f"w{(i * 7 + j) % 97}" for j in range(40))
                fh.write(json.dumps({"id": str(i), "lang": lang, "text": f"{lang} {i} {words}"}) + "\n")
    return path


@pytest.mark.slow
def test_ctrl_c_during_ray_encoding_cancels_and_writes_nothing(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    corpus = _corpus(tmp_path / "c.jsonl", 1500)
    out, err_path = tmp_path / "out.json", tmp_path / "err.txt"
    with open(err_path, "w", encoding="utf-8") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "xlr", "eval", "--engine", "ray", "--dataset", str(corpus), "--model", "e5-small"]
            + ["--cache-dir", str(tmp_path / "cache"), "--json", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            start_new_session=True,  # its own process group: the signal reaches it and Ray's children, as Ctrl-C does
        )
    try:
        for _ in range(600):  # until the actors encode (the progress bar appears), at most about 5 minutes
            if "encoding" in err_path.read_text(encoding="utf-8") or proc.poll() is not None:
                break
            time.sleep(0.5)
        assert proc.poll() is None, err_path.read_text(encoding="utf-8")
        os.killpg(proc.pid, signal.SIGINT)
        rc = proc.wait(timeout=120)  # a hang guard, not a timing assertion
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = err_path.read_text(encoding="utf-8")
    assert rc == 130 and "xlr: interrupted" in err, err[-2000:]
    assert not out.exists() and not list(tmp_path.glob(".out.json.*"))


def test_ctrl_c_while_ray_starts_shuts_the_half_started_ray_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C inside ``ray.init`` used to leave Ray half started; the process then crashed at exit
    (status -11 instead of 130).  The session shuts Ray down whatever stops its start."""
    from xlr.engines import ray_engine

    calls: list[str] = []

    class FakeRay:
        def is_initialized(self) -> bool:
            return False

        def init(self, **kwargs: object) -> None:
            calls.append("init")
            raise KeyboardInterrupt

        def shutdown(self) -> None:
            calls.append("shutdown")

    monkeypatch.setattr(ray_engine, "require_ray", FakeRay)
    with pytest.raises(KeyboardInterrupt):
        with ray_engine.ray_session(ray_engine.RaySpec()):
            pass
    assert calls == ["init", "shutdown"]
