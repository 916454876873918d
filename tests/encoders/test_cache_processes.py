"""Durable, shared encoding with real processes and a real encoder (slow tier).

* a worker killed with SIGKILL at about half of its encoding: the rerun encodes only the rest;
* 4 workers started together on an empty cache: each text is encoded once in total and all
  four get identical vectors;
* a read-only cache (a real read-only bind mount, in a user namespace): encoded in memory,
  said in one warning, nothing written;
* a fully cached eval does not import torch; a 20 MB document is cut, reported, and the
  eval stays under 2 GB of RSS.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xlr.data.tatoeba import load_tatoeba

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "bench" / "cache_worker.py"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["XLR_THREADS"] = "1"  # two of these may run on a busy 2-core machine
    return env


def _texts(shared_data: Path, n: int) -> list[str]:
    corpus = load_tatoeba(shared_data / "tatoeba")
    langs = corpus.languages
    per = {lang: corpus.texts(corpus.positions(lang)) for lang in langs}
    return [per[langs[i % len(langs)]][i // len(langs)] for i in range(n)]


def _worker(tmp: Path, cache: Path, texts_path: Path, tag: str, name: str, batch: int) -> subprocess.Popen:
    cmd = [sys.executable, str(WORKER), str(cache), str(texts_path), str(tmp / f"{tag}.npy"), name, str(batch)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=ROOT)


def _finish(proc: subprocess.Popen) -> dict:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-2000:]
    return json.loads(out.strip().splitlines()[-1])


def test_kill_9_at_half_then_the_rerun_encodes_only_the_rest(tmp_path, shared_data):
    texts = _texts(shared_data, 400)
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(texts), encoding="utf-8")
    cache, batch = tmp_path / "cache", 16
    proc = _worker(tmp_path, cache, path, "killed", "e5-small", batch)
    done = 0
    for line in proc.stdout:
        if line.startswith("progress"):
            done = int(line.split()[1])
            if done >= len(texts) // 2:
                proc.send_signal(signal.SIGKILL)
                break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL and len(texts) // 2 <= done < len(texts)

    stats = _finish(_worker(tmp_path, cache, path, "rerun", "e5-small", batch))
    remaining = len(texts) - done
    assert 0 < stats["encoded"] <= remaining + batch, stats  # committed batches survived the kill
    assert stats["encoded"] + stats["cached"] == len(set(texts))
    from xlr.encoders.registry import load_encoder

    fresh = load_encoder("e5-small").encode(texts, batch_size=batch)
    np.testing.assert_allclose(np.load(tmp_path / "rerun.npy"), fresh, atol=1e-5)


def test_four_concurrent_runs_encode_each_text_once(tmp_path, shared_data):
    texts = _texts(shared_data, 240)
    cache = tmp_path / "cache"
    procs = []
    for i in range(4):
        mine = texts[:]
        random.Random(i).shuffle(mine)  # same texts, different order
        path = tmp_path / f"texts{i}.json"
        path.write_text(json.dumps(mine), encoding="utf-8")
        procs.append((mine, _worker(tmp_path, cache, path, f"run{i}", "use-m3", 16)))
    results = [(mine, _finish(p), np.load(tmp_path / f"run{i}.npy")) for i, (mine, p) in enumerate(procs)]
    assert sum(r["encoded"] for _, r, _ in results) == len(set(texts)), [r for _, r, _ in results]
    by_text = [dict(zip(mine, vecs)) for mine, _, vecs in results]
    for other in by_text[1:]:
        for t in texts:
            np.testing.assert_array_equal(other[t], by_text[0][t])


def _can_mount_read_only() -> bool:
    try:
        return subprocess.run(["unshare", "-rm", "true"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def test_a_read_only_cache_is_detected_before_encoding(tmp_path, shared_data):
    if not _can_mount_read_only():
        pytest.skip("needs unshare -rm (user namespaces) to mount a folder read-only")
    texts = _texts(shared_data, 40)
    cache = tmp_path / "cache"
    first = tmp_path / "first.json"
    first.write_text(json.dumps(texts[:20]), encoding="utf-8")
    _finish(_worker(tmp_path, cache, first, "first", "use-m3", 16))
    before = sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))
    allt = tmp_path / "all.json"
    allt.write_text(json.dumps(texts), encoding="utf-8")
    inner = (
        f"mount --bind {cache} {cache} && mount -o remount,bind,ro {cache} && "
        f"exec {sys.executable} {WORKER} {cache} {allt} {tmp_path / 'ro.npy'} use-m3 16"
    )
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", inner], capture_output=True, text=True, env=_env(), cwd=ROOT, timeout=900
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (stats["encoded"], stats["cached"], stats["written"]) == (20, 20, False)
    (warning,) = stats["warnings"]
    assert "read-only" in warning and str(cache) in warning and "not written" in warning
    assert sorted(str(p.relative_to(cache)) for p in cache.rglob("*")) == before
    from xlr.encoders.registry import load_encoder

    np.testing.assert_allclose(np.load(tmp_path / "ro.npy"), load_encoder("use-m3").encode(texts), atol=1e-5)


def _eval(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    code = (
        "import sys, json; from xlr.cli.main import main; rc = main(sys.argv[1:]); "
        "print(json.dumps({'rc': rc, 'torch': 'torch' in sys.modules, 'scipy': 'scipy' in sys.modules}))"
    )
    env = _env() | {"XLR_CACHE_DIR": str(cache)}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=900
    )


def test_a_fully_cached_eval_does_not_import_torch(tmp_path):
    data = ROOT / "tests" / "fixtures" / "tiny.jsonl"
    args = ["eval", "--dataset", str(data), "--model", "minilm-en", "--no-progress", "--json", str(tmp_path / "r.json")]
    cold = _eval(args, tmp_path / "cache")
    first = json.loads(cold.stdout.strip().splitlines()[-1])
    assert first["rc"] == 0 and first["torch"], cold.stderr  # the cold run loads the model (and torch)
    warm = _eval(args, tmp_path / "cache")
    assert json.loads(warm.stdout.strip().splitlines()[-1]) == {"rc": 0, "torch": False, "scipy": False}, warm.stderr
    (enc,) = json.loads((tmp_path / "r.json").read_text())["manifest"]["encoders"]
    assert enc["encoded"] == 0 and enc["model_loaded"] is False and enc["precision"] == "fp32"


def test_a_20_mb_document_is_cut_reported_and_bounded(tmp_path):
    rows = [
        {"id": "a", "lang": "en", "title": "", "url": "", "text": "The cat sleeps on the sofa."},
        {"id": "a", "lang": "de", "title": "", "url": "", "text": "Die Katze schläft auf dem Sofa."},
        {"id": "b", "lang": "en", "title": "", "url": "", "text": "Rain is expected tomorrow. " * 780_000},
        {"id": "b", "lang": "de", "title": "", "url": "", "text": "Morgen wird Regen erwartet."},
    ]
    assert len(rows[2]["text"].encode()) > 20_000_000
    data = tmp_path / "huge.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "r.json"
    # The peak is the xlr process's own VmHWM, read by the process itself at the end: wait4's
    # ru_maxrss would also count the forking test process (Linux keeps the pre-exec high-water mark).
    report_peak = (
        "import sys; from xlr.cli.main import main; rc = main(sys.argv[1:]); "
        "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM:')][0].split()[1]; "
        "print(f'peak-kb {hwm}', file=sys.stderr); sys.exit(rc)"
    )
    args = ["eval", "--dataset", str(data), "--model", "use-m3", "--no-progress", "--json", str(out)]
    env = _env() | {"XLR_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-c", report_peak, *args], capture_output=True, text=True, env=env, cwd=ROOT)
    err = proc.stderr
    assert proc.returncode == 0, err[-2000:]
    peak_mb = int(err.strip().splitlines()[-1].split()[1]) / 1024
    assert peak_mb < 2048, f"peak RSS {peak_mb:.0f} MB"
    (enc,) = json.loads(out.read_text())["manifest"]["encoders"]
    assert enc["truncated"] == 1 and enc["encoded"] == 4
    assert "1 cut to the input limit" in err
