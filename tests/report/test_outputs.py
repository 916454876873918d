"""OutputPlan: every output path checked before any work; all outputs written together or none."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xlr.report.outputs import OutputError, OutputPlan, model_folders


def test_fifo_folder_device_proc_refused_by_the_users_path(tmp_path: Path) -> None:
    fifo = tmp_path / "out.csv"
    os.mkfifo(fifo)
    with pytest.raises(OutputError, match=rf"^--csv {fifo} is a FIFO \(named pipe\); give a regular file path$"):
        OutputPlan({"--csv": fifo})
    with pytest.raises(OutputError, match=rf"^--json {tmp_path} is a folder"):
        OutputPlan({"--json": tmp_path})
    for bad in ("/dev/null", "/dev/stdout", "/proc/x.csv", "/sys/x.json"):
        with pytest.raises(OutputError, match=f"^--json {bad}: /(dev|proc|sys) is a special file system"):
            OutputPlan({"--json": bad})
    link = tmp_path / "to-null"
    link.symlink_to("/dev/null")
    with pytest.raises(OutputError, match=f"--json {link}: /dev is a special file system"):
        OutputPlan({"--json": link})
    assert fifo.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["out.csv", "to-null"]  # nothing created


def test_same_file_for_two_outputs_refused(tmp_path: Path) -> None:
    x = tmp_path / "x"
    with pytest.raises(OutputError, match=f"--json {x} and --csv {x} name the same file"):
        OutputPlan({"--json": x, "--csv": x})
    x.write_text("keep")
    (tmp_path / "hard").hardlink_to(x)
    (tmp_path / "soft").symlink_to(x)
    with pytest.raises(OutputError, match="name the same file"):
        OutputPlan({"--json": x, "--csv": tmp_path / "hard"})
    with pytest.raises(OutputError, match="is a symbolic link"):  # never followed (issue 17)
        OutputPlan({"--json": x, "--csv": tmp_path / "soft"})
    assert x.read_text() == "keep"


def test_unwritable_folder_refused_up_front(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError, match=rf"^--csv {blocker}/sub/r.csv: cannot write in folder {blocker}/sub"):
        OutputPlan({"--csv": blocker / "sub" / "r.csv"})
    assert blocker.read_text() == "x"


def test_inputs_and_model_folders_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_bytes(b'{"id": "1"}\n')
    plan = OutputPlan({"--json": corpus, "--csv": None})
    with pytest.raises(OutputError, match=rf"--json {corpus} is an input of this run \({corpus}\)"):
        plan.refuse_inputs([corpus])
    model = tmp_path / "model"
    model.mkdir()
    assert model_folders(["e5-small", f"st:{model}", "st:org/not-a-folder"]) == (model,)
    plan = OutputPlan({"--json": model / "results.json"})
    with pytest.raises(OutputError, match="is inside the input folder"):
        plan.refuse_inputs([], model_folders([f"st:{model}"]))
    plan.refuse_inputs([tmp_path / "other.jsonl"], [tmp_path / "elsewhere"])  # unrelated inputs: fine
    assert corpus.read_bytes() == b'{"id": "1"}\n'


def test_commit_writes_all_and_nothing_before(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "sub" / "b.csv"
    a.write_text("old a")
    plan = OutputPlan({"--json": a, "--csv": b})
    plan.stage(a, "new a")
    plan.stage(b, "=x,1\n")
    assert a.read_text() == "old a" and not b.exists()  # staged only
    assert plan.commit() == (a, b)
    assert a.read_text() == "new a" and b.read_text() == "=x,1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "sub"]  # no temporaries left
    assert (a.stat().st_mode & 0o777) == 0o644


def test_a_failed_run_or_output_replaces_nothing(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.csv"
    a.write_text("old a")
    b.write_text("old b")
    plan = OutputPlan({"--json": a, "--csv": b})
    plan.stage(a, "new a")
    b.unlink()
    b.mkdir()  # the second output became a folder during the run
    plan.stage(b, "new b")
    with pytest.raises(OutputError, match=f"--csv {b} is a folder"):
        plan.commit()
    assert a.read_text() == "old a"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "b.csv"]


def test_rename_failure_puts_back_what_was_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_text("old a")
    plan = OutputPlan({"--json": a, "--csv": b, "--markdown": c})
    for p in (a, b, c):
        plan.stage(p, f"new {p.name}")
    real_replace = os.replace
    calls: list[str] = []

    def flaky(src, dst):  # the disk fills up at the third rename
        calls.append(Path(dst).name)
        if Path(dst) == c:
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(OutputError, match=f"^--markdown {c}: cannot write \\(No space left on device\\); no output"):
        plan.commit()
    monkeypatch.setattr(os, "replace", real_replace)
    assert calls[:3] == ["a", "b", "c"]
    assert a.read_text() == "old a" and not b.exists() and not c.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


def test_stage_unknown_path_is_a_programming_error(tmp_path: Path) -> None:
    plan = OutputPlan({"--json": tmp_path / "a"})
    with pytest.raises(KeyError):
        plan.stage(tmp_path / "b", "x")
