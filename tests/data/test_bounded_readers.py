"""Bounded readers (issue 17): size caps stated in the message, non-regular files refused by name,
CR-only and non-UTF-8 files named with their cause, ``~nouser`` paths one sentence, hostile values in
results files refused by file and field, bounded ``XLR_THREADS``/``--resamples``, a full cache disk."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import numpy as np
import pytest
from strategy_fakes import HashEncoder

from xlr.cli.main import main
from xlr.data.loaders import load_jsonl
from xlr.data.records import CorpusError
from xlr.report.comparison import read_rank_records
from xlr.strategies.split import Split

GOOD = b'{"id": "a", "lang": "en", "text": "fine"}\n{"id": "a", "lang": "de", "text": "gut"}\n'


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as fh:
        fh.truncate(size)
    return path


def _results(path: Path, ranks: str) -> Path:
    """A results file whose ranks are the JSON text ``ranks`` (written raw: NaN, true, 1e999 ...)."""
    path.write_text(
        '{"rows": [], "manifest": {}, "per_query": {"m": {"de->en": {"query_ids": ["q1", "q2"], "ranks": '
        + ranks
        + "}}}}",
        encoding="utf-8",
    )
    return path


def test_a_corpus_over_the_cap_is_refused_by_its_size(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "big.jsonl", 2 << 30)  # 2 GiB of holes: refused without reading it
    with pytest.raises(CorpusError, match=rf"^{big}: 2,147,483,648 bytes \(2\.1 GB\); a corpus may be at most"):
        load_jsonl(big)


def test_non_regular_inputs_are_refused_by_name(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    fifo = tmp_path / "c.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(CorpusError, match=rf"^{fifo}: a FIFO \(named pipe\), not a regular file"):
        load_jsonl(fifo)
    good = _results(tmp_path / "good.json", "[1, 2]")
    rc = main(["compare", "--baseline", str(good), "--candidate", "/dev/zero"])
    assert rc == 2 and capsys.readouterr().err == "xlr: error: /dev/zero: a device, not a regular file\n"
    with pytest.raises(ValueError, match=r"^/dev/zero: a device, not a regular file"):
        Split.choose(None, (), ids_file="/dev/zero")  # type: ignore[arg-type]


def test_results_and_ids_files_over_their_caps(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "r.json", 300 << 20)
    with pytest.raises(ValueError, match=rf"^{big}: 314,572,800 bytes \(315 MB\); a results file may be at most"):
        read_rank_records(big)
    ids = _sparse(tmp_path / "ids.txt", 300 << 20)
    with pytest.raises(ValueError, match=rf"^{ids}: 314,572,800 bytes \(315 MB\); an ids file may be at most"):
        Split.choose(None, (), ids_file=ids)  # type: ignore[arg-type]


def test_cr_only_and_non_utf8_files_are_named_with_their_cause(tmp_path: Path) -> None:
    cr = tmp_path / "mac.jsonl"
    cr.write_bytes(GOOD.replace(b"\n", b"\r"))
    with pytest.raises(CorpusError, match=rf"^{cr}: lines end in CR only \(old Mac line endings\)"):
        load_jsonl(cr)
    ids = tmp_path / "ids.txt"
    ids.write_bytes(b"a\r")
    with pytest.raises(ValueError, match=rf"^{ids}: lines end in CR only"):
        Split.choose(None, (), ids_file=ids)  # type: ignore[arg-type]
    ids.write_bytes(b"a\nb\xff\n")
    with pytest.raises(ValueError, match=rf"^{ids}, line 2: not valid UTF-8: byte 0xff"):
        Split.choose(None, (), ids_file=ids)  # type: ignore[arg-type]
    ids.write_bytes(b"a\nb\n")
    assert Split.choose(None, (), ids_file=ids).ids == ("a", "b")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "argv",
    [
        ["eval", "--dataset", "~nouser-xlr/c.jsonl", "--model", "e5-small"],
        ["eval", "--dataset", "{t}/c.jsonl", "--model", "e5-small", "--cache-dir", "~nouser-xlr/cache"],
        ["eval", "--dataset", "{t}/c.jsonl", "--model", "e5-small", "--json", "~nouser-xlr/r.json"],
        ["eval", "--dataset", "{t}/c.jsonl", "--model", "st:~nouser-xlr/m"],
        ["compare", "--baseline", "~nouser-xlr/a.json", "--candidate", "{t}/c.jsonl"],
    ],
)
def test_a_tilde_path_of_an_unknown_user_is_one_sentence(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "c.jsonl").write_bytes(GOOD)
    rc = main([a.format(t=tmp_path) for a in argv])
    err = capsys.readouterr().err
    assert rc == 2 and "cannot expand ~nouser-xlr (no such user on this machine)" in err, err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("ranks", "message"),
    [
        ("[1, NaN]", r"ranks\[1\]: NaN is not an integer rank >= 1"),
        ("[1, Infinity]", r"ranks\[1\]: Infinity is not an integer rank >= 1"),
        ("[1, 1e999]", r"ranks\[1\]: .* is not an integer rank >= 1"),
        ("[1, " + str(10**30) + "]", r"ranks\[1\]: 1000000000000000000000000000000 is not an integer rank"),
        ("[1, 1.5]", r"ranks\[1\]: 1.5 is not an integer rank >= 1"),
        ('[1, "1"]', r'ranks\[1\]: "1" is not an integer rank >= 1'),
        ("[1, true]", r"ranks\[1\]: true is not an integer rank >= 1"),
        ("[1, 0]", r"ranks\[1\]: 0 is not an integer rank >= 1"),
        ("[1, 2, 3]", r"3 ranks for 2 query ids"),
        ("[" * 100_000 + "]" * 100_000, r"JSON nested too deeply"),
    ],
)
def test_hostile_values_in_a_results_file_name_file_and_field(ranks: str, message: str, tmp_path: Path) -> None:
    path = _results(tmp_path / "r.json", ranks)
    with pytest.raises(ValueError, match=rf"^{path}: .*{message}") as info:
        read_rank_records(path)
    assert "\n" not in str(info.value)


def test_valid_ranks_still_read(tmp_path: Path) -> None:
    model, recs = read_rank_records(_results(tmp_path / "r.json", "[1, 7]"))
    assert model == "m" and recs["de->en"].ranks.tolist() == [1, 7] and recs["de->en"].ranks.dtype == np.int64


def test_xlr_threads_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from xlr.encoders.device import default_threads

    monkeypatch.setenv("XLR_THREADS", "100000")
    with pytest.raises(ValueError, match=r"^XLR_THREADS must be an integer from 1 to \d+, got '100000'"):
        default_threads()
    monkeypatch.setenv("XLR_THREADS", "2")
    assert default_threads() == 2


@pytest.mark.parametrize("value", ["100000000000", "1e11", "0"])
def test_resamples_is_bounded(value: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    good = _results(tmp_path / "good.json", "[1, 2]")
    with pytest.raises(SystemExit) as info:
        main(["compare", "--baseline", str(good), "--candidate", str(good), "--resamples", value])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"--resamples: {value} is not an integer from 1 to 1,000,000" in err, err


def test_a_full_cache_disk_is_one_sentence_and_encoding_goes_on(tmp_path: Path, monkeypatch) -> None:
    from xlr.encoders import cache_store
    from xlr.encoders.cache import CacheRepairWarning, EmbeddingCache

    def full(path, array):  # noqa: ANN001, ANN202
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache_store, "atomic_save_npy", full)
    enc = HashEncoder("hash", 8)
    texts = [f"text {i}" for i in range(40)]
    with pytest.warns(CacheRepairWarning, match=r"the cache disk is full: \d+\.\d+ MB needed at .*; encoding goes on"):
        vecs, stats = EmbeddingCache(tmp_path).embed(enc, texts, batch_size=10)
    assert stats.written is False and stats.encoded == 40
    np.testing.assert_array_equal(vecs, enc.encode(texts))
    assert json.dumps(stats.summary())  # a summary, no traceback


def _eval_results(path: Path, ranks: str) -> Path:
    path.write_text(
        '{"format": "xlr-results/1", "spec": {"directions": ["de-en"]}, "encoders": [], "manifest": {},'
        ' "directions": [{"model": "m", "direction": "de->en", "query_ids": ["a", "b"], "query_positions": [0, 1],'
        ' "pool_positions": [2, 3], "gold": [0, 1], "ranks": ' + ranks + ', "n_dropped": 0}]}',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("ranks", "message"),
    [
        ("[1, true]", r"ranks\[1\]: true is not an integer rank >= 1"),
        ('[1, "1"]', r'ranks\[1\]: "1" is not an integer rank >= 1'),
        ("[1, NaN]", r"ranks\[1\]: NaN is not an integer rank >= 1"),
        ("[1, " + str(10**30) + "]", r"ranks\[1\]: 10{30} is not an integer rank >= 1"),
        ("[" * 100_000 + "]" * 100_000, r"JSON nested too deeply"),
    ],
)
def test_xlr_read_results_refuses_hostile_ranks_by_file_and_field(ranks: str, message: str, tmp_path: Path) -> None:
    from xlr.retrieval.results_io import read_results

    path = _eval_results(tmp_path / "r.json", ranks)
    with pytest.raises(ValueError, match=rf"^{path}: .*{message}") as info:
        read_results(path)
    assert "\n" not in str(info.value)


def test_xlr_read_results_is_bounded(tmp_path: Path) -> None:
    from xlr.retrieval.results_io import read_results

    with pytest.raises(ValueError, match=r"^/dev/zero: a device, not a regular file"):
        read_results("/dev/zero")
    big = _sparse(tmp_path / "r.json", 300 << 20)
    with pytest.raises(ValueError, match=rf"^{big}: 314,572,800 bytes \(315 MB\); a results file may be at most"):
        read_results(big)
    assert read_results(_eval_results(tmp_path / "ok.json", "[1, 2]")).results[0].ranks.tolist() == [1, 2]
