"""AppTest of the Overview comparison and the URL state on real data with real bundled encoders.

Same small settings as test_app.py (Tatoeba, first 30 ids, e5-small and use-m3), so embeddings are shared.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.dashboard.test_app import FIRST, app, ok, overview, reference
from xlr.retrieval.metrics import per_query
from xlr.stats.paired import compare_directions
from xlr.stats.significance import paired_bootstrap, stratified_bootstrap

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tatoeba_results(e5, use_m3):
    from xlr.data.registry import resolve_dataset

    return reference(resolve_dataset("tatoeba", download_missing=False).corpus, [e5, use_m3])


def cell(value: float, lo: float, hi: float) -> str:
    return f"{value:.3f} [{lo:.3f}, {hi:.3f}]"


@pytest.mark.parametrize("metric", ["recall@1", "mrr"])
def test_intervals_and_ties_equal_xlr_stats(monkeypatch, tatoeba_results, metric):
    at = ok(app(monkeypatch, XLR_DEFAULT_MODELS="e5-small,use-m3").run())
    at.selectbox(key="ov.metric").set_value(metric)
    table = overview(ok(at.run()))
    assert list(table.columns[1:3]) == ["e5-small", "use-m3"]
    by = {(r.direction.label, r.model): r for r in tatoeba_results}
    directions = list(dict.fromkeys(r.direction.label for r in tatoeba_results))
    # use-m3's card has no Greek: el->en is shown but left out of the ranking and the mean row (fair rows)
    fair = [d for d in directions if d != "el->en"]
    assert list(table.iloc[:-1, 0]) == directions and table.iloc[-1, 0] == f"mean of {len(fair)} fair rows"
    n_tied = 0
    for i, d in enumerate(directions):
        values = {m: per_query(by[d, m].ranks, metric) for m in ("e5-small", "use-m3")}
        pair = compare_directions(
            {"e5-small | use-m3": (by[d, "e5-small"].ranks, by[d, "use-m3"].ranks)},
            metric=metric,
            random_state=0,
            n_resamples=2000,
        ).iloc[0]
        best = max(values, key=lambda m: values[m].mean())
        for m, v in values.items():
            lo, hi = paired_bootstrap(np.zeros_like(v), v, n_resamples=2000, random_state=0)
            shown = table.loc[i, m]
            assert shown.startswith(cell(v.mean(), lo, hi)), (d, m, shown)
            tied = m != best and not pair["significant"] and v.mean() < values[best].mean()
            assert (" =" in shown) == tied, (d, m, shown, pair["p_holm"])
            n_tied += tied
            assert ("★" in shown) == (v.mean() == values[best].mean())
    assert n_tied >= 1  # at 30 queries some rows do not separate the encoders
    for m in ("e5-small", "use-m3"):  # the mean row: its interval resamples queries within each direction
        groups = [per_query(by[d, m].ranks, metric) for d in fair]
        lo, hi = stratified_bootstrap(groups, n_resamples=2000, random_state=0)
        assert table.iloc[-1][m] == cell(float(np.mean([g.mean() for g in groups])), lo, hi)
    # use-m3 has no Greek (model card): its el cell is flagged
    assert "⚠ no el" in table.loc[directions.index("el->en"), "use-m3"]
    assert "⚠" not in table.loc[directions.index("el->en"), "e5-small"]


def test_url_holds_the_settings_and_restores_them(monkeypatch, tatoeba_results):
    at = ok(app(monkeypatch, XLR_DEFAULT_MODELS="e5-small,use-m3").run())
    at.sidebar.number_input(key="w.first").set_value(20)
    ok(at.run())
    params = {
        k: at.query_params[k][0] if isinstance(at.query_params[k], list) else at.query_params[k]
        for k in at.query_params
    }
    assert params["first"] == "20" and params["models"] == "e5-small,use-m3" and params["dataset"] == "tatoeba"
    shown = overview(at)
    # a fresh session opened on that URL (environment defaults differ) shows the same table
    fresh = app(monkeypatch, XLR_DEFAULT_MODELS="minilm-en", XLR_DEFAULT_FIRST="5")
    fresh.query_params.update(params)
    fresh = ok(fresh.run())
    assert overview(fresh).equals(shown)
    assert fresh.sidebar.number_input(key="w.first").value == 20


def test_failed_data_set_keeps_encoders_and_n(monkeypatch, tmp_path):
    at = ok(app(monkeypatch, XLR_DEFAULT_MODELS="e5-small,use-m3").run())
    at.sidebar.number_input(key="w.first").set_value(FIRST - 10)
    ok(at.run())
    monkeypatch.setenv("XLR_DATA_BASE_URL", "http://127.0.0.1:9")  # wiki6 is not here and cannot download
    at.sidebar.selectbox(key="w.dataset").set_value("wiki6")
    ok(at.run())
    assert at.error and not at.table
    assert at.sidebar.multiselect(key="w.models").value == ["e5-small", "use-m3"]
    at.sidebar.selectbox(key="w.dataset").set_value("tatoeba")
    ok(at.run())
    assert at.sidebar.multiselect(key="w.models").value == ["e5-small", "use-m3"]
    assert at.sidebar.number_input(key="w.first").value == FIRST - 10
    assert list(overview(at).columns[1:3]) == ["e5-small", "use-m3"]


def test_mixed_pool_on_the_overview_equals_the_library(monkeypatch, e5):
    from xlr.data.registry import resolve_dataset
    from xlr.encoders.cache import EmbeddingCache
    from xlr.encoders.corpus_vectors import CorpusEmbeddings
    from xlr.retrieval.directions import default_directions
    from xlr.retrieval.mixed_pool import evaluate_mixed

    at = ok(app(monkeypatch).run())
    at.toggle(key="ov.mixed").set_value(True)
    shown = ok(at.run()).dataframe[0].value
    corpus = resolve_dataset("tatoeba", download_missing=False).corpus
    expected = evaluate_mixed(
        corpus, CorpusEmbeddings(corpus, e5, EmbeddingCache()), default_directions(corpus), first=FIRST
    )
    assert list(shown["source"]) == [r.direction.source for r in expected]
    np.testing.assert_allclose(shown["top-1 own language"], [r.same_language for r in expected])
    np.testing.assert_allclose(shown["recall@1"], [float((r.ranks == 1).mean()) for r in expected])


def test_search_is_prefilled_from_a_link(monkeypatch):
    at = app(monkeypatch)
    at.query_params.update({"q": "Where is the cat?", "langs": "de"})
    ok(at.run())
    ok(at.switch_page("pages/4_Ad-hoc_search.py").run())
    assert at.text_area(key="search.text").value == "Where is the cat?"
    assert at.multiselect(key="search.langs").value == ["de"]
