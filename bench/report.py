"""results.json and the markdown table (results.md) that goes into the README."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .machine import machine_line

__all__ = ["RATIO_NOTE", "markdown", "write_results"]

RATIO_NOTE = (
    "ratio = value / baseline value, both measured in the same process run (medians of repeated runs "
    "where stated): below 1, xlr (or the prototype) needs that fraction of the baseline's time or memory"
)


def _fmt(value: float, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "s" and value < 1:
        return f"{value * 1e3:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    return f"{value:.3g} {unit}"


def _ratio(r: float, unit: str) -> str:
    if r is None or math.isnan(r):
        return "n/a"
    if r < 1:
        word = "less memory" if unit == "GiB" else "faster"
        return f"{r:.3g} ({1 / r:.1f}x {word})"
    return f"{r:.3g} ({(r - 1) * 100:+.0f}%)"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(sections: dict[str, Any]) -> list[str]:
    lines = [
        "| # | measure | value | baseline (same run) | baseline value | ratio | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for sec in sections.values():
        num = sec.get("title", "").split(" ", 1)[0].rstrip(".")
        for f in sec.get("figures", []):
            note = f" ({f['note']})" if f.get("note") else ""
            lines.append(
                f"| {num} | {_cell(f['name'] + note)} | {_fmt(f['value'], f['unit'])} | {_cell(f['baseline'])} | "
                f"{_fmt(f['baseline_value'], f['unit'])} | {_ratio(f['ratio'], f['unit'])} | {_cell(f.get('target', ''))} |"
            )
    return lines


def _details(sections: dict[str, Any]) -> list[str]:
    out = []
    for name, sec in sections.items():
        load = f" Load average after: {sec['load_average_after']}." if sec.get("load_average_after") else ""
        out.append(f"**{sec.get('title', name)}.** {sec.get('setup', '')}.{load}")
        if "error" in sec:
            out.append(f"- ERROR: {sec['error']}")
        for key in ("agreement", "extra"):
            if sec.get(key):
                items = "; ".join(f"{k}: {_short(v)}" for k, v in sec[key].items())
                out.append(f"- {key}: {items}")
        if sec.get("metrics_mean"):
            out.append("- mean over directions: " + ", ".join(f"{k} {v:.4f}" for k, v in sec["metrics_mean"].items()))
        for enc, info in (sec.get("info") or {}).items():
            out.append(f"- {enc}: " + "; ".join(f"{k}: {_short(v)}" for k, v in info.items()))
        for mode, run in (sec.get("runs") or {}).items():
            out.append(
                f"- {mode}: "
                + "; ".join(
                    f"{k}: {_short(v)}"
                    for k, v in run.items()
                    if k not in ("mode", "peak_rss_bytes", "rss_after_imports_bytes")
                )
            )
        out.append("")
    return out


def _short(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {_short(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(_short(x) for x in v) + "]"
    return str(v)


def markdown(results: dict[str, Any]) -> str:
    """The README table: machine line, one row per figure, then per-benchmark setup and checks."""
    kind = "smoke run (tiny sizes: timings mean nothing)" if results["smoke"] else "full run"
    head = [
        "## Benchmarks",
        "",
        f"`python -m bench{' --smoke' if results['smoke'] else ''}`, {kind}, {results['created']}, "
        f"{results['total_s']:.0f} s in all.",
        "",
        f"Machine: {machine_line(results['machine'])}.",
        "",
        f"{RATIO_NOTE}.",
        "",
    ]
    return "\n".join(head + _table(results["benchmarks"]) + [""] + _details(results["benchmarks"]))


def write_results(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    """Write ``results.json`` and ``results.md`` into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / "results.json", out_dir / "results.md"
    js.write_text(json.dumps(results, indent=1, default=_json_default) + "\n", encoding="utf-8")
    md.write_text(markdown(results), encoding="utf-8")
    return js, md


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (np.bool_,)):
        return bool(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
