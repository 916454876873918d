"""The Strategies page's encoding estimate against the measured time, on Tatoeba (issue 19).

    XLR_DATA_DIR=../shared/data python -m bench.strategies_estimate            # ara-eng + cmn-eng, first 200
    XLR_DATA_DIR=../shared/data python -m bench.strategies_estimate --pairs ara-eng --first 100

Runs the real pages (Streamlit AppTest, the real e5-small, the dashboard's own background jobs and
their encoding child processes) on a folder of the chosen Tatoeba pairs (symbolic links to
``$XLR_DATA_DIR/tatoeba``), with an empty embedding cache in a temporary folder:

1. **Seed** as a new user does: the first visit of the Overview (its defaults: first 50 ids, to-en).
   Its job is the first encoding the server measures; before it, every estimate is "unknown".
2. For each choice of strategies, on a copy of that seeded cache: open the Strategies page, set
   *Evaluate the first N linked ids* and the strategies, read the page's cost caption (what
   :func:`xlr.dashboard.costs.strategy_cost` writes; the seconds behind it are taken from the
   :class:`~xlr.dashboard.rates.Estimate` it formats, recorded by a spy that calls the real
   method), press *Run the strategies* and time until the table shows (re-running the page every
   0.5 s as the browser's progress fragment does).

Reported per choice: the estimate, the measured seconds from *Run* to the table (what the user waits
for: encoding plus the strategies' own work), the encoding seconds the jobs recorded in the rate book,
their ratio and whether the estimate is within 2x. Results: ``bench/results.strategies.json`` and
``.md`` with the machine line and the load average before and after each choice.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHOICES = {
    "csls only": ["csls(k=10)"],
    "centering + procrustes": ["center", "procrustes"],
    "all": None,  # every strategy the page offers (its default)
}


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _data_folder(pairs: list[str], into: Path) -> Path:
    """A Tatoeba folder holding only ``pairs`` (links to ``$XLR_DATA_DIR/tatoeba``)."""
    src = (Path(os.environ.get("XLR_DATA_DIR", ROOT.parent / "shared" / "data")) / "tatoeba").resolve()
    folder = into / ("tatoeba-" + "+".join(pairs))
    folder.mkdir()
    for pair in pairs:
        for lang in pair.split("-"):
            name = f"tatoeba.{pair}.{lang}"
            if not (src / name).is_file():
                raise SystemExit(f"{src / name}: not found (set XLR_DATA_DIR to the folder holding tatoeba/)")
            (folder / name).symlink_to(src / name)
    return folder


def _rate_book(cache: Path) -> dict[str, Any]:
    try:
        return json.loads((cache / "rates.json").read_text(encoding="utf-8"))
    except OSError:
        return {}


def _encoded(before: dict[str, Any], after: dict[str, Any]) -> tuple[int, float]:
    """Texts and seconds (process start-ups included) the jobs added to the rate book from ``before``."""
    from xlr.dashboard.rates import STARTUP

    texts, secs = 0.0, 0.0
    for enc, per in after.items():
        for b, (n, s) in per.items():
            n0, s0 = before.get(enc, {}).get(b, [0.0, 0.0])
            texts, secs = texts + (n - n0 if b != STARTUP else 0), secs + s - s0
    return int(texts), secs


def _fresh_app(cache: Path):
    """The app's first page on the cache folder ``cache`` (every process-wide resource built anew)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    os.environ["XLR_CACHE_DIR"] = str(cache)
    st.cache_data.clear()
    st.cache_resource.clear()  # the job board and its rate book are made again, on this cache
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)


def _until(at: Any, done: Any, limit: float) -> float:
    """Re-run the page every 0.5 s until ``done(at)``; the seconds it took."""
    start = time.perf_counter()
    at.run()
    while not done(at) and not at.exception:
        if time.perf_counter() - start > limit:
            shown = [e.value for e in (*at.error, *at.warning, *at.info)]
            raise SystemExit(f"not done after {limit:.0f} s; the page says: {shown}")
        time.sleep(0.5)
        at.run()
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    return time.perf_counter() - start


def _seed(cache: Path) -> dict[str, Any]:
    at = _fresh_app(cache)
    load = _load()
    seconds = _until(at, lambda a: bool(a.table), 900)
    return {"seconds": round(seconds, 2), "load_before": load, "rate_book": _rate_book(cache)}


