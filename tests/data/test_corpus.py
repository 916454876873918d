"""Tests of xlr.corpus: records, Corpus lookups, JSONL/XQuAD/Tatoeba loaders and their errors."""

from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from upstream_fixtures import upstream_named

from xlr.data.corpus import detect_format, load_corpus
from xlr.data.loaders import load_jsonl, load_xquad
from xlr.data.records import (
    Corpus,
    CorpusError,
    Document,
    LoadIssue,
    LoadReport,
    NotInCorpus,
    Query,
    QuerySet,
)
from xlr.data.tatoeba import load_tatoeba

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "fixtures"


# ``shared_data`` (the read-only ../shared/data) comes from tests/conftest.py.


@pytest.fixture(scope="module")
def xquad_jsonl(shared_data: Path) -> Corpus:
    return load_jsonl(shared_data / "xquad-7lang.jsonl")


@pytest.fixture(scope="module")
def xquad_folder(shared_data: Path) -> tuple[Corpus, QuerySet]:
    return load_xquad(shared_data / "xquad")


@pytest.fixture(scope="module")
def tatoeba(shared_data: Path) -> Corpus:
    return load_tatoeba(shared_data / "tatoeba")


def write(tmp_path: Path, content: str | bytes, name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def line(**fields) -> str:
    return json.dumps(fields, ensure_ascii=False)


GOOD = line(id="Q1", lang="en", title="t", url="u", text="hello")


def strict_error(path: Path) -> CorpusError:
    with pytest.raises(CorpusError) as info:
        load_jsonl(path)
    return info.value


# ----------------------------------------------------------------- reference data


def test_xquad_jsonl_shape(xquad_jsonl: Corpus) -> None:
    c = xquad_jsonl
    assert len(c) == 1680
    assert c.name == "xquad-7lang"
    assert c.languages == ("ar", "de", "el", "en", "es", "ru", "zh")
    assert len(c.ids) == 240
    assert all(len(c.positions(lang)) == 240 for lang in c.languages)
    assert c.report is not None
    assert (
        c.report.n_lines,
        c.report.n_documents,
        c.report.skipped,
        c.report.unlinked,
    ) == (1680, 1680, (), ())
    assert c.ids[0] == "1973_oil_crisis#0"
    assert len(c.linked_ids("de", "en")) == 240
    assert c.linked_ids("de", "en", first=3) == (
        "1973_oil_crisis#0",
        "1973_oil_crisis#1",
        "1973_oil_crisis#2",
    )


def test_load_xquad_equals_derived_jsonl(xquad_jsonl: Corpus, xquad_folder: tuple[Corpus, QuerySet]) -> None:
    corpus, _ = xquad_folder
    key = lambda d: (d.id, d.lang)  # noqa: E731
    assert sorted(corpus.documents, key=key) == sorted(xquad_jsonl.documents, key=key)
    assert corpus.name == "xquad"
    assert corpus.report is not None and corpus.report.unlinked == ()
    assert "240" not in corpus.report.summary() and "1680 paragraphs" in corpus.report.summary()


def test_xquad_queries(xquad_folder: tuple[Corpus, QuerySet]) -> None:
    corpus, queries = xquad_folder
    assert len(queries) == 1190 * 7
    assert queries.languages == corpus.languages
    assert len({q.qid for q in queries.queries}) == len(queries)
    assert {q.gold_id for q in queries.queries} <= set(corpus.ids)
    assert all(q.text and q.text == q.text.strip() for q in queries.queries)
    gold: dict[str, set[str]] = {}
    for q in queries.queries:
        assert q.qid.endswith(f"/{q.lang}")
        gold.setdefault(q.qid.rsplit("/", 1)[0], set()).add(q.gold_id)
    assert len(gold) == 1190 and all(len(g) == 1 for g in gold.values())  # same question, same paragraph
    first = queries.queries[0]
    assert first == Query(
        "56beb4343aeaaa14008c925b/ar",
        "ar",
        "كم نقطة تخلى عنها دفاع البانثرز؟",
        "Super_Bowl_50#0",
    )


def test_tatoeba_shared(tatoeba: Corpus, shared_data: Path) -> None:
    c = tatoeba
    assert len(c) == 10000
    assert c.languages == ("ar", "de", "el", "en", "fr", "zh")
    assert len({(d.id, d.lang) for d in c.documents}) == 10000
    assert len(c.ids) == 5000
    assert len(c.positions("ar")) == 1000 and len(c.positions("en")) == 5000
    assert len(c.linked_ids("ar", "en")) == 1000
    assert c.linked_ids("ar", "de") == ()
    assert c.linked_ids("zh", "en", first=2) == ("cmn-eng:0", "cmn-eng:1")
    lines = (shared_data / "tatoeba" / "tatoeba.deu-eng.deu").read_text("utf-8").splitlines()
    assert c.documents[c.index("deu-eng:7", "de")].text == lines[7]
    en = c.documents[c.index("deu-eng:7", "en")]
    assert en.text == (shared_data / "tatoeba" / "tatoeba.deu-eng.eng").read_text("utf-8").splitlines()[7]
    assert en.title == "" and en.url.endswith("/data/tatoeba/v1/tatoeba.deu-eng.eng")
    assert c.report is not None and c.report.unlinked == () and c.report.n_lines == 10000


def test_tatoeba_extra_pair_is_picked_up(tmp_path: Path, shared_data: Path) -> None:
    for name in ("tatoeba.ara-eng.ara", "tatoeba.ara-eng.eng"):
        shutil.copy(shared_data / "tatoeba" / name, tmp_path / name)
    for f in (upstream_named("tatoeba_xyz", "tatoeba.")).iterdir():
        shutil.copy(f, tmp_path / f.name)
    (tmp_path / "README.md").write_text("ignored")
    c = load_tatoeba(tmp_path)
    assert c.languages == ("ar", "en", "xyz")
    assert len(c) == 2006
    assert c.linked_ids("xyz", "en") == ("xyz-eng:0", "xyz-eng:1", "xyz-eng:2")
    assert c.texts(c.positions("xyz")) == ["Xallo.", "Xow xre xou?", "Xood xight."]
    assert load_corpus(tmp_path) == c


@pytest.mark.parametrize(
    "files, expected",
    [
        (
            {"tatoeba.xyz-eng.xyz": "a\nb\nc\n", "tatoeba.xyz-eng.eng": "a\nb\n"},
            "tatoeba.xyz-eng.xyz has 3 lines but tatoeba.xyz-eng.eng has 2",
        ),
        (
            {"tatoeba.xyz-eng.xyz": "a\n\nc\n", "tatoeba.xyz-eng.eng": "a\nb\nc\n"},
            "tatoeba.xyz-eng.xyz, line 2: empty line",
        ),
        ({"tatoeba.xyz-eng.xyz": "a\nb\n"}, "tatoeba.xyz-eng.eng: file not found"),
        (
            {"tatoeba.xyz-eng.xyz": b"a\nb\xffc\n", "tatoeba.xyz-eng.eng": "a\nb\n"},
            "tatoeba.xyz-eng.xyz, line 2: not valid UTF-8: byte 0xff at byte offset 3 of the file",
        ),
        (
            {"tatoeba.xyz-eng.xyz": "", "tatoeba.xyz-eng.eng": ""},
            "tatoeba.xyz-eng.xyz: empty file",
        ),
    ],
)
def test_tatoeba_errors(tmp_path: Path, files: dict[str, str | bytes], expected: str) -> None:
    for name, content in files.items():
        write(tmp_path, content, name)
    with pytest.raises(CorpusError) as info:
        load_tatoeba(tmp_path)
    assert expected in str(info.value)


def test_tatoeba_crlf_and_no_final_newline(tmp_path: Path) -> None:
    write(tmp_path, "x one\r\nx two", "tatoeba.deu-eng.deu")
    write(tmp_path, "one\r\ntwo\r\n", "tatoeba.deu-eng.eng")
    c = load_tatoeba(tmp_path)
    assert c.texts(range(4)) == ["x one", "x two", "one", "two"]
    assert c.languages == ("de", "en")


def test_tatoeba_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no Tatoeba file"):
        load_tatoeba(tmp_path)
    with pytest.raises(CorpusError, match="folder not found"):
        load_tatoeba(tmp_path / "nope")


# ----------------------------------------------------------------- Corpus API


@pytest.fixture()
def tiny() -> Corpus:
    return load_jsonl(DATA / "tiny.jsonl")


def test_tiny_fixture(tiny: Corpus) -> None:
    assert tiny.name == "tiny"
    assert tiny.languages == ("de", "en", "fr")
    assert tiny.ids == ("Q1", "Q2", "Q3")
    assert tiny.documents[2] == Document("Q2", "en", "", "Berlin is the capital of Germany.", "")
    assert tiny.documents[4].title == "" and tiny.documents[4].url == ""  # null -> ""
    assert tiny.report == LoadReport(str(DATA / "tiny.jsonl"), 6, 5, (), (("Q3", "fr"),))
    assert "1 document whose id occurs in one language only" in tiny.report.summary()


def test_index_positions_linked(tiny: Corpus) -> None:
    assert tiny.index("Q2", "de") == 3
    with pytest.raises(KeyError, match="'Q2' in language 'fr'"):
        tiny.index("Q2", "fr")
    pos = tiny.positions("en")
    assert pos.dtype == np.int64 and pos.tolist() == [0, 2]
    with pytest.raises(ValueError):
        pos[0] = 5  # read-only: the corpus's own lookup
    with pytest.raises(KeyError, match="'es'.*de, en, fr"):
        tiny.positions("es")
    assert tiny.linked_ids("en", "de") == ("Q1", "Q2")
    assert tiny.linked_ids("en", "de", first=1) == ("Q1",)
    assert tiny.linked_ids("en", "de", first=0) == ()
    assert tiny.linked_ids("en", "fr") == ()
    assert tiny.linked_ids("fr", "fr") == ("Q3",)
    with pytest.raises(ValueError, match="first"):
        tiny.linked_ids("en", "de", first=-1)
    with pytest.raises(KeyError):
        tiny.linked_ids("en", "xx")
    with pytest.raises(ValueError) as err:  # the same error is a ValueError for callers that validate input
        tiny.linked_ids("xx", "en")
    assert isinstance(err.value, NotInCorpus) and str(err.value).startswith("language 'xx' is not in corpus")


def test_subset_and_texts(tiny: Corpus) -> None:
    sub = tiny.subset(ids=["Q2", "Q1"], langs=["en"])
    assert [(d.id, d.lang) for d in sub.documents] == [
        ("Q1", "en"),
        ("Q2", "en"),
    ]  # corpus order kept
    assert sub.name == "tiny" and sub.report is None
    assert tiny.subset(langs=["de"], name="de-only").name == "de-only"
    assert len(tiny.subset()) == 5
    with pytest.raises(KeyError, match="1 ids not in corpus"):
        tiny.subset(ids=["Q9"])
    with pytest.raises(KeyError, match="'xx'"):
        tiny.subset(langs=["xx"])
    assert tiny.texts([2, 0], field="title+text") == [
        "Berlin is the capital of Germany.",
        "paris\nParis is the capital of France.",
    ]
    assert tiny.texts(np.array([1])) == ["Paris ist die Hauptstadt Frankreichs."]
    assert tiny.texts([]) == []
    with pytest.raises(IndexError, match="position 5"):
        tiny.texts([5])
    with pytest.raises(IndexError):
        tiny.texts([-1])
    with pytest.raises(ValueError, match="field must be one of"):
        tiny.texts([0], field="title")


def test_corpus_equality_and_validation(tiny: Corpus) -> None:
    same = Corpus(tiny.name, list(tiny.documents), tiny.report)
    assert same == tiny and hash(same) == hash(tiny)
    assert "_index" not in repr(tiny) and "_positions" not in repr(tiny)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.name = "x"  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(tiny))
    assert again == tiny and again.positions("en").tolist() == [0, 2] and not again.positions("en").flags.writeable
    renamed = dataclasses.replace(tiny, name="other")
    assert renamed.name == "other" and renamed.index("Q3", "fr") == 4
    doc = Document("a", "en", "", "x")
    with pytest.raises(
        CorpusError,
        match="duplicate document: id 'a' in language 'en' at positions 0 and 1",
    ):
        Corpus("c", (doc, doc))
    with pytest.raises(CorpusError, match="item 0 is a str"):
        Corpus("c", ("a",))  # type: ignore[arg-type]
    empty = Corpus("empty", ())
    assert (len(empty), empty.languages, empty.ids) == (0, (), ())


