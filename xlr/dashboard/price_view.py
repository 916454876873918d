"""The Overview with one encoder at two settings as columns, and the price of speed (``xlr price``).

The sidebar's *Compare two settings* (:mod:`xlr.dashboard.settings_view`) names the encoder and the
second setting; the first is the *Device and precision* panel's. Both are evaluated on the same
queries (:func:`evaluation`; vectors shared when only the vector precision differs) and labelled
``minilm-en · torch fp32`` / ``minilm-en · onnx int8``, so the Overview's table shows them side by
side per direction. :func:`summary` adds what :func:`xlr.report.price.price_report` computes: the
sentence, the per-direction delta with the paired test (Holm), the per-language mean change with
the worst direction, and memory per vector; speed is measured on request (a button: it encodes).
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from xlr.dashboard import resources as res
from xlr.dashboard import ui
from xlr.dashboard.jobs import Job
from xlr.dashboard.runtime_state import Comparison
from xlr.dashboard.state import Context, error_text, literal
from xlr.report.price import (
    PriceReport,
    Setting,
    price_report,
    setting_facts,
    speed_table,
    time_encoders,
    timing_sample,
)
from xlr.report.sanitize import markdown_frame
from xlr.retrieval.evaluate import DirectionResult

__all__ = ["TIMED_TEXTS", "comparison", "evaluation", "summary"]

TIMED_TEXTS = 64
"""Query texts each setting encodes when the speed is measured (uncached; best of 2 rounds)."""


def comparison(ctx: Context) -> Comparison | None:
    """The comparison the sidebar asks for, or ``None`` (off, or the two settings are the same: said so)."""
    s = ctx.settings
    if not s.compare:
        return None
    model = s.compare_model if s.compare_model in ctx.models else ctx.models[0]
    comp = Comparison(model, s.device, Setting(s.backend, s.precision, s.vectors), Setting.parse(s.compare))
    if comp.baseline == comp.candidate:
        st.info(
            literal(
                f"Compare two settings: the second setting is the sidebar's own ({comp.baseline.label}); "
                "choose another backend, precision or vector precision under Compare two settings."
            )
        )
        return None
    for setting in comp.settings:
        try:
            res.encoder(comp.key(setting))  # a setting the encoder cannot run, or a missing package
        except ValueError as exc:
            st.error(
                literal(
                    f"Compare two settings: {model} at {setting.label}: {error_text(exc).rstrip('.')}. "
                    "The Overview shows the chosen encoders without the comparison."
                )
            )
            return None
    if others := [m for m in ctx.models if m != model]:
        st.caption(
            literal(
                f"Compare two settings: the Overview shows {model} only, at both settings; "
                f"{', '.join(others)} {'is' if len(others) == 1 else 'are'} on the other pages, or here with the "
                "comparison off."
            )
        )
    return comp


def evaluation(ctx: Context, comp: Comparison) -> tuple[list[DirectionResult], list[Job], dict[str, str]]:
    """Both settings' results (labelled :meth:`Comparison.label`), the jobs still encoding, and the
    encoder key of each label. An encoder that cannot run a setting is one sentence (``ValueError``)."""
    out: list[DirectionResult] = []
    pending: list[Job] = []
    keys = {}
    for setting in comp.settings:
        key, label = comp.key(setting), comp.label(setting)
        res.encoder(key)  # refuses a setting the encoder cannot run, or a missing package, in one sentence
        results, job = ui.evaluate_setting(ctx, key, setting.vector_spec, label)
        out.extend(results)
        if job is not None and job not in pending:  # one job when only the vectors differ
            pending.append(job)
        keys[label] = key
    return out, pending, keys


@st.cache_data(show_spinner="Paired tests per direction (Holm)…", max_entries=16)
def _report(
    _results: list[DirectionResult], _comp: Comparison, key: tuple, labels: tuple[str, str], metric: str
) -> PriceReport:
    comp = _comp
    speed = setting_facts(comp.settings, [res.encoder(comp.key(s)) for s in comp.settings])
    return price_report(_results, labels[0], labels[1], metric, speed, random_state=0)


def _measure(ctx: Context, comp: Comparison, store: dict) -> None:
    """Time both settings' encoders on the first :data:`TIMED_TEXTS` query texts (one encoder timed once)."""
    texts = timing_sample(ctx.data.corpus, ctx.spec, TIMED_TEXTS)
    keys = [comp.key(s) for s in comp.settings]
    encoders = [res.encoder(k) for k in dict.fromkeys(keys)]
    with st.spinner(f"Encoding {len(texts)} texts with each setting…"):
        seconds = time_encoders(encoders, texts)
    by_key = dict(zip(dict.fromkeys(keys), seconds))
    store[(ctx.dkey, comp)] = (len(texts), [by_key[k] for k in keys])


