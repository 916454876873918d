"""Run the real dashboard (``streamlit run app.py``) on a free local port: for benchmarks and browser tests.

    with app_server(env, log) as url:
        ...  # drive ``url`` with Playwright

``env`` is the whole environment of the server process (add ``XLR_*`` settings to a copy of
``os.environ``); its output goes to ``log``. The server must answer ``/_stcore/health`` within
``timeout`` seconds, else :class:`AppDidNotStart` carries the end of the log. On exit the server
gets SIGTERM, then SIGKILL after 15 s.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["AppDidNotStart", "app_server", "free_port"]


class AppDidNotStart(RuntimeError):
    """The server exited or did not answer its health check in time (the message ends with its log)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def app_server(env: Mapping[str, str], log: Path, timeout: float = 90.0) -> Iterator[str]:
    port = free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AppDidNotStart(f"streamlit exited with {proc.returncode}:\n{_tail(log)}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AppDidNotStart(f"streamlit did not answer /_stcore/health in {timeout:.0f} s:\n{_tail(log)}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]