def test_queryset() -> None:
    qs = QuerySet("q", [Query("1/en", "en", "x?", "a"), Query("1/de", "de", "x?", "a")])
    assert isinstance(qs.queries, tuple) and qs.languages == ("de", "en") and len(qs) == 2


def test_issue_and_error_text() -> None:
    a = LoadIssue("data.jsonl", 7, "text", "empty value")
    assert str(a) == "data.jsonl, line 7, field 'text': empty value"
    assert str(LoadIssue("f", None, None, "file not found")) == "f: file not found"
    assert str(LoadIssue("f", 3, None, "m")) == "f, line 3: m"
    err = CorpusError(
        [
            a,
            LoadIssue("data.jsonl", 9, None, "x"),
            LoadIssue("data.jsonl", 10, None, "y"),
        ]
    )
    assert str(err) == "data.jsonl, line 7, field 'text': empty value (and 2 more)"
    assert isinstance(err, ValueError) and len(err.issues) == 3
    again = pickle.loads(pickle.dumps(err))
    assert again.issues == err.issues and str(again) == str(err)
    assert str(CorpusError(a)) == str(a)


# ----------------------------------------------------------------- JSONL errors


BAD_LINES = [
    # (line 2 content, field, message fragment)
    (
        '{"id": "Q2", "lang" "en", "text": "x"}',
        None,
        "invalid JSON at column 21: Expecting ':' delimiter",
    ),
    ("[1, 2]", None, "expected a JSON object, got a JSON array"),
    ('"just a string"', None, "expected a JSON object, got a JSON string"),
    (line(id="Q2", lang="en"), "text", "missing (required)"),
    (line(id="Q2", text="x"), "lang", "missing (required)"),
    (line(id="Q2", lang="en", text=""), "text", "empty value"),
    (line(id="Q2", lang="en", text=" \t "), "text", "empty value"),
    (line(id="", lang="en", text="x"), "id", "empty value"),
    (
        line(id=4.2, lang="en", text="x"),
        "id",
        "expected a string, got a JSON number (4.2)",
    ),
    (
        line(id=True, lang="en", text="x"),
        "id",
        "expected a string, got a JSON boolean (true)",
    ),
    (
        line(id="Q2", lang=["en"], text="x"),
        "lang",
        'expected a string, got a JSON array (["en"])',
    ),
    (line(id="Q2", lang=None, text="x"), "lang", "null value"),
    (
        line(id="Q2", lang=" en", text="x"),
        "lang",
        "leading or trailing whitespace in ' en'",
    ),
    (
        line(id="Q2 ", lang="en", text="x"),
        "id",
        "leading or trailing whitespace in 'Q2 '",
    ),
    (
        line(id="Q2", lang="en", text="x", title=3),
        "title",
        "expected a string, got a JSON number (3)",
    ),
    (
        line(id="Q2", lang="en", text="x", url=True),
        "url",
        "expected a string, got a JSON boolean (true)",
    ),
    (
        GOOD,
        "id",
        "duplicate document: id 'Q1' in language 'en' already appeared on line 1",
    ),
]


