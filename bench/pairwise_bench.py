"""All directions of a multi-way corpus from cached vectors: pair kernel vs per-direction kernel vs BLAS floor.

``python -m bench.pairwise_bench [--languages 128] [--n 1997] [--dim 384] [--pairs N] [--seed 0] [--json PATH]``

Synthetic unit vectors (NTREX-128 shape: 128 languages x 1997 aligned ids, d = 384) stand
in for cached ones.  For every timed language pair, side by side and in rotating order
(so machine load hits all three alike):

* **floor**: the score product(s) alone, in the kernels' chunks (``tiled_cosines`` of
  ``DEFAULT_CHUNK`` query rows): one product per pair;
* **pair**: :func:`xlr.retrieval.pairwise.pair_gold_ranks`, both directions from one product;
* **per-direction**: :func:`xlr.retrieval.ranks.gold_ranks` twice (``a->b`` and ``b->a``).

Ratios are pair / floor (goal <= 1.3) and per-direction / pair.  ``--pairs`` times a
random sample of the pairs (all by default); the full run's time is extrapolated from the
per-pair mean (stated).  Peak memory is the tracemalloc peak of one untimed pass over the
timed pairs with the vectors of every language and a rank array for every direction held
(numpy reports its buffers to tracemalloc): the working set of the all-directions run, which
does not grow with the number of pairs (one pair block, reused).
The ``a->b`` ranks of the pair kernel are checked equal to the per-direction kernel's, and
``b->a`` differences (near-ties within BLAS rounding) are counted.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from xlr.retrieval.pairwise import PairBuffer, pair_gold_ranks
from xlr.retrieval.ranks import DEFAULT_CHUNK, gold_ranks, tiled_cosines

__all__ = ["main", "run_pairwise"]


def _vectors(languages: int, n: int, dim: int, seed: int) -> np.ndarray:
    """``(languages, n, dim)`` float32 unit rows: a shared latent per id plus per-language noise."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, dim), dtype=np.float32)
    out = np.empty((languages, n, dim), dtype=np.float32)
    for lang in range(languages):
        x = z + 1.5 * rng.standard_normal((n, dim), dtype=np.float32)
        out[lang] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def _floor(a: np.ndarray, b: np.ndarray, buf: np.ndarray) -> None:
    for start in range(0, a.shape[0], DEFAULT_CHUNK):
        buf[start : start + DEFAULT_CHUNK] = tiled_cosines(a[start : start + DEFAULT_CHUNK], b)


def _peak(vecs: np.ndarray, pairs: list[tuple[int, int]]) -> tuple[float, int]:
    """Peak traced MiB of one pass over ``pairs``, every language's vectors and every direction's ranks held."""
    languages, n, _ = vecs.shape
    tracemalloc.start()
    held = vecs.copy()  # the cached vectors, traced
    ranks = np.empty((languages, languages, n), dtype=np.int64)  # every direction's ranks
    buffer = PairBuffer()
    for i, j in pairs:
        ranks[i, j], ranks[j, i] = pair_gold_ranks(held[i], held[j], buffer=buffer)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, languages * (languages - 1)


def run_pairwise(languages: int, n: int, dim: int, *, pairs: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Time the three paths side by side on ``pairs`` sampled language pairs (all: ``None``)."""
    vecs = _vectors(languages, n, dim, seed)
    every = [(i, j) for i in range(languages) for j in range(i + 1, languages)]
    rng = np.random.default_rng(seed)
    chosen = every if pairs is None or pairs >= len(every) else [every[k] for k in rng.choice(len(every), pairs, False)]
    gold = np.arange(n)
    buffer = PairBuffer()
    floor_buf = np.empty((n, n), dtype=np.float32)
    t = {"floor": 0.0, "pair": 0.0, "per_direction": 0.0}
    reverse_differ = 0
    for k, (i, j) in enumerate(chosen):
        a, b = vecs[i], vecs[j]
        order = ["floor", "pair", "per_direction"]
        order = order[k % 3 :] + order[: k % 3]
        for name in order:
            start = time.perf_counter()
            if name == "floor":
                _floor(a, b, floor_buf)
            elif name == "pair":
                ab, ba = pair_gold_ranks(a, b, buffer=buffer)
            else:
                ref_ab, ref_ba = gold_ranks(a, b, gold), gold_ranks(b, a, gold)
            t[name] += time.perf_counter() - start
        if not np.array_equal(ab, ref_ab):
            raise AssertionError(f"pair {i}-{j}: a->b ranks differ from the per-direction kernel")
        reverse_differ += int(np.count_nonzero(ba != ref_ba))
    peak_mib, n_dirs = _peak(vecs, chosen)
    scale = len(every) / len(chosen)
    return {
        "languages": languages,
        "ids": n,
        "dim": dim,
        "directions": n_dirs,
        "pairs_timed": len(chosen),
        "pairs_total": len(every),
        "seconds_timed": {k: round(v, 3) for k, v in t.items()},
        "seconds_all_directions_extrapolated": {k: round(v * scale, 1) for k, v in t.items()},
        "pair_over_floor": round(t["pair"] / t["floor"], 3),
        "per_direction_over_floor": round(t["per_direction"] / t["floor"], 3),
        "per_direction_over_pair": round(t["per_direction"] / t["pair"], 3),
        "reverse_queries_differing": reverse_differ,
        "reverse_queries_compared": len(chosen) * n,
        "peak_memory_mib": round(peak_mib, 2),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pairwise_bench", description=__doc__.split("\n")[0])
    p.add_argument("--languages", type=int, default=128)
    p.add_argument("--n", type=int, default=1997, help="aligned ids per language (NTREX: 1997)")
    p.add_argument("--dim", type=int, default=384)
    p.add_argument("--pairs", type=int, default=None, help="time a random sample of this many pairs (default all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    out = run_pairwise(args.languages, args.n, args.dim, pairs=args.pairs, seed=args.seed)
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
