"""Encoding-rate book (fast tier): rates per encoder and text-length bucket, stored, refined; never "0 texts/s"."""

from __future__ import annotations

import pytest

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


def test_a_mixed_job_measures_every_length_bucket_it_holds(tmp_path):
    """Issue 19 (bench/strategies_estimate.py): a job was booked whole to its majority bucket, so on
    Tatoeba (mostly <= 80 characters) the longer sentences never got a rate and every Strategies
    estimate stayed "unknown". Now each bucket gets its texts and a share of the seconds by characters."""
    book = RateBook(tmp_path / "rates.json")
    short, long = ["s" * 40] * 90, ["l" * 200] * 10  # 3600 and 2000 characters
    book.record("e5-small", short + long, seconds=5.6)
    assert book.rate("e5-small", bucket(long[0])) == pytest.approx(10 / 2.0)
    assert book.rate("e5-small", bucket(short[0])) == pytest.approx(90 / 3.6)


def test_a_few_texts_of_an_unmeasured_length_borrow_the_nearest_rate(tmp_path):
    """A handful of longer texts in a job of measured length no longer make the whole estimate unknown:
    up to a tenth of the texts take the rate of the nearest measured bucket (said in the sentence);
    more than that stays unknown (a rate measured on sentences says nothing of paragraphs)."""
    book = RateBook(tmp_path / "rates.json")
    book.record("e5-small", ["s" * 40] * 100, seconds=5.0)  # 20 texts/s
    few = book.estimate("e5-small", ["s" * 40] * 95 + ["l" * 200] * 5)
    assert few.seconds == pytest.approx(100 / 20) and "rate of short sentences" in few.sentence(), few.sentence()
    many = book.estimate("e5-small", ["s" * 40] * 50 + ["l" * 200] * 50)
    assert many.seconds is None and "unknown" in many.sentence()
    assert book.estimate("e5-small", ["l" * 2000] * 3).seconds is None


def test_a_child_process_start_up_is_priced_per_start_not_per_text(tmp_path):
    """Issue 19 (bench/strategies_estimate.py): the first visit's small jobs (50 texts a role, each in a
    fresh encoding process) booked the process's start-up as encoding time, so their rate was a fifth of
    a long job's and the Strategies estimate four times the measured time. Start-ups are kept apart."""
    book = RateBook(tmp_path / "rates.json")
    book.record("e5-small", ["s" * 40] * 50, seconds=0.5, startup=3.0)  # 100 texts/s once started
    book.record("e5-small", ["s" * 40] * 50, seconds=0.5, startup=5.0)
    assert book.rate("e5-small", bucket("s" * 40)) == pytest.approx(100.0)
    assert book.startup("e5-small") == pytest.approx(4.0) and book.startup("use-m3") == 0.0
    assert book.estimate("e5-small", ["s" * 40] * 1000, starts=2).seconds == pytest.approx(2 * 4.0 + 10.0)
    assert RateBook(tmp_path / "rates.json").startup("e5-small") == pytest.approx(4.0)  # stored