def _choice(name: str, picks: list[str] | None, seeded: Path, cache: Path, first: int, spy: list) -> dict[str, Any]:
    import streamlit as st

    shutil.copytree(seeded, cache)
    at = _fresh_app(cache)
    _until(at, lambda a: bool(a.table), 600)  # the Overview, from the seeded cache
    at.switch_page("pages/6_Strategies.py").run()
    at.number_input(key="strat.first").set_value(first).run()
    pick = at.multiselect(key="strat.pick")
    chosen = list(pick.options) if picks is None else picks
    missing = [p for p in chosen if p not in pick.options]
    if missing:
        raise SystemExit(f"the page offers no {missing}; it offers {pick.options}")
    st.cache_data.clear()  # the estimate is computed afresh for this choice (the spy sees it)
    spy.clear()
    pick.set_value(chosen).run()
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].value}")
    caption = next(c.value for c in at.caption if "Encoding cost" in c.value)
    estimates = list(spy)
    if not estimates:
        raise SystemExit("the page's estimate was not computed (a cached figure?)")
    seconds = [e.seconds for e in estimates]
    estimate = None if any(s is None for s in seconds) else sum(s for s in seconds if s is not None)
    book, load = _rate_book(cache), _load()
    at.button(key="strat.run").click()
    measured = _until(at, lambda a: bool(a.dataframe), 1800)
    texts, enc_seconds = _encoded(book, _rate_book(cache))
    ratio = estimate / measured if estimate is not None and measured > 0 else None
    return {
        "choice": name,
        "strategies": chosen,
        "caption": caption,
        "estimate_texts": sum(e.texts for e in estimates),
        "estimate_s": None if estimate is None else round(estimate, 2),
        "measured_s": round(measured, 2),
        "encoded_texts": texts,
        "encoding_s": round(enc_seconds, 2),
        "ratio": None if ratio is None else round(ratio, 3),
        "within_2x": ratio is not None and 0.5 <= ratio <= 2.0,
        "load_before": load,
        "load_after": _load(),
    }


def _markdown(res: dict[str, Any]) -> str:
    lines = [
        "# The Strategies page's estimate against the measured time (issue 19)",
        "",
        f"`{res['command']}`, {res['created']}, data {res['data']} ({res['documents']} documents), encoder "
        f"{res['model']}, *Evaluate the first N* = {res['first']}, empty embedding cache seeded by the "
        f"Overview's first visit ({res['seed']['seconds']:.1f} s; the estimate is unknown before it).",
        "",
        f"Machine: {res['machine']}.",
        "",
        "| strategies | texts to encode (page) | page says | estimate | measured: Run to table | encoding (jobs) |"
        " estimate / measured | within 2x | load before, after |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["choices"]:
        said = re.sub(r"\\(.)", r"\1", r["caption"]).split(": ", 1)[1].split(" (of")[0]  # no Markdown escapes
        est = "unknown" if r["estimate_s"] is None else f"{r['estimate_s']:.1f} s"
        ratio = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['choice']} | {r['estimate_texts']} | {said} | {est} | {r['measured_s']:.1f} s | "
            f"{r['encoded_texts']} texts, {r['encoding_s']:.1f} s | {ratio} | {'yes' if r['within_2x'] else 'NO'} | "
            f"{r['load_before'][0]}, {r['load_after'][0]} |"
        )
    lines += ["", "Rate book after seeding (texts, seconds per length bucket):", ""]
    lines.append("```json\n" + json.dumps(res["seed"]["rate_book"], indent=1) + "\n```")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--pairs", default="ara-eng,cmn-eng", help="Tatoeba pairs to use (comma-separated)")
    p.add_argument("--first", type=int, default=200, help="the page's *Evaluate the first N linked ids*")
    p.add_argument("--model", default="e5-small")
    p.add_argument("--only", default=",".join(CHOICES), help="choices to run: " + ", ".join(CHOICES))
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results.strategies.json")
    args = p.parse_args(argv)

    from xlr.dashboard import rates

    from .machine import machine_info, machine_line

    spy: list[rates.Estimate] = []
    real = rates.RateBook.estimate

    def estimate(self: rates.RateBook, *args: Any, **kwargs: Any) -> rates.Estimate:
        out = real(self, *args, **kwargs)
        spy.append(out)
        return out

    rates.RateBook.estimate = estimate  # type: ignore[method-assign]  # a spy: the real method answers
    for var in ("XLR_DEFAULT_FIRST", "XLR_DEFAULT_KS", "XLR_DEFAULT_DIRECTIONS", "XLR_DEVICE", "XLR_PRECISION"):
        os.environ.pop(var, None)
    os.environ["XLR_DEFAULT_MODELS"] = args.model
    res: dict[str, Any] = {
        "command": " ".join(["python -m bench.strategies_estimate", *(argv if argv is not None else sys.argv[1:])]),
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_line(machine_info()),
        "model": args.model,
        "first": args.first,
        "choices": [],
    }
    with tempfile.TemporaryDirectory(prefix="xlr-strat-bench-") as tmp:
        folder = _data_folder(args.pairs.split(","), Path(tmp))
        os.environ["XLR_DEFAULT_DATASET"] = str(folder)
        from xlr.data.registry import resolve_dataset

        res["data"] = f"Tatoeba {args.pairs}"
        res["documents"] = len(resolve_dataset(str(folder)).corpus.documents)
        seeded = Path(tmp) / "seed"
        res["seed"] = _seed(seeded)
        print(f"seeded in {res['seed']['seconds']} s: {res['seed']['rate_book']}", flush=True)
        for i, name in enumerate(n.strip() for n in args.only.split(",")):
            row = _choice(name, CHOICES[name], seeded, Path(tmp) / f"run{i}", args.first, spy)
            print(json.dumps(row), flush=True)
            res["choices"].append(row)
    args.out.write_text(json.dumps(res, indent=1) + "\n", encoding="utf-8")
    args.out.with_suffix(".md").write_text(_markdown(res), encoding="utf-8")
    print(_markdown(res))
    return 0 if all(r["within_2x"] for r in res["choices"]) else 1


if __name__ == "__main__":
    sys.exit(main())
