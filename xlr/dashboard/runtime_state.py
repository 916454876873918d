"""How the dashboard's encoders run and how their vectors are stored (pure, no streamlit).

The sidebar's *Device and precision* panel holds the device, the backend (torch, onnx, openvino),
the weight precision and the vector precision (float32, int8, ubinary), as the CLI's ``--device``,
``--backend``, ``--precision`` and ``--vectors``; *Compare two settings* adds a second setting
(:class:`~xlr.report.price.Setting`) of one chosen encoder, which the Overview shows as a second
column with the price of speed (:mod:`xlr.dashboard.price_view`).

An encoder is named by an :func:`encoder_key` (name, device, precision, backend); the encoder it
names is built as the CLI builds it (:func:`~xlr.encoders.device.apply_runtime` of a
:class:`~xlr.encoders.device.Runtime`), so its identity and cache key are the CLI's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from xlr.encoders.base import Encoder
from xlr.encoders.device import BACKEND_PRECISIONS, BACKENDS, WEIGHT_PRECISIONS, Runtime, apply_runtime
from xlr.encoders.registry import load_encoder
from xlr.report.price import Setting, SettingError
from xlr.retrieval.quantized import VECTOR_PRECISIONS

__all__ = [
    "BACKEND_CHOICES",
    "DEVICE_CHOICES",
    "RUNTIME_PARAMS",
    "VECTOR_CHOICES",
    "Comparison",
    "encoder_from_key",
    "encoder_key",
    "read_runtime",
    "setting_text",
    "split_key",
]

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
"""The sidebar's devices (``cuda:N`` from a URL or ``$XLR_DEVICE`` is kept too); ``auto``: cuda, then mps, then cpu."""
BACKEND_CHOICES = BACKENDS
VECTOR_CHOICES = VECTOR_PRECISIONS
RUNTIME_PARAMS = ("device", "precision", "backend", "vectors", "compare", "compare_model")
"""Query parameters of this panel (each written only when not the default)."""

Pick = Callable[[str, str], "tuple[str, str] | None"]


def encoder_key(name: str, device: str = "auto", precision: str = "fp32", backend: str = "torch") -> str:
    """The dashboard's name for encoder ``name`` set to a device, weight precision and backend: the
    name alone for ``auto``/``fp32``/torch, else ``name | device/precision`` (torch) or
    ``name | device/precision/backend``. Caches, jobs and the encoding child process are keyed on it,
    so two settings never share vectors (fp16 or onnx int8 ones differ)."""
    if (device, precision, backend) == ("auto", "fp32", "torch"):
        return name
    tail = f"{device}/{precision}" + ("" if backend == "torch" else f"/{backend}")
    return f"{name} | {tail}"


def split_key(key: str) -> tuple[str, Runtime]:
    """``(name, runtime)`` of an :func:`encoder_key`; a bad device, precision or backend is a ``ValueError``."""
    name, sep, tail = key.rpartition(" | ")
    parts = tail.split("/")
    if sep and len(parts) in (2, 3):
        return name, Runtime(parts[0], parts[1], None, parts[2] if len(parts) == 3 else "torch")
    return key, Runtime()


def encoder_from_key(key: str) -> Encoder:
    """The encoder an :func:`encoder_key` names (not loaded); a device, backend or package that is not
    there is one sentence.

    The sidebar's device applies to every encoder that can use it: a CPU-only engine (the bundled
    e5-small and use-m3, ``cpu_only``) asked for a GPU in fp32 keeps running on the CPU, where its
    vectors (and cache keys) are the same; asked for fp16/bf16 or another backend it refuses, since
    it runs its own fp32 engine.
    """
    name, runtime = split_key(key)
    encoder = load_encoder(name)
    if runtime == Runtime():
        return encoder
    if getattr(encoder, "cpu_only", False) and runtime.precision == "fp32":
        runtime = Runtime("cpu", "fp32", runtime.batch_size, runtime.backend)
    return apply_runtime(encoder, runtime)


def setting_text(setting: Setting) -> str:
    """``backend/precision/vectors[/rescoreN]``: what :meth:`Setting.parse` reads back (the URL's ``compare``)."""
    return "/".join(
        [setting.backend, setting.precision, setting.vectors] + ([f"rescore{setting.rescore}"] * bool(setting.rescore))
    )


@dataclass(frozen=True)
class Comparison:
    """One encoder at two settings: the sidebar's (``baseline``) and the chosen second one."""

    model: str
    device: str
    baseline: Setting
    candidate: Setting

    def key(self, setting: Setting) -> str:
        """The :func:`encoder_key` of ``setting`` (vectors do not change the encoder)."""
        return encoder_key(self.model, self.device, setting.precision, setting.backend)

    def label(self, setting: Setting) -> str:
        """A column's name: ``minilm-en · torch fp32``, ``minilm-en · onnx int8``, ``minilm-en · torch fp32 ubinary``."""
        return f"{self.model} · {setting.label}"

    @property
    def settings(self) -> tuple[Setting, Setting]:
        return self.baseline, self.candidate


def read_runtime(pick: Pick, warnings: list[str]) -> dict[str, str]:
    """The panel's values from ``pick(param, env var)`` (the URL, then the environment), with one
    warning per value that cannot be read (the default is kept). A precision the backend does not
    run falls back to fp32; a ``compare`` setting must read as :meth:`Setting.parse` says."""
    out = {"device": "auto", "precision": "fp32", "backend": "torch", "vectors": "float32", "compare": ""}
    out["compare_model"] = ""
    if got := pick("device", "XLR_DEVICE"):
        value = got[0].lower()
        if value in DEVICE_CHOICES or re.fullmatch(r"cuda:[0-9]{1,3}", value):
            out["device"] = value
        else:
            warnings.append(f"{got[1]} must be auto, cpu, cuda, cuda:N or mps, got {got[0]!r}")
    for param, var, choices in (
        ("backend", "", BACKEND_CHOICES),
        ("precision", "XLR_PRECISION", WEIGHT_PRECISIONS),
        ("vectors", "", VECTOR_CHOICES),
    ):
        if got := pick(param, var):
            if got[0].lower() in choices:
                out[param] = got[0].lower()
            else:
                warnings.append(f"{got[1]} must be one of {', '.join(choices)}, got {got[0]!r}")
    if out["precision"] not in BACKEND_PRECISIONS[out["backend"]]:
        warnings.append(
            f"the {out['backend']} backend runs {'/'.join(BACKEND_PRECISIONS[out['backend']])} weights, not {out['precision']}: fp32 kept"
        )
        out["precision"] = "fp32"
    if got := pick("compare", ""):
        try:
            out["compare"] = setting_text(Setting.parse(got[0]))
        except SettingError as exc:
            warnings.append(f"{got[1]}: {exc}")
    if out["compare"] and (got := pick("compare_model", "")):
        out["compare_model"] = got[0]
    return out
