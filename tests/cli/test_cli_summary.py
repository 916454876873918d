"""``xlr eval --summary`` and ``--pairwise`` (fast tier: lookup encoders, a synthetic corpus)."""

from __future__ import annotations

import pandas as pd
import pytest
from strategy_fakes import install_synthetic

from xlr.cli.main import main


@pytest.fixture()
def fake_data(tmp_path, monkeypatch):
    return install_synthetic(tmp_path, monkeypatch, 60), tmp_path


def run(path, tmp, *extra):
    base = ["eval", "--dataset", str(path), "--model", "fake0", "--model", "fake1", "--all-directions"]
    return main([*base, "--no-progress", "--cache-dir", str(tmp / "c"), *extra])


def test_summary_prints_marginals_and_worst_directions_not_every_row(fake_data, capsys):
    path, tmp = fake_data
    assert run(path, tmp, "--summary", "--worst", "2", "--csv", str(tmp / "all.csv")) == 0
    out = capsys.readouterr().out
    assert "fake0: recall@1 per language (mean over directions, 95 % interval)" in out
    assert "fake1: the 2 worst directions by recall@1" in out
    lines = out.splitlines()
    start = lines.index("fake0: recall@1 per language (mean over directions, 95 % interval)")
    header = lines[start + 1].split()
    assert header[:2] == ["language", "as"]
    assert [ln.split()[0] for ln in lines[start + 2 : start + 5]] == ["de", "en", "zh"]
    assert sum("->" in ln for ln in lines) == 4  # 2 worst directions x 2 models, no per-direction table
    full = pd.read_csv(tmp / "all.csv")
    assert len(full) == 2 * 6 * 4  # the full table still goes to --csv: 2 models x 6 directions x 4 metrics
    worst = full[(full["model"] == "fake0") & (full["metric"] == "recall@1")].nsmallest(1, "value")
    assert f"{worst['source'].item()}->{worst['target'].item()}" in out


def test_pairwise_gives_the_same_table(fake_data, capsys):
    path, tmp = fake_data
    assert run(path, tmp, "--csv", str(tmp / "a.csv")) == 0
    assert run(path, tmp, "--pairwise", "--csv", str(tmp / "b.csv")) == 0
    pd.testing.assert_frame_equal(pd.read_csv(tmp / "a.csv"), pd.read_csv(tmp / "b.csv"))
    assert run(path, tmp, "--worst", "0") == 2
    assert "--worst must be a positive number" in capsys.readouterr().err
