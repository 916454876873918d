"""Smoke run of ``bench.pairwise_bench`` at a tiny size: it runs, the pair kernel's a->b ranks equal the
per-direction kernel's (checked inside), the figures are there. No timed assertion."""

from __future__ import annotations

import json

from bench.pairwise_bench import main, run_pairwise


def test_tiny_run_has_every_figure(tmp_path, capsys):
    out = run_pairwise(5, 40, 16, pairs=4, seed=1)
    assert (out["directions"], out["pairs_timed"], out["pairs_total"]) == (20, 4, 10)
    assert set(out["seconds_timed"]) == {"floor", "pair", "per_direction"}
    assert out["reverse_queries_compared"] == 4 * 40 and out["peak_memory_mib"] > 0
    assert main(["--languages", "3", "--n", "20", "--dim", "8", "--json", str(tmp_path / "p.json")]) == 0
    assert json.loads((tmp_path / "p.json").read_text())["directions"] == 6
    assert '"pair_over_floor"' in capsys.readouterr().out
