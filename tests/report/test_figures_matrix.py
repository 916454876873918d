"""Figures of the many-language views (fast tier): the grid matches the matrix, marks match the verdicts."""

from __future__ import annotations

import numpy as np

from tests.report.matrix_fakes import Rec, fake_results
from xlr.report.figures_matrix import difference_heatmap, marginal_chart, matrix_heatmap
from xlr.report.marginals import language_marginals
from xlr.report.matrix import difference_matrix, language_matrix
from xlr.retrieval.directions import Direction


def test_matrix_heatmap_shows_the_values_and_intervals_and_escapes_codes():
    res = fake_results() + [Rec("A", Direction("<b>x</b>", "eng"), np.ones(5, dtype=np.int64))]
    mat = language_matrix(res, "A", n_resamples=50)
    fig = matrix_heatmap(mat)
    trace = fig.data[0]
    np.testing.assert_array_equal(np.asarray(trace.z, dtype=float), mat.values)
    assert "&lt;b&gt;x&lt;/b&gt;" in trace.y and "<b>x</b>" not in fig.to_json()
    assert np.asarray(trace.customdata).shape == (6, 6, 3)
    assert fig.layout.height <= 1400


def test_difference_heatmap_marks_exactly_the_significant_cells():
    res = fake_results(better=("B", "deu", "eng"))
    diff = difference_matrix(res, "A", "B", n_resamples=50)
    order = ("arb", "deu", "eng", "rus", "zho")
    fig = difference_heatmap(diff, order, "A", "B")
    text = np.asarray(fig.data[0].text)
    marked = {(order[i], order[j]) for i, j in zip(*np.nonzero(text != ""))}
    sig = {(s, t) for s, t, e in zip(diff["source"], diff["target"], diff["effect"]) if e != "no significant change"}
    assert marked == sig and ("deu", "eng") in marked
    assert text[1, 2] == "▲"


def test_marginal_chart_has_both_roles():
    m = language_marginals(fake_results(), "A", n_resamples=50)
    fig = marginal_chart(m, "recall@1")
    assert [t.name for t in fig.data] == ["as query", "as document"]
    assert len(fig.data[0].x) == 5
