"""Many-language data: line-aligned folders (Flores/NTREX/WMT), the NTREX/Tatoeba/XQuAD selections, codes in
directions written any way."""

from __future__ import annotations

from pathlib import Path

import pytest
from upstream_fixtures import upstream_named

from xlr.data.aligned import aligned_language, load_aligned
from xlr.data.corpus import detect_format, load_corpus
from xlr.data.datasets import DATASETS, NTREX_PATTERN
from xlr.data.languages import AmbiguousLanguage
from xlr.data.records import Corpus, CorpusError, Document
from xlr.data.registry import DatasetUnavailable, ensure_dataset, resolve_dataset, select_languages
from xlr.data.tatoeba import load_tatoeba
from xlr.retrieval.directions import Direction, default_directions, parse_directions


def flores(tmp_path: Path, n: int = 4) -> Path:
    """A Flores-200 style folder: ``<lang>_<Script>.devtest``, line i = sentence i."""
    folder = tmp_path / "devtest"
    folder.mkdir()
    for code in ("eng_Latn", "swh_Latn", "zho_Hans", "arb_Arab"):
        (folder / f"{code}.devtest").write_text("".join(f"{code} sentence {i}\n" for i in range(n)), "utf-8")
    (folder / "README").write_text("not a language\n")
    (folder / "metadata.tsv").write_text("a\tb\n")
    return folder


def test_flores_folder_loads_as_it_is_multi_way(tmp_path):
    folder = flores(tmp_path)
    assert detect_format(folder) == "aligned"
    c = load_corpus(folder)
    assert c.languages == ("arb_Arab", "eng_Latn", "swh_Latn", "zho_Hans")  # the user's own codes
    assert c.ids == ("1", "2", "3", "4") and len(c) == 16
    assert c.documents[c.index("3", "swh_Latn")].text == "swh_Latn sentence 2"
    assert default_directions(c) == tuple(Direction(s, "eng_Latn") for s in ("arb_Arab", "swh_Latn", "zho_Hans"))
    assert parse_directions("sw-en,zh->ar", c) == (Direction("swh_Latn", "eng_Latn"), Direction("zho_Hans", "arb_Arab"))
    data = resolve_dataset(folder, languages="en,sw")
    assert data.corpus.languages == ("eng_Latn", "swh_Latn") and len(data.files) == 4


def test_aligned_errors_name_file_and_line(tmp_path):
    folder = flores(tmp_path)
    (folder / "swh_Latn.devtest").write_text("a\n\nc\nd\n", "utf-8")
    with pytest.raises(CorpusError, match=r"swh_Latn\.devtest, line 2: empty line"):
        load_aligned(folder)
    (folder / "swh_Latn.devtest").write_text("a\nb\n", "utf-8")
    with pytest.raises(CorpusError, match="swh_Latn.devtest has 2 lines but arb_Arab.devtest has 4"):
        load_aligned(folder)
    (folder / "swh_Latn.devtest").unlink()
    (folder / "x.swh_Latn.txt").write_text("a\nb\nc\nd\n", "utf-8")
    (folder / "y.swh_Latn.txt").write_text("a\nb\nc\nd\n", "utf-8")
    with pytest.raises(CorpusError, match="second file for language 'swh_Latn'.*pattern"):
        load_aligned(folder)
    assert load_aligned(folder, pattern=r"(?P<lang>[a-z]+_[A-Za-z]+)\.devtest").languages == (
        "arb_Arab",
        "eng_Latn",
        "zho_Hans",
    )
    with pytest.raises(CorpusError, match="no line-aligned file matching"):
        load_aligned(folder, pattern=r"nothing\.(?P<lang>.+)")


