from __future__ import annotations

import json

import pytest
from strategy_fakes import HashEncoder, install_synthetic

from xlr.cli.main import main
from xlr.encoders.catalogue import CATALOGUE, EncoderCard
from xlr.report.results import read_results


@pytest.fixture()
def fake_data(tmp_path, monkeypatch):
    """A JSONL corpus (de, en, zh; zh rotated; titles) and two lookup encoders registered as fake0/fake1."""
    path = install_synthetic(tmp_path, monkeypatch, 120)
    monkeypatch.setitem(
        CATALOGUE,
        "hash",
        EncoderCard("hash", "hash", lambda _c: HashEncoder(), needs="bundled"),
    )
    return path, tmp_path


def test_strategies_prints_one_table_and_writes_json_and_markdown(fake_data, capsys):
    path, tmp = fake_data
    rc = main(
        [
            "strategies",
            "--dataset",
            str(path),
            "--model",
            "fake0",
            "--model",
            "fake1",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
            "--resamples",
            "500",
            "--json",
            str(tmp / "s.json"),
            "--markdown",
            str(tmp / "s.md"),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "split: evaluated: the first 60 linked ids of each direction (de->en 60/120, zh->en 60/120)" in out
    for name in (
        "csls(k=10)",
        "margin-ratio(k=10)",
        "center",
        "procrustes",
        "title+text",
        "fake1",
        "rrf(k=60)",
        "zscore",
        "verdict",
    ):
        assert name in out
    assert "procrustes [recall@1]: YES" in out
    assert "fake0: " in err and "texts encoded" in err
    data = read_results(tmp / "s.json")
    assert "fake0|fake1+rrf(k=60)" in data["per_query"]
    import xlr

    whole = xlr.read_results(tmp / "s.json")  # the strategies file is an EvalResults file too
    assert "fake0+procrustes" in whole.models and whole.manifest["split"]["first"] == 60
    assert (tmp / "s.md").read_text().count("| verdict |") == 0  # verdict cells are bold
    assert "**verdict**" in (tmp / "s.md").read_text()

    # compare any two models of that file
    rc = main(
        [
            "compare",
            "--baseline",
            str(tmp / "s.json"),
            "--candidate",
            str(tmp / "s.json"),
            "--baseline-model",
            "fake0",
            "--candidate-model",
            "fake0+procrustes",
            "--resamples",
            "500",
            "--json",
            str(tmp / "c.json"),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "verdict (recall@1): YES" in out and "zh->en" in out
    saved = json.loads((tmp / "c.json").read_text())
    assert saved["verdicts"]["recall@1"]["improves"] == ["zh->en"]


def test_strategies_subset_split_and_errors(fake_data, capsys):
    path, tmp = fake_data
    ids = tmp / "ids.txt"
    ids.write_text("\n".join(f"id{i:04d}" for i in range(0, 120, 2)) + "\n")
    rc = main(
        [
            "strategies",
            "--dataset",
            str(path),
            "--model",
            "fake0",
            "--strategies",
            "csls,center+procrustes",
            "--eval-ids",
            str(ids),
            "--directions",
            "zh-en",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
            "--resamples",
            "200",
            "--metric",
            "recall@5",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "the linked ids among 60 given ids (zh->en 60/120)" in out and "Δ R@5" in out and "Δ MRR" not in out
    rc = main(
        [
            "strategies",
            "--dataset",
            str(path),
            "--model",
            "fake0",
            "--strategies",
            "center",
            "--eval-all",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
        ]
    )
    assert rc == 2
    assert "no id is left to fit on" in capsys.readouterr().err
    rc = main(
        [
            "strategies",
            "--dataset",
            str(path),
            "--model",
            "fake0",
            "--strategies",
            "whiten",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
        ]
    )
    assert rc == 2 and "unknown part 'whiten'" in capsys.readouterr().err
    rc = main(
        [
            "strategies",
            "--dataset",
            str(path),
            "--model",
            "fake0",
            "--strategies",
            "rrf",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
        ]
    )
    assert rc == 2 and "a fusion needs at least two encoders" in capsys.readouterr().err


def test_compare_mismatch_is_one_line(fake_data, capsys):
    path, tmp = fake_data
    common = [
        "--dataset",
        str(path),
        "--model",
        "fake0",
        "--no-progress",
        "--cache-dir",
        str(tmp / "c"),
    ]
    assert main(["eval", *common, "--directions", "de-en", "--json", str(tmp / "a.json")]) == 0
    assert main(["eval", *common, "--directions", "zh-en", "--json", str(tmp / "b.json")]) == 0
    assert (
        main(
            [
                "eval",
                *common,
                "--directions",
                "de-en",
                "--first",
                "50",
                "--json",
                str(tmp / "c.json"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "compare",
                "--baseline",
                str(tmp / "a.json"),
                "--candidate",
                str(tmp / "b.json"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("xlr: error: fake0 vs fake0: the directions do not match (only in baseline")
    assert err.count("\n") == 1
    assert (
        main(
            [
                "compare",
                "--baseline",
                str(tmp / "a.json"),
                "--candidate",
                str(tmp / "c.json"),
            ]
        )
        == 2
    )
    assert "direction de->en: the queries differ (120 in baseline" in capsys.readouterr().err


@pytest.mark.slow  # reads XQuAD from ../shared
def test_eval_query_pool_on_xquad(fake_data, capsys):
    _, tmp = fake_data
    rc = main(
        [
            "eval",
            "--dataset",
            "xquad",
            "--model",
            "hash",
            "--query-pool",
            "all",
            "--query-langs",
            "de,zh",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
            "--json",
            str(tmp / "q.json"),
            "--k",
            "1",
            "10",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "relevant: any paragraph with the gold id, in any language" in out
    assert "map@20" in out and "de->all" in out and "zh->all" in out
    data = read_results(tmp / "q.json")
    assert set(data["per_query"]["hash"]) == {"de->all", "zh->all"}
    assert len(data["per_query"]["hash"]["de->all"]["ranks"]) == 1190
    assert data["manifest"]["spec"]["pool"] == "all"
    rc = main(
        [
            "eval",
            "--dataset",
            "tatoeba",
            "--model",
            "hash",
            "--query-pool",
            "en",
            "--no-progress",
            "--cache-dir",
            str(tmp / "c"),
        ]
    )
    assert rc == 2 and "has no questions" in capsys.readouterr().err
    rc = main(
        [
            "eval",
            "--dataset",
            "xquad",
            "--model",
            "hash",
            "--query-pool",
            "en",
            "--first",
            "5",
        ]
    )
    assert rc == 2 and "--first do not apply to --query-pool" in capsys.readouterr().err


@pytest.mark.slow
def test_finetune_cli_with_compare(tmp_path, capsys):
    out_dir = tmp_path / "ft"
    rc = main(
        [
            "finetune",
            "--dataset",
            "tatoeba",
            "--model",
            "minilm-en",
            "--output",
            str(out_dir),
            "--directions",
            "fr-en",
            "--eval-first",
            "40",
            "--steps",
            "3",
            "--batch-size",
            "8",
            "--max-pairs",
            "24",
            "--max-seq-length",
            "32",
            "--lr",
            "1e-4",
            "--warmup",
            "0",
            "--device",
            "cpu",
            "--compare",
            "--resamples",
            "200",
            "--no-progress",
            "--cache-dir",
            str(tmp_path / "c"),
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "split: evaluated: the first 40 linked ids of each direction (fr->en 40/1000)" in out
    assert "step    3/3  loss" in out and f"saved: {out_dir}" in out
    assert f"st:{out_dir} [recall@1]" in out


def test_strategies_markdown_shows_hostile_codes_and_ids_as_text(tmp_path, monkeypatch, capsys):
    """A language code, id or title holding Markdown or HTML is written into the report as text (issue 17)."""
    import re

    from markdown_it import MarkdownIt

    evil = "<img src=x>[l](https://evil.example)"
    rows = [
        {"id": f"[{i}](https://evil.example)", "lang": lang, "text": f"text {i} in {lang}"}
        for i in range(60)
        for lang in ("en", evil)
    ]
    path = tmp_path / "evil.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    monkeypatch.setitem(CATALOGUE, "hash", EncoderCard("hash", "hash", lambda _c: HashEncoder(), needs="bundled"))
    argv = ["strategies", "--dataset", str(path), "--model", "hash", "--no-progress", "--resamples", "200"]
    rc = main([*argv, "--cache-dir", str(tmp_path / "c"), "--markdown", str(tmp_path / "s.md")])
    assert rc == 0, capsys.readouterr().err
    text = (tmp_path / "s.md").read_text(encoding="utf-8")
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "\\<img src=x>" in text  # shown as written
    assert not re.findall(r"<(a|img|h[1-6])\b", html), html
