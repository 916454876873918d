"""``python -m bench [--smoke] [--only metrics,scale] [--out DIR] [--cache-dir DIR] [--work-dir DIR]``."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from . import BENCHMARKS, DEFAULT_OUT, Config, failures, run


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--smoke", action="store_true", help="every benchmark at tiny sizes, in seconds")
    p.add_argument(
        "--only",
        default=",".join(BENCHMARKS),
        help=f"comma-separated benchmarks to run (default all: {','.join(BENCHMARKS)})",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for results.json and results.md (default {DEFAULT_OUT}; smoke: a temp folder)",
    )
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="embedding cache for the real-data benchmarks (default: $XLR_CACHE_DIR or xlr's cache)",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="scratch folder for the scale data (default: the system temp folder)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = [s for s in only if s not in BENCHMARKS]
    if unknown:
        print(
            f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}",
            file=sys.stderr,
        )
        return 2
    cfg = Config.smoke_config() if args.smoke else Config()
    cfg = replace(cfg, only=only, work_dir=args.work_dir)
    if args.cache_dir is not None:
        cfg = replace(cfg, cache_dir=args.cache_dir)
    out = args.out
    if out is None and args.smoke:
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="xlr-bench-smoke-"))
    results = run(cfg, out)
    where = out or DEFAULT_OUT
    print(f"[bench] wrote {where / 'results.json'} and {where / 'results.md'}")
    bad = failures(results)
    for name, err in bad.items():
        print(f"[bench] {name} FAILED: {err}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
