from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from xlr.report import figures
from xlr.retrieval.evaluate import TABLE_COLUMNS

XSS = "<script>alert(1)</script><b>bold</b>"


@pytest.fixture()
def table() -> pd.DataFrame:
    rows = []
    for model, base in (("m1", 0.5), ("m2", 0.8)):
        for src, tgt in (("ar", "en"), ("de", "en"), ("en", "de")):
            for metric, bump in (("recall@1", 0.0), ("recall@5", 0.1), ("mrr", 0.05)):
                rows.append(
                    [
                        model,
                        src,
                        tgt,
                        metric,
                        base + bump + (0.01 if src == "de" else 0),
                        50,
                    ]
                )
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def all_text(fig: go.Figure) -> str:
    return fig.to_json()


def test_inert_escapes_markup_and_cuts():
    assert figures.inert(XSS) == "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;bold&lt;/b&gt;"
    assert figures.inert("a\nb  c") == "a b c"
    assert figures.inert("abcdef", 4) == "abc…"


def test_metric_bars_one_trace_per_model_with_table_values(table):
    fig = figures.metric_bars(table, "recall@5")
    assert [t.name for t in fig.data] == ["m1", "m2"]
    assert list(fig.data[0].x) == ["ar→en", "de→en", "en→de"]
    np.testing.assert_allclose(fig.data[1].y, [0.9, 0.91, 0.9])
    with pytest.raises(ValueError, match="not in the table"):
        figures.metric_bars(table, "recall@100")


def test_metric_bars_draw_each_interval_as_an_error_bar(table):
    cells = pd.DataFrame(
        [
            {"direction": "ar->en", "model": "m1", "ci_low": 0.55, "ci_high": 0.70},
            {"direction": "de->en", "model": "m1", "ci_low": 0.50, "ci_high": 0.71},
            {"direction": "en->de", "model": "m2", "ci_low": 0.85, "ci_high": 0.95},
        ]
    )
    fig = figures.metric_bars(table, "recall@5", intervals=cells)
    m1, m2 = fig.data
    np.testing.assert_allclose(m1.error_y.array[:2], [0.70 - 0.6, 0.71 - 0.61])
    np.testing.assert_allclose(m1.error_y.arrayminus[:2], [0.6 - 0.55, 0.61 - 0.50])
    assert np.isnan(m1.error_y.array[2]) and np.isnan(m2.error_y.array[0])  # no interval, no bar
    np.testing.assert_allclose(m2.error_y.array[2], 0.95 - 0.9)
    assert figures.metric_bars(table, "recall@5").data[0].error_y.array is None  # none asked for
    # many directions: horizontal bars, so the interval is drawn along x
    langs = [f"l{i}" for i in range(14)]
    wide_table = pd.DataFrame([["m", s, "en", "recall@1", 0.5, 10] for s in langs], columns=TABLE_COLUMNS)
    ci = pd.DataFrame([{"direction": f"{s}->en", "model": "m", "ci_low": 0.4, "ci_high": 0.7} for s in langs])
    (bar,) = figures.metric_bars(wide_table, "recall@1", intervals=ci).data
    assert bar.orientation == "h" and bar.error_y.array is None
    np.testing.assert_allclose(bar.error_x.array, [0.2] * 14)
    np.testing.assert_allclose(bar.error_x.arrayminus, [0.1] * 14)


def test_direction_heatmap_grid(table):
    fig = figures.direction_heatmap(table, "m1")
    hm = fig.data[0]
    assert list(hm.y) == ["ar", "de", "en"] and list(hm.x) == ["de", "en"]
    z = np.asarray(hm.z, dtype=float)
    assert z[1, 1] == pytest.approx(0.51) and np.isnan(z[0, 0]) and z[2, 0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no 'recall@1' rows"):
        figures.direction_heatmap(table, "nope")


def test_similarity_heatmap_marks_top1_hubs_and_escapes():
    m = np.array([[0.9, 0.2, 0.1], [0.8, 0.3, 0.1], [0.1, 0.2, 0.7]])
    labels = ["a", XSS, "c"]
    fig = figures.similarity_heatmap(m, labels, labels, labels, labels, hub_counts=[5, 0, 1], hub_min=3)
    heat, top1, diag = fig.data
    np.testing.assert_allclose(heat.z, m)
    assert list(top1.x) == [0, 0, 2] and list(top1.y) == [0, 1, 2]
    assert list(diag.x) == [0, 1, 2]
    ticks = list(fig.layout.xaxis.ticktext)
    assert ticks[0].startswith("★") and not ticks[2].startswith("★")
    assert "<script>" not in all_text(fig) and "<b>bold" not in all_text(fig)
    assert "&lt;script&gt;" in heat.text[1][0]
    with pytest.raises(ValueError, match="labels must match"):
        figures.similarity_heatmap(m, labels[:2], labels, labels, labels)


def test_embedding_map_traces():
    xy = np.arange(12, dtype=float).reshape(6, 2)
    langs = ["en", "de", "en", "de", "fr", "fr"]
    ids = ["a", "a", "b", "b", "c", "d"]
    fig = figures.embedding_map(
        xy,
        langs,
        ids,
        [XSS] * 6,
        highlight=np.array([1, 0, 0, 0, 0, 1], bool),
        join=True,
    )
    names = [t.name for t in fig.data]
    assert names == ["same id", "de", "en", "fr", "search matches"]
    lines = fig.data[0]
    assert list(lines.x) == [0, 2, None, 4, 6, None]  # a and b joined; c, d alone
    assert len(fig.data[-1].x) == 2
    assert sum(len(t.x) for t in fig.data[1:4]) == 6
    assert "<script>" not in all_text(fig)
    with pytest.raises(ValueError, match="highlight"):
        figures.embedding_map(xy, langs, ids, ids, highlight=np.ones(3, bool))


def test_bar_labels_never_overlap_each_other_or_the_error_bars():
    """Issue 19: value labels outside grouped bars overlapped ("0.960.96") and the error bars."""
    import pandas as pd

    from xlr.report.figures import metric_bars

    table = pd.DataFrame(
        [
            {"model": m, "source": s, "target": "en", "metric": "recall@1", "value": 0.96, "n_queries": 30}
            for s in ("ar", "de")
            for m in ("e5-small", "use-m3")
        ]
    )
    fig = metric_bars(table)
    assert all(t.textposition == "inside" for t in fig.data)
    assert fig.layout.uniformtext.mode == "hide"  # a label that does not fit is left out, never overlapped


def test_languages_get_distinct_colour_blind_safe_colours():
    import numpy as np

    from xlr.report.figures import LANGUAGE_COLOURS, embedding_map

    langs = [f"l{i:02d}" for i in range(12)]
    fig = embedding_map(
        np.random.default_rng(0).normal(size=(24, 2)), langs * 2, [str(i) for i in range(24)], ["t"] * 24
    )
    colours = [t.marker.color for t in fig.data if t.mode == "markers"]
    assert len(colours) == 12 and len(set(colours)) == 12 and set(colours) <= set(LANGUAGE_COLOURS)
