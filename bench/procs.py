"""What this machine's processes hold, read from ``/proc`` (Linux): peak memory and Ray process ids."""

from __future__ import annotations

import resource
from pathlib import Path

__all__ = ["peak_rss", "ray_pids", "vm_hwm"]


def vm_hwm(pid: int | str = "self") -> int | None:
    """Peak resident set size (``VmHWM``) of process ``pid`` in bytes; ``None`` if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes.

    ``VmHWM`` where available: ``ru_maxrss`` survives ``exec`` on Linux, so a worker started
    by a large parent would report the parent's peak.
    """
    peak = vm_hwm()
    return peak if peak is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB


def ray_pids(containing: bytes = b"") -> list[int]:
    """Processes whose title Ray set (``ray::...``), optionally with ``containing`` in the command line."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmd = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if cmd.startswith(b"ray::") and containing in cmd:
                out.append(int(entry.name))
    return out
