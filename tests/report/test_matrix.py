"""Language x language views (fast tier): matrix, difference matrix, marginals, worst-N, filters,
each checked against a naive re-computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.report.matrix_fakes import LANGS, fake_results
from xlr.report.marginals import LanguageFilter, language_marginals, worst_directions
from xlr.report.matrix import (
    difference_grid,
    difference_matrix,
    language_matrix,
    language_order,
    models_of,
)
from xlr.retrieval.directions import Direction
from xlr.stats.paired import compare_ranks
from xlr.stats.significance import holm, stratified_bootstrap


def test_matrix_cells_equal_the_direction_means_and_intervals():
    res = fake_results()
    mat = language_matrix(res, "A", "recall@1", n_resamples=200, random_state=3)
    assert mat.languages == tuple(sorted(LANGS))
    pos = {lang: i for i, lang in enumerate(mat.languages)}
    shown = [r for r in res if r.model == "A"]
    children = np.random.default_rng(3).spawn(len(shown))
    for r, rng in zip(shown, children):
        i, j = pos[r.direction.source], pos[r.direction.target]
        v = (r.ranks <= 1).astype(float)
        assert mat.values[i, j] == v.mean()
        assert (mat.ci_low[i, j], mat.ci_high[i, j]) == stratified_bootstrap([v], n_resamples=200, random_state=rng)
        assert mat.n_queries[i, j] == 60
    assert np.isnan(np.diagonal(mat.values)).all()
    frame = mat.frame()
    assert len(frame) == 20 and set(frame.columns) >= {"source", "target", "value", "ci_low", "ci_high"}


def test_matrix_order_and_subset():
    res = fake_results()
    mat = language_matrix(res, "B", "mrr", order=("zho", "eng", "deu"), intervals=False)
    assert mat.languages == ("zho", "eng", "deu")
    ref = next(r for r in res if r.model == "B" and r.direction == Direction("zho", "deu"))
    assert mat.values[0, 2] == pytest.approx((1.0 / ref.ranks).mean(), abs=0)
    assert np.isnan(mat.ci_low).all()
    with pytest.raises(ValueError, match="no directions of model 'C'"):
        language_matrix(res, "C")


def test_language_order_groups_then_sorts():
    script = {"deu": "Latn", "eng": "Latn", "arb": "Arab", "zho": "Hani", "rus": "Cyrl", "fas": "Arab"}
    assert language_order(["rus", "eng", "fas", "deu", "arb", "zho"], script.get) == (
        "arb",
        "fas",
        "rus",
        "zho",
        "deu",
        "eng",
    )
    assert language_order(["b", "a", "b"]) == ("a", "b")
    assert models_of(fake_results()) == ["A", "B"]


def test_difference_matrix_is_compare_ranks_then_holm_over_the_shown_cells():
    res = fake_results(better=("B", "deu", "eng"))
    cells = [("deu", "eng"), ("eng", "deu"), ("arb", "zho")]
    diff = difference_matrix(res, "A", "B", "recall@1", cells=cells, n_resamples=100, random_state=0)
    ranks = {(r.model, r.direction.source, r.direction.target): r.ranks for r in res}
    naive_p = [compare_ranks(ranks[("A", s, t)], ranks[("B", s, t)], metric="recall@1").p_value for s, t in cells]
    assert list(zip(diff["source"], diff["target"])) == cells
    np.testing.assert_array_equal(diff["p_value"], naive_p)
    np.testing.assert_array_equal(diff["p_holm"], holm(naive_p))
    assert diff.loc[0, "effect"] == "improved"
    assert diff.loc[0, "delta"] == pytest.approx(1.0 - (ranks[("A", "deu", "eng")] <= 1).mean())
    # Holm over every cell: the family grows, the adjusted p of the same cell cannot shrink
    full = difference_matrix(res, "A", "B", "recall@1", n_resamples=100, random_state=0)
    assert len(full) == 20
    first = full[(full["source"] == "deu") & (full["target"] == "eng")]["p_holm"].item()
    assert first >= diff.loc[0, "p_holm"]
    grid = difference_grid(diff, ("deu", "eng"), "effect")
    assert grid[0, 1] == "improved" and grid[0, 0] is None
    assert difference_grid(diff, ("deu", "eng"))[1, 0] == diff.loc[1, "delta"]


def test_difference_matrix_refuses_cells_one_side_lacks():
    res = fake_results(models=("A",)) + fake_results(models=("B",), langs=("deu", "eng"))
    with pytest.raises(ValueError, match="not evaluated by both 'A' and 'B': arb->zho"):
        difference_matrix(res, "A", "B", cells=[("arb", "zho")])
    assert len(difference_matrix(res, "A", "B", n_resamples=50)) == 2


def test_marginals_equal_a_naive_mean_over_directions():
    res = fake_results()
    m = language_marginals(res, "A", "recall@5", n_resamples=100, random_state=1)
    assert len(m) == 2 * len(LANGS)
    assert list(m["language"][:2]) == ["arb", "arb"] and list(m["role"][:2]) == ["query", "document"]
    for row in m.itertuples():
        side = (lambda r: r.direction.source) if row.role == "query" else (lambda r: r.direction.target)
        groups = [(r.ranks <= 5).astype(float) for r in res if r.model == "A" and side(r) == row.language]
        assert row.n_directions == 4
        assert row.mean == pytest.approx(np.mean([g.mean() for g in groups]), abs=1e-15)
        assert row.ci_low <= row.mean <= row.ci_high
    sub = language_marginals(res, "A", "recall@5", languages=["eng", "deu"], n_resamples=50)
    assert list(sub["language"]) == ["eng", "eng", "deu", "deu"] and set(sub["n_directions"]) == {1}


def test_worst_directions():
    table = pd.DataFrame(
        {
            "model": ["A"] * 4,
            "source": ["a", "b", "c", "d"],
            "target": ["x"] * 4,
            "metric": ["recall@1", "recall@1", "mrr", "recall@1"],
            "value": [0.5, 0.1, 0.0, 0.1],
        }
    )
    worst = worst_directions(table, "recall@1", 2)
    assert list(worst["source"]) == ["b", "d"]
    with pytest.raises(ValueError, match="positive"):
        worst_directions(table, n=0)


def test_language_filter():
    script = {"deu": "Latn", "eng": "Latn", "arb": "Arab", "zho": "Hani", "rus": "Cyrl"}.get
    family = {"deu": "Indo-European", "eng": "Indo-European", "arb": "Afro-Asiatic", "zho": "Sino-Tibetan"}.get
    assert LanguageFilter().apply(LANGS) == LANGS
    assert LanguageFilter(languages=("eng", "zho", "xxx")).apply(LANGS) == ("eng", "zho")
    assert LanguageFilter(scripts=("Latn", "Hani")).apply(LANGS, script=script) == ("deu", "eng", "zho")
    assert LanguageFilter(families=("Indo-European",), scripts=("Latn",)).apply(
        LANGS, script=script, family=family
    ) == ("deu", "eng")
    assert LanguageFilter(supported_only=True).apply(LANGS, supported=lambda c: c != "rus") == LANGS[:4]
    with pytest.raises(ValueError, match="script filter needs"):
        LanguageFilter(scripts=("Latn",)).apply(LANGS)
