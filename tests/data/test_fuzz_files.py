"""Fuzz the readers of results files and ``st:`` model folders (hypothesis; issue 17).

Properties, for every generated file or folder:

* results files: :func:`read_rank_records` raises nothing but ``ValueError`` with one line that starts
  with the file's path; when it reads, every rank is the file's integer exactly (never truncated), >= 1,
  one per query id;
* model folders: :func:`check_model_folder`, :func:`fingerprint_dir`, :func:`folder_dim`,
  :func:`folder_max_seq_length` and :func:`fast_tokenizer` raise nothing but :class:`ModelFolderError`
  (one line); a fingerprint is the same twice; a dimension or input limit is a positive integer or None.

The fast tier runs ``FAST_EXAMPLES`` examples of each; the slow tier ``SLOW_EXAMPLES``.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlr.encoders.st_folder import (
    ModelFolderError,
    check_model_folder,
    fast_tokenizer,
    fingerprint_dir,
    folder_dim,
    folder_max_seq_length,
)
from xlr.report.comparison import read_rank_records

FAST_EXAMPLES = 200
SLOW_EXAMPLES = 10_000

odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.lists(st.integers(min_value=-3, max_value=3), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
rank = st.one_of(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6), odd)


@st.composite
def results_files(draw) -> bytes:
    """A results JSON: mostly the right layout, any part possibly odd, or an attacker's bytes."""
    kind = draw(st.sampled_from(["layout", "layout", "layout", "deep", "binary", "scalar"]))
    if kind == "deep":
        depth = draw(st.sampled_from([10, 5_000]))  # beyond the parser's recursion limit
        return b'{"rows": [], "manifest": {}, "per_query": ' + b"[" * depth + b"]" * depth + b"}"
    if kind == "binary":
        return draw(st.binary(max_size=60))
    if kind == "scalar":
        return draw(st.sampled_from([b"1", b"null", b"NaN", b"[]", b'"x"', b"9" * 5000]))
    n = draw(st.integers(min_value=0, max_value=5))
    ids = draw(st.one_of(st.lists(st.text(max_size=4), min_size=n, max_size=n), odd))
    ranks = draw(st.one_of(st.lists(rank, min_size=n, max_size=n), st.lists(rank, max_size=6), odd))
    record = {"query_ids": ids, "ranks": ranks}
    if draw(st.booleans()):
        record = draw(st.sampled_from([{}, {"ranks": ranks}, {"query_ids": ids}, record]))
    per_query = {"m": {"de->en": record}}
    if draw(st.booleans()):
        per_query = draw(st.sampled_from([per_query, {"m": []}, {}, {"m": {}}]))
    data = {"rows": [], "manifest": {}, "per_query": per_query}
    return json.dumps(data, allow_nan=True).encode("utf-8")


def _results_property(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.json"
        path.write_bytes(data)
        try:
            _model, records = read_rank_records(path)
        except ValueError as exc:
            message = str(exc)
            assert message.startswith(str(path)) and "\n" not in message, message
            return
        parsed = json.loads(data)
        for direction, rec in records.items():
            given = parsed["per_query"]["m"][direction]["ranks"]
            assert rec.ranks.tolist() == given and all(isinstance(r, int) and r >= 1 for r in given)
            assert len(rec.ranks) == len(rec.query_ids)


JSON_FILES = ("modules.json", "config.json", "sentence_bert_config.json", "tokenizer_config.json", "tokenizer.json")
module_types = st.sampled_from(
    ["sentence_transformers.models.Transformer", "x.Pooling", "x.Dense", "x.Normalize", "x.Other", ""]
)
modules = st.lists(
    st.one_of(
        st.fixed_dictionaries(
            {"path": st.sampled_from(["", "1_Pooling", "../..", "/etc", "a/../..", "2_Dense"]), "type": module_types}
        ),
        odd,
    ),
    max_size=4,
)
configs = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "hidden_size": odd,
            "max_seq_length": st.one_of(st.integers(min_value=-5, max_value=600), odd),
            "word_embedding_dimension": odd,
            "pooling_mode_mean_tokens": odd,
            "out_features": odd,
            "model_max_length": odd,
        },
    ),
    odd,
)


@st.composite
def model_folders(draw) -> dict[str, bytes]:
    """Files of an ``st:`` folder: any subset of the config files, valid-looking or hostile, and weights."""
    files: dict[str, bytes] = {}
    for name in JSON_FILES:
        choice = draw(st.sampled_from(["json", "json", "missing", "deep", "junk"]))
        if choice == "json":
            value = draw(modules) if name == "modules.json" else draw(configs)
            files[name] = json.dumps(value, allow_nan=True).encode()
        elif choice == "deep":
            depth = draw(st.sampled_from([10, 5_000]))
            files[name] = b"[" * depth + b"]" * depth
        elif choice == "junk":
            files[name] = draw(st.binary(max_size=40))
    if draw(st.booleans()):
        files["model.safetensors"] = draw(st.binary(max_size=64))
    if draw(st.booleans()):
        files["1_Pooling/config.json"] = json.dumps(draw(configs), allow_nan=True).encode()
    return files


def _folder_property(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "m"
        folder.mkdir()
        for name, data in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        for call in (check_model_folder, fingerprint_dir, folder_dim, folder_max_seq_length, fast_tokenizer):
            try:
                got = call(folder)
            except ModelFolderError as exc:
                assert "\n" not in str(exc) and str(exc), str(exc)
                continue
            if call is fingerprint_dir:
                assert got == fingerprint_dir(folder)
            elif call in (folder_dim, folder_max_seq_length):
                assert got is None or (isinstance(got, int) and got > 0), got


@settings(max_examples=FAST_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results_files())
def test_fuzz_results_files_fast(data: bytes) -> None:
    _results_property(data)


@settings(max_examples=FAST_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_folders())
def test_fuzz_model_folders_fast(files: dict[str, bytes]) -> None:
    _folder_property(files)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results_files())
def test_fuzz_results_files_slow(data: bytes) -> None:
    _results_property(data)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model_folders())
def test_fuzz_model_folders_slow(files: dict[str, bytes]) -> None:
    _folder_property(files)
