"""The sidebar's *Device and precision* and *Compare two settings* panels.

Drawn on every run by :func:`xlr.dashboard.sidebar.sidebar` (widgets not drawn lose their state).
The values go into :class:`~xlr.dashboard.state.Settings` and the URL
(:data:`~xlr.dashboard.runtime_state.RUNTIME_PARAMS`); what they mean is
:mod:`xlr.dashboard.runtime_state`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st

from xlr.dashboard.runtime_state import BACKEND_CHOICES, DEVICE_CHOICES, VECTOR_CHOICES, setting_text
from xlr.dashboard.state import Settings, error_text, literal
from xlr.encoders.base import EncoderUnavailable
from xlr.encoders.device import BACKEND_PRECISIONS
from xlr.encoders.exported import require_backend
from xlr.report.price import Setting

__all__ = ["WIDGETS", "draw", "float32_note", "panel_values", "widget_values"]

WIDGETS = (
    "w.device",
    "w.backend",
    "w.precision",
    "w.vectors",
    "w.compare_on",
    "w.compare_model",
    "w.cmp_backend",
    "w.cmp_precision",
    "w.cmp_vectors",
    "w.cmp_rescore",
)
DEFAULT_SECOND = Setting("torch", "fp32", "ubinary")
"""The second setting first offered: binary vectors (any encoder, no extra package)."""


def widget_values(s: Settings) -> dict[str, Any]:
    """The panel's widget values for settings ``s`` (read back by :func:`panel_values`)."""
    second = Setting.parse(s.compare) if s.compare else DEFAULT_SECOND
    return {
        "w.device": s.device,
        "w.backend": s.backend,
        "w.precision": s.precision,
        "w.vectors": s.vectors,
        "w.compare_on": bool(s.compare),
        "w.compare_model": s.compare_model,
        "w.cmp_backend": second.backend,
        "w.cmp_precision": second.precision,
        "w.cmp_vectors": second.vectors,
        "w.cmp_rescore": second.rescore,
    }


def panel_values(ss: Any) -> dict[str, str]:
    """``Settings`` fields from the widgets: device, precision, backend, vectors, compare, compare_model."""
    on = bool(ss["w.compare_on"])
    rescore = int(ss["w.cmp_rescore"]) if ss["w.cmp_vectors"] != "float32" else 0
    second = Setting(str(ss["w.cmp_backend"]), str(ss["w.cmp_precision"]), str(ss["w.cmp_vectors"]), rescore)
    return {
        "device": str(ss["w.device"]),
        "precision": str(ss["w.precision"]),
        "backend": str(ss["w.backend"]),
        "vectors": str(ss["w.vectors"]),
        "compare": setting_text(second) if on else "",
        "compare_model": str(ss["w.compare_model"] or "") if on else "",
    }


def _extras_warning(backend: str) -> None:
    """The one sentence saying what to install when ``backend``'s packages are missing (a sidebar warning)."""
    try:
        require_backend(backend)
    except EncoderUnavailable as exc:
        st.sidebar.warning(literal(error_text(exc)))


def _precisions(ss: Any, backend_key: str, precision_key: str) -> tuple[str, ...]:
    """The weight precisions the chosen backend runs (a precision it does not run goes back to fp32)."""
    allowed = BACKEND_PRECISIONS[str(ss[backend_key])]
    if ss[precision_key] not in allowed:
        ss[precision_key] = "fp32"
    return allowed


def draw(models: Sequence[str], device_here: Callable[[str], bool]) -> None:
    """Both panels; ``models``: the chosen encoders (the one compared is one of them)."""
    ss, sb = st.session_state, st.sidebar
    changed = (ss["w.device"], ss["w.backend"], ss["w.precision"], ss["w.vectors"]) != (
        "auto",
        "torch",
        "fp32",
        "float32",
    )
    with sb.expander("Device and precision", expanded=changed):
        st.selectbox(
            "Device",
            list[str](dict.fromkeys([*(d for d in DEVICE_CHOICES if device_here(d)), ss["w.device"]])),
            key="w.device",
            help="auto: cuda, then mps, then cpu (also $XLR_DEVICE). The bundled e5-small and use-m3 run on the "
            "CPU only; an encoder that cannot use the choice says why.",
        )
        st.selectbox(
            "Backend",
            BACKEND_CHOICES,
            key="w.backend",
            help="What runs sentence-transformers models (minilm-en, st:…): torch, or onnx / openvino (exported "
            "once from the model folder and cached; pip install 'xlr[onnx]' / 'xlr[openvino]'), as the CLI's --backend.",
        )
        st.selectbox(
            "Precision",
            _precisions(ss, "w.backend", "w.precision"),
            key="w.precision",
            help="Weights: fp32 gives the published figures; fp16/bf16 on a GPU (torch), int8 with onnx or "
            "openvino encode faster. Part of the cache key.",
        )
        st.selectbox(
            "Vectors",
            VECTOR_CHOICES,
            key="w.vectors",
            help="How the vectors are stored and ranked (the CLI's --vectors): float32, calibrated int8 "
            "(4x smaller), ubinary or cbinary (bits centred on the mean; 32x smaller, Hamming distance). "
            "Applied after encoding; the codes are cached separately.",
        )
    if ss["w.backend"] != "torch":
        _extras_warning(str(ss["w.backend"]))
    on = bool(ss["w.compare_on"])
    with sb.expander("Compare two settings", expanded=on):
        st.toggle(
            "Compare two settings of one encoder",
            key="w.compare_on",
            help="The Overview shows the encoder at the setting above and at the one below as two columns, with "
            "the price of speed per direction and per language (paired test, Holm), speed and memory: xlr price.",
        )
        options = list(dict.fromkeys(models)) or [""]
        if ss["w.compare_model"] not in options:
            ss["w.compare_model"] = options[0]
        st.selectbox("Encoder compared", options, key="w.compare_model", disabled=not on)
        st.selectbox("Second backend", BACKEND_CHOICES, key="w.cmp_backend", disabled=not on)
        allowed = _precisions(ss, "w.cmp_backend", "w.cmp_precision")
        st.selectbox("Second precision", allowed, key="w.cmp_precision", disabled=not on)
        st.selectbox("Second vectors", VECTOR_CHOICES, key="w.cmp_vectors", disabled=not on)
        st.number_input(
            "Rescore the best N with float32 queries (0 = off)",
            min_value=0,
            max_value=10_000,
            step=10,
            key="w.cmp_rescore",
            disabled=not on or ss["w.cmp_vectors"] == "float32",
        )
    if on and ss["w.cmp_backend"] != "torch" and ss["w.cmp_backend"] != ss["w.backend"]:
        _extras_warning(str(ss["w.cmp_backend"]))


def float32_note(s: Settings, verb: str = "ranks") -> None:
    """On a page that ranks (or, the map, ``verb="maps"``) float32 vectors whatever the panel says (Ad-hoc
    search, the heatmap, the embedding map): one caption when the sidebar's *Vectors* is another precision,
    which only the Overview and Failed queries apply."""
    if s.vectors != "float32":
        st.caption(
            literal(
                f"This page {verb} float32 vectors: the sidebar's Vectors ({s.vectors}) applies to the Overview "
                "and Failed queries."
            )
        )