def test_ntrex_layout_with_the_documented_pattern():
    folder = upstream_named("ntrex_tiny", "newstest2019-")
    # a second Spanish reference makes the default reading ambiguous; the NTREX pattern leaves it out
    with pytest.raises(CorpusError, match="second file for language 'spa'"):
        load_aligned(folder)
    assert aligned_language("newstest2019-ref-2.spa.txt", NTREX_PATTERN) is None
    c = load_aligned(folder, pattern=NTREX_PATTERN)
    assert c.languages == ("deu", "eng", "eng-GB", "spa", "swa", "zho-CN")
    assert c.documents[c.index("1", "eng")].text == "Welsh AMs worried about 'looking like muppets'"
    assert default_directions(c)[0] == Direction("deu", "eng")  # en: the source, not the eng-GB reference
    with pytest.raises(AmbiguousLanguage, match="eng-GB, eng-US"):
        parse_directions(
            "de-en", Corpus("x", tuple(Document("1", lang, "", "t") for lang in ("de", "eng-GB", "eng-US")))
        )
    data = resolve_dataset(folder, pattern=NTREX_PATTERN, languages="sw,zh,en")
    assert data.corpus.languages == ("eng", "swa", "zho-CN")


def test_ntrex_named_data_set_lists_128_languages_and_is_offline_clear(tmp_path):
    spec = DATASETS["ntrex"]
    assert len(spec.languages) == 128 and len(spec.files) == 128 and spec.kind == "aligned"
    assert {"eng", "deu", "swa", "zho-CN", "zho-TW", "srp-Latn"} <= set(spec.languages)
    assert all(f.size and f.sha256 and f.url.endswith(Path(f.relpath).name) for f in spec.files)
    with pytest.raises(DatasetUnavailable) as err:
        ensure_dataset("ntrex", root=tmp_path, download_missing=False, languages="sw,en")
    message = str(err.value)
    assert "2 of 2 files missing and downloading is off" in message
    assert str(tmp_path / "ntrex" / "newstest2019-ref.swa.txt") in message
    assert "NTREX-128/newstest2019-src.eng.txt" in message and "\n" not in message


def test_tatoeba_grows_to_112_languages_with_five_by_default():
    spec = DATASETS["tatoeba"]
    assert len(spec.languages) == 112 and len(spec.files) == 224
    assert select_languages(spec) == ("ara", "cmn", "deu", "ell", "fra")
    assert select_languages(spec, "swh,amh,tel") == ("amh", "swh", "tel")
    assert select_languages(spec, ["sw", "en", "zho"]) == ("cmn", "swh")  # English comes with every pair
    assert len(select_languages(spec, "all")) == 112
    with pytest.raises(ValueError, match="has no language 'xx'"):
        select_languages(spec, "xx")


def test_tatoeba_selection_downloads_only_its_files(tmp_path):
    with pytest.raises(DatasetUnavailable) as err:
        ensure_dataset("tatoeba", root=tmp_path, download_missing=False, languages="amh")
    assert "2 of 2 files" in str(err.value) and "tatoeba.amh-eng.amh" in str(err.value)


def test_tatoeba_codes_become_tags_unless_they_collide(tmp_path):
    for code in ("swh", "kzj", "dtp"):
        for side in (code, "eng"):
            (tmp_path / f"tatoeba.{code}-eng.{side}").write_text(f"{code} {side} 1\n{code} {side} 2\n", "utf-8")
    c = load_tatoeba(tmp_path)
    assert c.languages == ("dtp", "en", "kzj", "sw")
    assert parse_directions("swh-eng", c) == (Direction("sw", "en"),)
    assert resolve_dataset(tmp_path, languages="swh").corpus.languages == ("en", "sw")


def test_xquad_has_all_twelve_languages_seven_by_default():
    spec = DATASETS["xquad"]
    assert spec.languages == ("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
    assert select_languages(spec) == ("ar", "de", "el", "en", "es", "ru", "zh")
    assert select_languages(spec, "all") == spec.languages


def test_path_language_subset_filters_questions_too():
    folder = upstream_named("xquad_tiny", "xquad.")
    data = resolve_dataset(folder, languages="de")
    assert data.corpus.languages == ("de",) and data.queries is not None and data.queries.languages == ("de",)
