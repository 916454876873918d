"""``st:`` model folders (issue 17): checked to be a model before anything is hashed, fingerprinted on
every byte (an edit anywhere changes the cache key), hashed once per file state, and every bad
config file is one sentence naming it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from xlr.encoders import st_folder
from xlr.encoders.st_folder import (
    ModelFolderError,
    check_model_folder,
    fast_tokenizer,
    fingerprint_dir,
    folder_dim,
    folder_max_seq_length,
)


def _model(folder: Path, weights: bytes = b"w" * 100) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 8}')
    (folder / "modules.json").write_text(
        json.dumps([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}])
    )
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_a_folder_that_is_not_a_model_is_refused_before_hashing(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "big.bin").write_bytes(b"x" * 1000)
    for call in (check_model_folder, fingerprint_dir):
        with pytest.raises(ModelFolderError, match=rf"^{venv} is not a sentence-transformers model folder"):
            call(venv)


def test_a_folder_too_big_for_a_model_is_refused_by_its_size(tmp_path: Path, monkeypatch) -> None:
    folder = _model(tmp_path / "m")
    monkeypatch.setattr(st_folder, "MAX_FOLDER_BYTES", 50)
    with pytest.raises(ModelFolderError, match=rf"^{folder} holds more than 50 bytes"):
        fingerprint_dir(folder)


def test_an_edit_in_the_middle_of_a_large_weights_file_changes_the_key(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m", weights=b"")
    weights = folder / "model.safetensors"
    size = 80 << 20  # over the 64 MiB where only the head and the tail used to be hashed
    with open(weights, "r+b") as fh:
        fh.truncate(size)
    before = fingerprint_dir(folder)
    with open(weights, "r+b") as fh:
        fh.seek(size // 2)
        fh.write(b"\x01")
    assert weights.stat().st_size == size
    assert fingerprint_dir(folder) != before


def test_each_file_is_hashed_once_per_state(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    weights = folder / "model.safetensors"
    first = fingerprint_dir(folder)
    st = weights.stat()
    with open(weights, "r+b") as fh:  # same size, same inode, same mtime: the stored digest is used
        fh.write(b"v")
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert fingerprint_dir(folder) == first
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert fingerprint_dir(folder) != first


def test_bad_config_files_are_one_sentence(tmp_path: Path) -> None:
    folder = _model(tmp_path / "m")
    (folder / "sentence_bert_config.json").write_text('{"max_seq_length": -5}')
    with pytest.raises(ModelFolderError, match=r"max_seq_length is -5 in .*sentence_bert_config.json; it must be"):
        folder_max_seq_length(folder)
    (folder / "sentence_bert_config.json").unlink()
    (folder / "modules.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFolderError, match=r"modules.json: JSON nested too deeply"):
        folder_dim(folder)
    with pytest.raises(ModelFolderError, match=r"modules.json: JSON nested too deeply"):
        check_model_folder(folder)
    (folder / "modules.json").write_text('[{"path": "../../etc", "type": "x.Transformer"}]')
    with pytest.raises(ModelFolderError, match=r"modules.json: module path '../../etc' leaves the folder"):
        check_model_folder(folder)
    (folder / "modules.json").unlink()
    (folder / "tokenizer.json").write_text('{"version": "1.0", "model": {"type": "nonsense"')
    with pytest.raises(ModelFolderError, match=rf"^cannot read the tokenizer {folder}/tokenizer.json \("):
        fast_tokenizer(folder)


@pytest.mark.slow
def test_st_any_folder_is_one_sentence_from_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from xlr.cli.main import main

    venv = tmp_path / "venv"
    (venv / "lib").mkdir(parents=True)
    (venv / "lib" / "x.py").write_text("x = 1")
    corpus = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.jsonl"
    rc = main(["eval", "--dataset", str(corpus), "--model", f"st:{venv}", "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2 and f"xlr: error: {venv} is not a sentence-transformers model folder" in err, err
    assert err.count("xlr: error") == 1 and "Traceback" not in err
