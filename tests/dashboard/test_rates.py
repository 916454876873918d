"""Encoding-rate book (fast tier): rates per encoder and text-length bucket, stored, refined; never "0 texts/s"."""

from __future__ import annotations

from xlr.dashboard.jobs import JobSnapshot
from xlr.dashboard.rates import RateBook, bucket, rate_text


def test_unknown_until_measured_then_per_length_bucket(tmp_path):
    book = RateBook(tmp_path / "rates.json")
    short, para = ["a cat sat"] * 10, ["word " * 120] * 4
    est = book.estimate("e5-small", short)
    assert est.seconds is None and "unknown" in est.sentence()
    book.record("e5-small", ["x" * 600] * 30, seconds=10.0)  # paragraphs: 3 texts/s
    assert book.estimate("e5-small", short).seconds is None  # a paragraph rate says nothing of sentences
    assert book.estimate("e5-small", para).seconds == 4 / 3
    book.record("e5-small", ["short one"] * 100, seconds=5.0)  # sentences: 20 texts/s
    assert book.estimate("e5-small", short + para).seconds == 10 / 20 + 4 / 3
    assert book.estimate("use-m3", short).seconds is None  # per encoder
    again = RateBook(tmp_path / "rates.json")  # stored on disk
    assert again.estimate("e5-small", short).seconds == 10 / 20
    again.record("e5-small", ["short one"] * 100, seconds=15.0)  # refined: the texts and seconds add up
    assert again.estimate("e5-small", ["s"] * 10).seconds == 10 / (200 / 20)
    assert bucket("x" * 10) != bucket("x" * 600)


def test_rates_are_never_shown_as_zero():
    assert rate_text(None) == "rate unknown"
    assert rate_text(0.4) == "0.4 texts/s"
    assert rate_text(0.0) == "rate unknown"
    assert rate_text(26.4) == "26 texts/s"
    snap = JobSnapshot("Encoding", "running", 3, 100, 0.3, 300.0)
    assert "0 texts/s" not in snap.text() and "0.3 texts/s" in snap.text()
