"""Encoders side by side (fast tier): intervals and ties come from xlr.stats; ranking; ceiling; flags; charts."""

from __future__ import annotations

import numpy as np

from xlr.report import figures
from xlr.report.encoder_table import compare_encoders, wide
from xlr.retrieval.directions import Direction
from xlr.retrieval.evaluate import DirectionResult, results_table
from xlr.stats.paired import compare_directions
from xlr.stats.significance import paired_bootstrap, stratified_bootstrap


def result(model: str, source: str, ranks) -> DirectionResult:
    ranks = np.asarray(ranks, dtype=np.int64)
    n = ranks.size
    idx = np.arange(n, dtype=np.int64)
    return DirectionResult(model, Direction(source, "en"), tuple(map(str, range(n))), idx, idx, idx, ranks, 0)


def test_ties_ranking_ceiling_and_flags():
    strong, weak, close = (np.ones(200, dtype=np.int64) for _ in range(3))
    strong[-20:] = 5  # 180 hits
    close[:24] = 5  # 176 hits; 24 vs 20 discordant queries with strong: not significant
    weak[:100] = 5  # 100 hits
    results = [
        result("e5-small", "ar", strong),
        result("use-m3", "ar", weak),
        result("minilm-en", "ar", close),
        result("e5-small", "el", np.ones(200)),
        result("use-m3", "el", np.ones(200)),
        result("minilm-en", "el", np.ones(200)),
    ]
    comp = compare_encoders(results, "recall@1", n_resamples=500, random_state=3, dataset="tatoeba", fair_only=False)
    ar = comp.cells[comp.cells["direction"] == "ar->en"].set_index("model")
    # e5-small is best; minilm-en is not separated from it; use-m3 is clearly worse
    assert ar.loc["e5-small", "best"] and ar.loc["minilm-en", "tied"] and not ar.loc["use-m3", "tied"]
    table = compare_directions(
        {
            "e5-small | use-m3": (strong, weak),
            "e5-small | minilm-en": (strong, close),
            "use-m3 | minilm-en": (weak, close),
        },
        metric="recall@1",
        random_state=3,
        n_resamples=500,
    )
    assert list(comp.pairs[comp.pairs["direction"] == "ar->en"]["p_holm"]) == list(table["p_holm"])
    lo, hi = paired_bootstrap(np.zeros(200), (strong <= 1).astype(float), n_resamples=500, random_state=3)
    assert (ar.loc["e5-small", "ci_low"], ar.loc["e5-small", "ci_high"]) == (lo, hi)
    ranks = comp.ranking.set_index("model")["rank"]
    assert ranks["e5-small"] == ranks["minilm-en"] == 1 and ranks["use-m3"] == 3
    assert comp.ceiling == ("el->en",)
    # model cards: use-m3 has no Greek; minilm-en is English-only; published figures shown for e5-small
    el = comp.cells[comp.cells["direction"] == "el->en"].set_index("model")
    assert el.loc["use-m3", "unsupported"] == "el" and el.loc["minilm-en", "unsupported"] == "el"
    assert el.loc["e5-small", "published"] == 0.896
    shown = wide(comp)
    assert list(shown.columns[:4]) == ["direction", "e5-small", "use-m3", "minilm-en"]
    assert shown.iloc[0]["e5-small"].endswith("★") and "] =" in shown.iloc[0]["minilm-en"]
    assert "⚠ no el" in shown.iloc[1]["use-m3"] and shown.iloc[-1]["direction"] == "mean of rows"
    # the mean row: mean of the row values, its interval from the stratified bootstrap over the same queries
    overall = comp.overall.set_index("model")
    lo, hi = stratified_bootstrap([(strong <= 1).astype(float), np.ones(200)], n_resamples=500, random_state=3)
    assert overall.loc["e5-small", "value"] == (180 / 200 + 1.0) / 2
    assert (overall.loc["e5-small", "ci_low"], overall.loc["e5-small", "ci_high"]) == (lo, hi)
    assert shown.iloc[-1]["e5-small"] == f"{(180 / 200 + 1.0) / 2:.3f} [{lo:.3f}, {hi:.3f}]"


def test_one_encoder_is_its_own_best_and_needs_no_tests():
    comp = compare_encoders([result("e5-small", "ar", [1, 2, 1, 3])], "mrr", n_resamples=200)
    assert comp.pairs.empty and comp.ranking["rank"].tolist() == [1] and comp.cells["best"].all()


def test_bars_stay_legible_with_42_directions():
    langs = [f"l{i}" for i in range(7)]
    results = [
        DirectionResult(
            m,
            Direction(s, t),
            ("a",),
            np.zeros(1),
            np.zeros(1),
            np.zeros(1, dtype=np.int64),
            np.ones(1, dtype=np.int64),
            0,
        )
        for m in ("a", "b")
        for s in langs
        for t in langs
        if s != t
    ]
    fig = figures.metric_bars(results_table(results, (1,)), "recall@1")
    bars = fig.data[0]
    assert bars.orientation == "h" and len(bars.y) == 42 and fig.layout.yaxis.dtick == 1
    assert fig.layout.height >= 42 * 20  # at least 20 px per direction row


def test_published_figure_matches_three_letter_codes() -> None:
    from xlr.report.encoder_table import published_figure

    assert published_figure("e5-small", "ara", "eng", "recall@1", "tatoeba") == 0.799
    assert published_figure("e5-small", "cmn", "eng", "recall@1", "tatoeba") == published_figure(
        "e5-small", "zh", "en", "recall@1", "tatoeba"
    )
    assert published_figure("e5-small", "eng", "ara", "recall@1", "tatoeba") is None


def test_ranking_and_mean_use_fair_rows_only_by_default():
    """XQuAD-like: every row is 1.000 except el->en, where use-m3 (no Greek on its card) fails. The ranking
    and the mean row leave el->en out (named), so nothing separates the encoders; the toggle puts it back."""
    perfect = np.ones(60, dtype=np.int64)
    poor = np.where(np.arange(60) < 40, 7, 1)
    results = [result(m, lang, perfect) for lang in ("ar", "de", "zh") for m in ("e5-small", "use-m3")]
    results += [result("e5-small", "el", perfect), result("use-m3", "el", poor)]
    comp = compare_encoders(results, "recall@1", n_resamples=300, random_state=0)
    assert comp.excluded == ("el->en",) and comp.fair_only
    assert comp.ranking["rank"].tolist() == [1, 1]  # no fair row separates them
    assert comp.separating == ()
    overall = comp.overall.set_index("model")
    assert overall.loc["use-m3", "value"] == 1.0 and overall.loc["use-m3", "n_directions"] == 3
    assert wide(comp).iloc[-1]["direction"] == "mean of 3 fair rows"
    every = compare_encoders(results, "recall@1", n_resamples=300, random_state=0, fair_only=False)
    assert every.excluded == () and every.separating == ("el->en",)
    assert every.ranking.set_index("model")["rank"].to_dict() == {"e5-small": 1, "use-m3": 2}
    assert every.overall.set_index("model").loc["use-m3", "n_directions"] == 4
