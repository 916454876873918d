"""xlr benchmarks: speed, memory and scale, side by side with what users would pick instead.

``python -m bench`` runs everything and writes ``bench/results.json`` and
``bench/results.md``; ``python -m bench --smoke`` runs the same code at tiny
sizes in seconds.  In Python::

    from bench import Config, run
    results = run(Config.smoke_config(), out_dir=tmp_path)

Every figure holds its value, the baseline measured in the same run, and
``ratio = value / baseline_value``.  Where methods compute the same numbers
(metrics, exact top-k) the run checks that they agree and fails otherwise.
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .config import BENCHMARKS, Config
from .machine import machine_info
from .report import RATIO_NOTE, write_results

__all__ = ["BENCHMARKS", "Config", "run"]

DEFAULT_OUT = Path(__file__).resolve().parent


def _run_section(name: str, cfg: Config, folder: Path, log: Callable[[str], None]) -> dict[str, Any]:
    from .suite import SECTIONS

    log(f"[bench] {name} ...")
    t0 = time.perf_counter()
    try:
        out = SECTIONS[name](cfg, folder)
    except Exception as exc:  # recorded, and the run reports failure at the end
        out = {
            "title": name,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    out["seconds"] = time.perf_counter() - t0
    out["load_average_after"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    log(f"[bench] {name} done in {out['seconds']:.1f} s" + (f" -- ERROR {out['error']}" if "error" in out else ""))
    return out


def run(
    cfg: Config | None = None,
    out_dir: Path | None = None,
    *,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the benchmarks named in ``cfg.only``; write results.json and results.md into ``out_dir``.

    Sections that fail (a disagreement between methods included) hold an
    ``error`` entry; :func:`failures` lists them.
    """
    cfg = cfg or Config()
    out_dir = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    start = time.perf_counter()
    results: dict[str, Any] = {
        "schema": 1,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "smoke": cfg.smoke,
        "ratio_definition": RATIO_NOTE,
        "machine": machine_info(),
        "config": cfg.describe(),
        "benchmarks": {},
    }
    with tempfile.TemporaryDirectory(prefix="xlr-bench-", dir=cfg.work_dir) as tmp:
        for name in cfg.only:
            results["benchmarks"][name] = _run_section(name, cfg, Path(tmp), log)
    results["total_s"] = time.perf_counter() - start
    write_results(results, out_dir)
    return results


def failures(results: dict[str, Any]) -> dict[str, str]:
    """``{section: error}`` for every section that did not complete."""
    return {k: v["error"] for k, v in results["benchmarks"].items() if "error" in v}