def summary(ctx: Context, comp: Comparison, results: list[DirectionResult], metric: str) -> None:
    """The price of speed under the two columns (see the module docstring)."""
    labels = (comp.label(comp.baseline), comp.label(comp.candidate))
    if not {r.model for r in results} >= set(labels):
        return  # one setting still encoding
    key = (ctx.dkey, comp.key(comp.baseline), comp.key(comp.candidate), ctx.spec.first)
    report = _report(results, comp, (*key, tuple(d.label for d in ctx.spec.directions)), labels, metric)
    store = st.session_state.setdefault("pv.speed", {})
    if (ctx.dkey, comp) in store:
        n, seconds = store[(ctx.dkey, comp)]
        encoders = [res.encoder(comp.key(s)) for s in comp.settings]
        report = PriceReport(
            report.baseline,
            report.candidate,
            report.metric,
            report.directions,
            report.marginals,
            setting_facts(comp.settings, encoders, n, seconds),
            report.results,
        )
    st.subheader("The price of speed")
    st.markdown(literal(report.sentence() + "."))
    d = report.directions
    shown = pd.DataFrame(
        {
            "direction": d["source"] + "->" + d["target"],
            labels[0]: d["baseline"].map("{:.3f}".format),
            labels[1]: d["candidate"].map("{:.3f}".format),
            "change": (d["delta"] * 100).map("{:+.1f}".format),
            "p (Holm)": d["p_holm"].map("{:.4f}".format),
            "verdict": d["effect"],
        }
    )
    st.caption(literal(f"Per direction ({metric}; change in points = {labels[1]} − {labels[0]}; paired test, Holm)."))
    st.table(markdown_frame(shown).style.hide(axis="index"))
    m = report.marginals
    langs = pd.DataFrame(
        {
            "language": m["language"],
            "as": m["role"],
            "mean change": (m["mean_delta"] * 100).map("{:+.1f}".format),
            "directions": m["n_directions"],
            "worst": m["worst"],
            "worst change": (m["worst_delta"] * 100).map("{:+.1f}".format),
            "its verdict": m["worst_effect"],
        }
    )
    st.caption("Per language (points; the mean over its directions as query or as document, and the worst one).")
    st.table(markdown_frame(langs).style.hide(axis="index"))
    table = speed_table(report).astype(object).map(lambda v: "–" if v is None or v != v else str(v))
    same = comp.key(comp.baseline) == comp.key(comp.candidate)
    ratio = report.speed_ratio
    note = (
        "Same encoder and weights: only the stored vectors differ (memory per vector)."
        if same
        else (
            f"Speed: {ratio:.2f}x (texts/s on {report.speed[0].texts} uncached query texts, best of 2)."
            if not math.isnan(ratio)
            else "Speed not measured yet: it encodes texts with each setting."
        )
    )
    st.caption(literal(note))
    st.table(markdown_frame(table).style.hide(axis="index"))
    if not same:
        st.button(
            f"Measure speed ({TIMED_TEXTS} texts each)",
            key="pv.measure",
            on_click=_measure,
            args=(ctx, comp, store),
            help="Encodes the first query texts with both settings (not cached), after loading (or exporting) them.",
        )