@pytest.mark.parametrize("bad, field, fragment", BAD_LINES)
def test_jsonl_bad_line_strict(tmp_path: Path, bad: str, field: str | None, fragment: str) -> None:
    path = write(tmp_path, "\n".join([GOOD, bad, line(id="Q3", lang="en", text="z")]) + "\n")
    err = strict_error(path)
    where = f"{path}, line 2" + (f", field '{field}'" if field else "")
    assert str(err) == f"{where}: {err.issues[0].message}"
    assert fragment in str(err)
    assert len(err.issues) == 1 and err.issues[0].line == 2 and err.issues[0].field == field


def test_jsonl_non_utf8(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.encode() + b"\n" + b'{"id": "Q2", "lang": "en", "text": "caf\xe9"}\n',
    )
    err = strict_error(path)
    offset = len(GOOD) + 1 + 39
    assert str(err) == (
        f"{path}, line 2: not valid UTF-8: byte 0xe9 at byte offset {offset} of the file (byte 40 of the line)"
    )


def test_jsonl_collects_every_bad_line(tmp_path: Path) -> None:
    err = strict_error(DATA / "mixed.jsonl")
    assert [(i.line, i.field) for i in err.issues] == [
        (2, "text"),
        (4, "id"),
        (5, "id"),
        (7, None),
    ]
    assert str(err).endswith("(and 3 more)")
    assert "mixed.jsonl, line 2, field 'text': empty value" in str(err)


