"""Hostile input: every problem the JSON layer can raise becomes a file/line/field issue; hashes of bytes read."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from xlr.data.loaders import load_jsonl, load_xquad
from xlr.data.records import CorpusError
from xlr.data.registry import resolve_dataset
from xlr.report.results import build_manifest
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import EvalSpec

GOOD = b'{"id": "a", "lang": "en", "text": "fine"}\n{"id": "a", "lang": "de", "text": "gut"}\n'


def _with(bad: bytes) -> bytes:
    return GOOD + bad + b"\n"


CASES = {
    "deep nesting": (b"[" * 200_000, None, "JSON nested too deeply"),
    "deep object": (b'{"id": ' + b'{"a": ' * 100_000, None, "JSON nested too deeply"),
    "surrogate in text": (
        b'{"id": "b", "lang": "en", "text": "x\\ud800y"}',
        "text",
        "lone surrogate \\ud800 at character 2",
    ),
    "surrogate in id": (b'{"id": "\\udfff", "lang": "en", "text": "x"}', "id", "lone surrogate \\udfff at character 1"),
    "surrogate in title": (b'{"id": "b", "lang": "en", "text": "x", "title": "\\ud83d"}', "title", "lone surrogate"),
    "5000-digit id": (
        b'{"id": ' + b"7" * 5000 + b', "lang": "en", "text": "x"}',
        "id",
        "got an integer of 5000 digits",
    ),
    "5000-digit title": (
        b'{"id": "b", "lang": "en", "text": "x", "title": -' + b"1" * 5000 + b"}",
        "title",
        "5000 digits",
    ),
    "huge float": (b'{"id": 1e999, "lang": "en", "text": "x"}', "id", "expected a string, got a JSON number"),
    "NaN id": (b'{"id": NaN, "lang": "en", "text": "x"}', "id", "expected a string"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_json_layer_problems_name_file_line_field(case: str, tmp_path: Path) -> None:
    bad, field, message = CASES[case]
    path = tmp_path / "c.jsonl"
    path.write_bytes(_with(bad))
    with pytest.raises(CorpusError) as info:
        load_jsonl(path)
    (issue,) = info.value.issues
    assert (issue.path, issue.line, issue.field) == (str(path), 3, field)
    assert message in issue.message
    assert str(info.value).startswith(f"{path}, line 3{'' if field is None else f', field {field!r}'}: ")
    assert len(str(info.value)) < 300 and "\n" not in str(info.value)
    lenient = load_jsonl(path, lenient=True)
    assert [d.text for d in lenient.documents] == ["fine", "gut"]
    assert lenient.report is not None and lenient.report.skipped == (issue,)


def test_a_surrogate_in_an_id_never_reaches_the_outputs(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(_with(b'{"id": "\\ud800", "lang": "de", "text": "x"}'))
    corpus = load_jsonl(path, lenient=True)
    json.dumps([d.id for d in corpus.documents], ensure_ascii=False).encode("utf-8")  # encodable


def test_xquad_deep_nesting_and_surrogates(tmp_path: Path) -> None:
    (tmp_path / "xquad.en.json").write_bytes(b'{"data": ' + b"[" * 100_000)
    with pytest.raises(CorpusError, match=r"xquad\.en\.json: JSON nested too deeply"):
        load_xquad(tmp_path)
    doc = {"data": [{"title": "T", "paragraphs": [{"context": "c\udc00", "qas": []}]}]}
    (tmp_path / "xquad.en.json").write_text(json.dumps(doc))  # ensure_ascii: written as \udc00
    with pytest.raises(CorpusError) as info:
        load_xquad(tmp_path)
    (issue,) = info.value.issues
    assert issue.field == "data[0].paragraphs[0].context" and "lone surrogate \\udc00" in issue.message


def test_manifest_hashes_the_bytes_that_were_parsed(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(GOOD)
    data = resolve_dataset(path)
    path.write_bytes(GOOD.replace(b"fine", b"FINE"))  # replaced mid-run, after loading
    manifest = build_manifest(data, EvalSpec((Direction("de", "en"),)), [])
    assert manifest["dataset"]["files"] == [{"path": str(path), "sha256": hashlib.sha256(GOOD).hexdigest()}]


def test_tatoeba_and_xquad_hashes_come_from_the_loader(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    tatoeba, xquad = tmp_path / "tatoeba", tmp_path / "xquad"
    tatoeba.mkdir()
    xquad.mkdir()
    for name in ("xyz", "eng"):
        (tatoeba / f"tatoeba.xyz-eng.{name}").write_bytes((fixtures / "tatoeba_xyz" / f"xyz-eng.{name}").read_bytes())
    for lang in ("de", "en"):
        (xquad / f"xquad.{lang}.json").write_bytes((fixtures / "xquad_tiny" / f"{lang}.json").read_bytes())
    for folder in (tatoeba, xquad):
        data = resolve_dataset(folder)
        assert data.corpus.report is not None
        hashes = dict(data.corpus.report.sha256)
        assert len(hashes) == 2 and set(hashes) == {str(p) for p in data.files}
        for p in data.files:
            assert hashes[str(p)] == hashlib.sha256(p.read_bytes()).hexdigest()
