"""One output policy for every command (issue 17): no output is, or is inside, an input of the run.

A table over commands x input kinds, run in-process through ``xlr.cli.main.main``: each case must be
refused with exit status 2 and one line on stderr before any encoder is loaded (the fast-tier guard
fails the test if one is), and the input must be byte-for-byte unchanged.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from xlr.cli.main import main

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.jsonl"


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Path]:
    """A corpus, an ids file, a model folder, two results files, a cache and a free path."""
    corpus = tmp_path / "data" / "corpus.jsonl"
    corpus.parent.mkdir()
    shutil.copy(FIXTURE, corpus)
    ids = tmp_path / "ids.txt"
    ids.write_text("Q1\n", encoding="utf-8")
    model = tmp_path / "F"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}', encoding="utf-8")
    (model / "modules.json").write_text("[]", encoding="utf-8")
    base, cand = tmp_path / "base.json", tmp_path / "cand.json"
    base.write_text("{}", encoding="utf-8")
    cand.write_text("{}", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "keep.txt").write_text("cached", encoding="utf-8")
    return {"corpus": corpus, "ids": ids, "F": model, "base": base, "cand": cand, "cache": cache, "t": tmp_path}


def _argv(command: str, w: dict[str, Path], *, model: str = "e5-small", candidate: str | None = None) -> list[str]:
    data = ["--dataset", str(w["corpus"]), "--cache-dir", str(w["cache"]), "--no-progress"]
    if command == "eval":
        return ["eval", *data, "--model", model]
    if command == "strategies":
        extra = ["--candidate-model", candidate] if candidate else []
        return ["strategies", *data, "--model", model, *extra, "--eval-ids", str(w["ids"])]
    if command == "finetune":
        return ["finetune", *data, "--model", model, "--output", str(w["t"] / "out"), "--compare"]
    if command == "compare":
        return ["compare", "--baseline", str(w["base"]), "--candidate", str(w["cand"])]
    raise AssertionError(command)


# (command, how the input is given, output flag, the output path: an input or inside one)
CASES = [
    ("eval", {}, "--json", "{corpus}"),
    ("eval", {}, "--csv", "{cache}/results.csv"),
    ("eval", {"model": "st:{F}"}, "--json", "{F}/config.json"),
    ("eval", {"model": " st:{F}"}, "--json", "{F}/config.json"),
    ("eval", {"model": "st: {F} "}, "--csv", "{F}/modules.json"),
    ("strategies", {}, "--markdown", "{ids}"),
    ("strategies", {}, "--json", "{corpus}"),
    ("strategies", {}, "--json", "{cache}/keep.txt"),
    ("strategies", {"model": "st:{F}"}, "--markdown", "{F}/config.json"),
    ("strategies", {"candidate": "st:{F}"}, "--json", "{F}/config.json"),
    ("strategies", {"candidate": " st:{F}"}, "--json", "{F}/config.json"),
    ("finetune", {}, "--json", "{corpus}"),
    ("finetune", {}, "--markdown", "{cache}/r.md"),
    ("finetune", {"model": "st:{F}"}, "--json", "{F}/config.json"),
    ("finetune", {}, "--json", "{t}/out/config.json"),
    ("compare", {}, "--json", "{base}"),
    ("compare", {}, "--json", "{cand}"),
]


@pytest.mark.parametrize(("command", "given", "flag", "target"), CASES)
def test_every_command_refuses_an_output_that_is_an_input(
    command: str, given: dict[str, str], flag: str, target: str, world: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    kw = {k: v.format(**world) for k, v in given.items()}
    out = target.format(**world)
    before = {p: p.read_bytes() for p in world["t"].rglob("*") if p.is_file()}
    rc = main([*_argv(command, world, **kw), flag, out])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.startswith(f"xlr: error: {flag} {out} ") and err.count("\n") == 1, err
    assert "input" in err or "--output" in err, err
    assert {p: p.read_bytes() for p in world["t"].rglob("*") if p.is_file()} == before
    assert not (world["t"] / "out").exists()


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("{corpus}", "--output {corpus} is a file; give an absent or empty folder"),
        ("{F}", "--output {F} is not empty"),
        ("{F}/sub", "--output {F}/sub is inside the input folder {F}"),
        ("{t}/data", "--output {t}/data is not empty"),
        ("{cache}/m", "--output {cache}/m is inside the input folder {cache}"),
        ("{t}/full", "--output {t}/full is not empty"),
        ("{t}/link", "--output {t}/link is a symbolic link"),
    ],
)
def test_finetune_output_checked_before_any_work(
    output: str, message: str, world: dict[str, Path], capsys: pytest.CaptureFixture
) -> None:
    (world["t"] / "full").mkdir()
    (world["t"] / "full" / "x").write_text("x")
    (world["t"] / "empty").mkdir()
    (world["t"] / "link").symlink_to(world["t"] / "empty")
    before = {p: p.read_bytes() for p in world["t"].rglob("*") if p.is_file()}
    argv = _argv("finetune", world, model=f"st:{world['F']}")
    argv[argv.index("--output") + 1] = output.format(**world)
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("xlr: error: " + message.format(**world)), err
    assert err.count("\n") == 1 and "step" not in err
    assert {p: p.read_bytes() for p in world["t"].rglob("*") if p.is_file()} == before
    assert not (world["F"] / "sub").exists() and not (world["cache"] / "m").exists()


def test_a_symlink_at_the_output_path_is_refused_not_followed(world: dict[str, Path], capsys) -> None:
    victim = world["t"] / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    link = world["t"] / "r.json"
    link.symlink_to(victim)
    rc = main([*_argv("compare", world), "--json", str(link)])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(f"xlr: error: --json {link} is a symbolic link"), err
    assert victim.read_text(encoding="utf-8") == "precious" and link.is_symlink()


def test_results_written_keep_the_existing_files_mode(tmp_path: Path) -> None:
    from xlr.report.outputs import OutputPlan

    out = tmp_path / "r.json"
    out.write_text("old", encoding="utf-8")
    os.chmod(out, 0o600)
    plan = OutputPlan({"--json": out})
    plan.stage(out, json.dumps({"new": 1}))
    plan.commit()
    assert json.loads(out.read_text()) == {"new": 1} and (out.stat().st_mode & 0o777) == 0o600


def test_a_long_upload_name_is_shortened_not_an_error(tmp_path: Path) -> None:
    from xlr.dashboard.data_source import save_upload

    path = save_upload(b'{"id": "1", "lang": "en", "text": "a"}\n', "n" * 300 + ".jsonl", tmp_path)
    assert path.is_file() and path.name.endswith(".jsonl") and len(path.name) <= 120
    assert path.name.startswith("n" * 50)


@pytest.mark.slow
@pytest.mark.parametrize(("command", "given", "flag", "target"), [CASES[3], CASES[5], CASES[14]])
def test_refused_in_a_real_process(command: str, given: dict[str, str], flag: str, target: str, world) -> None:
    import subprocess
    import sys

    kw = {k: v.format(**world) for k, v in given.items()}
    out = target.format(**world)
    before = {p: p.read_bytes() for p in world["t"].rglob("*") if p.is_file()}
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.run(
        [sys.executable, "-m", "xlr", *_argv(command, world, **kw), flag, out],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.startswith(f"xlr: error: {flag} {out} "), proc.stderr
    assert "Traceback" not in proc.stderr
    assert {p: p.read_bytes() for p in world["t"].rglob("*") if p.is_file()} == before