def test_jsonl_lenient_records_skipped() -> None:
    c = load_jsonl(DATA / "mixed.jsonl", lenient=True)
    assert c.report is not None
    assert (c.report.n_lines, c.report.n_documents, len(c)) == (8, 3, 3)
    assert [i.line for i in c.report.skipped] == [2, 4, 5, 7]
    assert [(d.id, d.lang, d.text) for d in c.documents] == [
        ("Q1", "en", "one"),
        ("Q1", "de", "eins"),
        ("Q2", "de", "zwei"),
    ]
    assert c.report.unlinked == (("Q2", "de"),)
    summary = c.report.summary()
    assert "3 documents from 8 lines; 4 lines skipped (line 2, field 'text': empty value; " in summary, summary
    assert "line 5, field 'id': expected a string, got a JSON number (2.5); and 1 more: line 7)" in summary, summary


def test_lenient_summary_gives_each_skipped_line_its_reason_then_a_count(tmp_path: Path) -> None:
    """Lenient mode listed skipped line numbers without their reasons (issue 19)."""
    f = tmp_path / "bad.jsonl"
    good = '{"id": "a", "lang": "en", "text": "x"}'
    f.write_text("\n".join([good, *(f'{{"id": {n}, "lang": "en", "text": "x"}}' for n in range(2, 9))]) + "\n")
    summary = load_jsonl(f, lenient=True).report.summary()
    assert "7 lines skipped (line 2, field 'id': expected a string, got a JSON number (2); line 3, " in summary
    assert "line 4, field 'id': expected a string, got a JSON number (4); and 4 more: lines 5, 6, 7, 8)" in summary
    assert str(f) not in summary.partition("skipped")[2]  # the file is named once, at the start


