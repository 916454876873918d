"""A second dashboard session while a long encoding runs: seconds until its first table.

    XLR_DATA_DIR=../shared/data python -m bench.second_session

Starts the real app (``streamlit run app.py``, Tatoeba, first 30 ids, e5-small and use-m3)
twice, each on an empty embedding cache, and drives it with Debian's Chromium through
Playwright:

- ``alone``: a session opens the Overview; seconds until its table shows.
- ``busy``: first a session opens the whole of Tatoeba with e5-small (9164 texts, minutes
  of encoding) and waits for its Cancel button; then a second session opens the Overview
  as above.

Prints both figures and their ratio, with the CPU count and load, so they can be judged side
by side (one run, same machine).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.app_server import app_server

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@contextmanager
def _server() -> Iterator[str]:
    cache = tempfile.mkdtemp(prefix="xlr-bench-cache-")
    env = dict(
        os.environ,
        XLR_CACHE_DIR=cache,
        XLR_DEFAULT_DATASET="tatoeba",
        XLR_DEFAULT_MODELS="e5-small,use-m3",
        XLR_DEFAULT_FIRST="30",
        HF_HUB_OFFLINE="1",
    )
    try:
        with app_server(env, Path(cache) / "streamlit.log") as url:
            yield url
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def _first_table(browser, url: str) -> float:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    start = time.monotonic()
    page.goto(url)
    page.wait_for_selector('[data-testid="stTable"]', timeout=600_000)
    seconds = time.monotonic() - start
    page.close()
    return seconds


def measure(busy: bool) -> float:
    from playwright.sync_api import sync_playwright

    with _server() as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            if busy:
                first = browser.new_page(viewport={"width": 1280, "height": 900})
                first.goto(f"{url}/?dataset=tatoeba&first=all&models=e5-small")
                first.get_by_role("button", name="Cancel").wait_for(timeout=240_000)
            return _first_table(browser, url)
        finally:
            browser.close()


def main() -> int:
    load = os.getloadavg()
    alone = measure(busy=False)
    busy = measure(busy=True)
    print(f"cpus={os.cpu_count()} load(1,5,15)={load[0]:.1f},{load[1]:.1f},{load[2]:.1f}")
    print(f"second session, first table: alone {alone:.1f} s; beside a full-Tatoeba encoding {busy:.1f} s")
    print(f"ratio busy/alone: {busy / alone:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
