"""Fuzz the corpus loaders with valid and hostile JSONL lines (hypothesis).

Properties, for every generated file:

* loading raises nothing but :class:`CorpusError` (never a traceback);
* every issue names the file, a line within the file (or none for whole-file problems)
  and, where one field is at fault, that field; its sentence is one line;
* lenient = strict minus exactly the reported lines: the documents of a lenient load are
  those of a strict load of the file without the reported lines, and lenient reports
  the very issues strict raised.

The fast tier runs ``FAST_EXAMPLES`` examples; the slow tier ``SLOW_EXAMPLES``.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xlr.data.loaders import load_jsonl
from xlr.data.records import CorpusError

FAST_EXAMPLES = 300
SLOW_EXAMPLES = 10_000
FIELDS = {"id", "lang", "text", "title", "url"}
LABEL = "fuzz.jsonl"

ids = st.sampled_from(["1", "2", "3", "Q42", " pad ", "", '=HYPERLINK("http://x","y")'])
langs = st.sampled_from(["en", "de", "ar", "zh", "=cmd", "\x1b[31m", "en\u202e", " en"])
surrogates = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)
texts = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(max_codepoint=0x9F), max_size=10),  # controls, NUL, C1
    st.builds(lambda a, s, b: a + s + b, st.text(max_size=5), surrogates, st.text(max_size=5)),
)
odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    texts,
)


@st.composite
def records(draw) -> bytes:
    """One JSON object: valid fields mostly, any field possibly missing or of an odd type."""
    obj: dict[str, object] = {}
    for field, good in (("id", ids), ("lang", langs), ("text", texts), ("title", texts), ("url", texts)):
        choice = draw(st.sampled_from(["good", "good", "good", "odd", "missing"]))
        if choice == "good":
            obj[field] = draw(good)
        elif choice == "odd":
            obj[field] = draw(odd)
    if draw(st.booleans()):
        obj[draw(st.text(max_size=4))] = draw(odd)  # an extra key (ignored unless it shadows a field)
    return json.dumps(obj, ensure_ascii=draw(st.booleans()), allow_nan=True).encode("utf-8", "surrogatepass")


@st.composite
def hostile(draw) -> bytes:
    """A line an attacker would write."""
    kind = draw(st.sampled_from(["deep", "hugeint", "binary", "junk", "nul", "scalar", "bigid"]))
    if kind == "deep":
        depth = draw(st.sampled_from([2, 100, 5_000, 200_000]))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        return opener * depth + draw(st.sampled_from([b"", b"]" * depth]))
    if kind in ("hugeint", "bigid"):
        digits = b"9" * draw(st.sampled_from([4300, 4301, 5000]))
        field = draw(st.sampled_from([b"id", b"lang", b"title", b"text", b"other"]))
        return b'{"id": "x", "lang": "en", "text": "t", "' + field + b'": ' + digits + b"}"
    if kind == "binary":
        return draw(st.binary(max_size=40)).replace(b"\n", b"")
    if kind == "nul":
        return b'{"id": "n", "lang": "en", "text": "a\x00b"}'
    if kind == "scalar":
        return draw(st.sampled_from([b"1", b'"s"', b"null", b"[]", b"true", b"1e999", b"-", b"NaN"]))
    return draw(st.text(max_size=40)).replace("\n", "").encode("utf-8", "surrogatepass")


lines = st.lists(st.one_of(records(), records(), hostile(), st.just(b""), st.just(b"  ")), min_size=0, max_size=12)


@st.composite
def files(draw) -> tuple[list[bytes], bytes]:
    body = draw(lines)
    sep = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = sep.join(body) + (sep if body and draw(st.booleans()) else b"")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    return body, data


def _check_issues(err: CorpusError, n_lines: int) -> None:
    for issue in err.issues:
        assert issue.path == LABEL
        assert issue.line is None or 1 <= issue.line <= n_lines
        assert issue.field is None or issue.field in FIELDS
        assert issue.message and "\n" not in str(issue)
        str(issue).encode("utf-8")  # printable: no lone surrogate in a message


def _property(case: tuple[list[bytes], bytes]) -> None:
    body, data = case
    n_lines = len(body)
    try:
        strict = load_jsonl(data, name=LABEL)
        strict_issues: tuple = ()
    except CorpusError as exc:
        _check_issues(exc, n_lines)
        strict, strict_issues = None, exc.issues
    try:
        lenient = load_jsonl(data, name=LABEL, lenient=True)
    except CorpusError as exc:
        _check_issues(exc, n_lines)
        lenient = None
    if strict is not None:
        assert lenient is not None and lenient.documents == strict.documents
        assert lenient.report is not None and lenient.report.skipped == ()
        return
    if lenient is None:
        return  # nothing valid (or the whole file is unusable): both refuse
    assert lenient.report is not None and lenient.report.skipped == strict_issues
    bad = {i.line for i in strict_issues}
    assert None not in bad
    kept = [line for no, line in enumerate(body, start=1) if no not in bad]
    again = load_jsonl(b"\n".join(kept), name=LABEL)  # strict minus the reported lines: loads cleanly
    assert again.documents == lenient.documents
    for doc in lenient.documents:
        for field in FIELDS:
            getattr(doc, field).encode("utf-8")  # every value can be written to JSON/CSV/terminal


@settings(max_examples=FAST_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_fuzz_loaders_fast(case: tuple[list[bytes], bytes]) -> None:
    _property(case)


@pytest.mark.slow
@settings(max_examples=SLOW_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_fuzz_loaders_slow(case: tuple[list[bytes], bytes]) -> None:
    _property(case)