@pytest.mark.parametrize(
    "content, fragment",
    [(b"", "empty file"), (b"\n  \n\t\n", "no data: all 3 lines are blank")],
)
@pytest.mark.parametrize("lenient", [False, True])
def test_jsonl_empty_file(tmp_path: Path, content: bytes, fragment: str, lenient: bool) -> None:
    path = write(tmp_path, content)
    with pytest.raises(CorpusError) as info:
        load_jsonl(path, lenient=lenient)
    assert str(info.value).startswith(f"{path}: ") and fragment in str(info.value)


def test_jsonl_lenient_all_bad(tmp_path: Path) -> None:
    path = write(tmp_path, "[1]\n{}\n")
    with pytest.raises(CorpusError) as info:
        load_jsonl(path, lenient=True)
    assert str(info.value) == f"{path}: no valid document: all 2 non-blank lines have problems (and 2 more)"
    assert [i.line for i in info.value.issues[1:]] == [1, 2]


def test_jsonl_missing_path_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CorpusError) as info:
        load_jsonl(tmp_path / "nope.jsonl")
    assert str(info.value) == f"{tmp_path / 'nope.jsonl'}: file not found"
    with pytest.raises(CorpusError, match="is a folder"):
        load_jsonl(tmp_path)


def test_jsonl_blank_lines_crlf_bom_and_bytes(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + GOOD.encode() + b"\r\n\r\n   \n" + line(id="Q1", lang="de", text="hallo").encode()
    c = load_jsonl(raw, name="upload.jsonl")
    assert c.name == "upload" and len(c) == 2
    assert c.report is not None and c.report.n_lines == 4 and c.report.path == "upload.jsonl"
    with pytest.raises(CorpusError) as info:
        load_jsonl(b"\n" + b"{bad\n", name="upload.jsonl")
    assert str(info.value).startswith("upload.jsonl, line 2: invalid JSON at column 2")
    with pytest.raises(CorpusError, match=r"^<upload>, line 1"):
        load_jsonl(b"[]")


documents = st.lists(
    st.builds(
        Document,
        id=st.text(min_size=1, max_size=8).filter(lambda s: s.strip() == s and s.strip()),
        lang=st.sampled_from(["en", "de", "zh", "ar"]),
        title=st.text(max_size=10),
        text=st.text(min_size=1, max_size=30).filter(lambda s: s.strip()),
        url=st.text(max_size=10),
    ),
    max_size=12,
    unique_by=lambda d: (d.id, d.lang),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(documents)
def test_jsonl_roundtrip(docs: list[Document]) -> None:
    if not docs:
        return
    raw = "\n".join(json.dumps(dataclasses.asdict(d), ensure_ascii=False) for d in docs).encode("utf-8")
    c = load_jsonl(raw, name="gen.jsonl")
    assert c.documents == tuple(docs)
    langs: dict[str, set[str]] = {}
    for d in docs:
        langs.setdefault(d.id, set()).add(d.lang)
    assert c.report is not None
    assert c.report.unlinked == tuple((d.id, d.lang) for d in docs if len(langs[d.id]) == 1)


# ----------------------------------------------------------------- XQuAD errors and dispatch


def test_xquad_tiny_folder_and_files() -> None:
    corpus, queries = load_xquad(upstream_named("xquad_tiny", "xquad."))
    assert corpus.languages == ("de", "en") and corpus.ids == (
        "Alpha_beta#0",
        "Alpha_beta#1",
        "Gamma#0",
    )
    doc = corpus.documents[corpus.index("Alpha_beta#0", "en")]
    assert doc == Document(
        "Alpha_beta#0",
        "en",
        "alpha beta",
        "The first paragraph.",
        "https://github.com/google-deepmind/xquad/blob/master/xquad.en.json",
    )
    assert [q.qid for q in queries.queries if q.lang == "en"] == [
        "q1/en",
        "q2/en",
        "q3/en",
    ]
    assert queries.queries[3] == Query("q1/en", "en", "Which paragraph?", "Alpha_beta#0")
    single, single_q = load_xquad([upstream_named("xquad_tiny", "xquad.") / "xquad.de.json"])
    assert single.languages == ("de",) and len(single_q) == 3
    assert single.report is not None and len(single.report.unlinked) == 3


def _xquad(tmp_path: Path, payload: object | str, lang: str = "en") -> Path:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return write(tmp_path, text, f"xquad.{lang}.json")


@pytest.mark.parametrize(
    "payload, fragment",
    [
        (
            '{"data": [\n  {"title": "A",,}]}',
            ", line 2: invalid JSON at column 17: Expecting property name",
        ),
        ({"version": "1.1"}, ", field 'data': missing (required)"),
        ({"data": {}}, ", field 'data': expected a JSON array, got a JSON object"),
        (
            {"data": [{"title": "", "paragraphs": []}]},
            ", field 'data[0].title': empty value",
        ),
        (
            {"data": [{"title": "A", "paragraphs": [{"qas": []}]}]},
            ", field 'data[0].paragraphs[0].context': missing (required)",
        ),
        (
            {
                "data": [
                    {
                        "title": "A",
                        "paragraphs": [{"context": "c", "qas": [{"id": "q", "question": 5}]}],
                    }
                ]
            },
            ", field 'data[0].paragraphs[0].qas[0].question': expected a JSON string, got a JSON number",
        ),
        (
            {
                "data": [
                    {"title": "A", "paragraphs": [{"context": "c", "qas": []}]},
                    {"title": "A", "paragraphs": [{"context": "d", "qas": []}]},
                ]
            },
            ", field 'data[1].title': duplicate paragraph id 'A#0'",
        ),
        (
            {
                "data": [
                    {
                        "title": "A",
                        "paragraphs": [{"context": "c", "qas": [{"id": "q", "question": "?"}] * 2}],
                    }
                ]
            },
            ", field 'data[0].paragraphs[0].qas[1].id': duplicate question id 'q'",
        ),
    ],
)
def test_xquad_errors(tmp_path: Path, payload: object, fragment: str) -> None:
    path = _xquad(tmp_path, payload)
    with pytest.raises(CorpusError) as info:
        load_xquad(tmp_path)
    assert str(info.value).startswith(str(path)) and fragment in str(info.value)


def test_xquad_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="no XQuAD file"):
        load_xquad(tmp_path)
    with pytest.raises(CorpusError, match="folder not found"):
        load_xquad(tmp_path / "nope")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(
        upstream_named("xquad_tiny", "xquad.") / "xquad.en.json",
        other / "xquad.en.json",
    )
    with pytest.raises(CorpusError, match="second file for language 'en'"):
        load_xquad(
            [
                upstream_named("xquad_tiny", "xquad.") / "xquad.en.json",
                other / "xquad.en.json",
            ]
        )
    bad = write(tmp_path, b'{"data":\n "\xff"}', "xquad.en.json")
    with pytest.raises(CorpusError) as info:
        load_xquad([bad])
    assert str(info.value) == f"{bad}, line 2: not valid UTF-8: byte 0xff at byte offset 11 of the file"


def test_detect_format_and_load_corpus(tmp_path: Path) -> None:
    assert detect_format(DATA / "tiny.jsonl") == "jsonl"
    assert detect_format(upstream_named("xquad_tiny", "xquad.")) == "xquad"
    assert detect_format(upstream_named("xquad_tiny", "xquad.") / "xquad.en.json") == "xquad"
    assert detect_format(upstream_named("tatoeba_xyz", "tatoeba.")) == "tatoeba"
    assert load_corpus(upstream_named("xquad_tiny", "xquad.")) == load_xquad(upstream_named("xquad_tiny", "xquad."))[0]
    assert len(load_corpus(DATA / "mixed.jsonl", lenient=True)) == 3
    assert load_corpus(upstream_named("tatoeba_xyz", "tatoeba.")).languages == (
        "en",
        "xyz",
    )
    with pytest.raises(CorpusError, match="no such file or folder"):
        load_corpus(tmp_path / "nope.jsonl")
    with pytest.raises(CorpusError, match="unsupported file"):
        load_corpus(write(tmp_path, "x", "data.csv"))
    with pytest.raises(CorpusError, match="no xquad.<lang>.json, tatoeba"):
        load_corpus(tmp_path)
    for f in [
        *(upstream_named("xquad_tiny", "xquad.")).iterdir(),
        *(upstream_named("tatoeba_xyz", "tatoeba.")).iterdir(),
    ]:
        shutil.copy(f, tmp_path / f.name)
    with pytest.raises(CorpusError, match="both XQuAD and Tatoeba"):
        load_corpus(tmp_path)


def test_numeric_ids_are_refused_as_the_docs_require_strings(tmp_path):
    """``"id": 1490`` was read as "1490" although docs/dashboard.md requires strings (issue 19)."""
    f = tmp_path / "ints.jsonl"
    f.write_text(
        '{"id": "7", "lang": "en", "text": "x"}\n{"id": 1490, "lang": "en", "text": "x"}\n'
        '{"id": "7", "lang": "de", "text": "y"}\n'
    )
    err = strict_error(f)
    assert f"{f}, line 2, field 'id': expected a string, got a JSON number (1490)" in str(err)
    c = load_jsonl(f, lenient=True)
    assert c.ids == ("7",)
    assert [(i.line, i.field) for i in c.report.skipped] == [(2, "id")]
    assert "expected a string" in c.report.skipped[0].message
