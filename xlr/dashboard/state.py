"""Pure helpers of the dashboard (no streamlit): settings, escaping, file stamps, uploads.

:mod:`xlr.dashboard.ui` draws the widgets; the decisions it makes from them live here so they
can be tested without a browser. Initial settings come from query parameters, then
environment variables (``XLR_DEFAULT_DATASET``, ``XLR_DEFAULT_MODELS``,
``XLR_DEFAULT_FIRST``, ``XLR_DEFAULT_KS``, ``XLR_DEFAULT_DIRECTIONS``, ``XLR_DEVICE``), then defaults.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

import numpy as np

from xlr.dashboard.policy import ServePolicy
from xlr.dashboard.runtime_state import (
    DEVICE_CHOICES,
    RUNTIME_PARAMS,
    encoder_from_key,
    encoder_key,
    read_runtime,
    split_key,
)
from xlr.data.records import Corpus, CorpusError
from xlr.data.registry import DATASETS, LoadedDataset, data_dir, ensure_dataset, local_path, select_languages
from xlr.encoders.catalogue import CATALOGUE
from xlr.report.sanitize import markdown_text
from xlr.retrieval.directions import Direction, all_directions, default_directions, parse_directions
from xlr.retrieval.evaluate import EvalSpec

__all__ = [
    "DEFAULT_FIRST",
    "DEVICE_CHOICES",
    "DIRECTION_MODES",
    "K_CHOICES",
    "SETTING_PARAMS",
    "Context",
    "DataKey",
    "DirectionData",
    "Settings",
    "choose_directions",
    "digest",
    "encoder_from_key",
    "encoder_key",
    "error_text",
    "available_datasets",
    "first_available",
    "ids_phrase",
    "initial_settings",
    "literal",
    "resolve_custom",
    "settings_params",
    "source_stamp",
    "split_key",
]

DEFAULT_FIRST = 50
K_CHOICES = (1, 3, 5, 10, 20, 50, 100)
DIRECTION_MODES = {
    "to-en": "every language → en",
    "all": "all directions",
    "custom": "choose directions",
}
PREFERRED_DATASETS = ("tatoeba", "xquad", "wiki6")
"""First-visit data set: the first one on this machine. Tatoeba first: short sentences encode fast on
2 CPU cores, and its ar/el/zh directions are below the ceiling at 50 ids (measured: docs/dashboard.md)."""
SETTING_PARAMS = ("dataset", "languages", "models", "k", "directions", "first", "lenient", *RUNTIME_PARAMS)
"""Query parameters that mirror the sidebar (:func:`settings_params`, read back by :func:`initial_settings`)."""

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
DataKey = tuple
"""``(source, file stamp, lenient, languages)``: the hashable identity of a loaded data set (see
:func:`source_stamp`; ``languages`` as the sidebar's *Languages*, ``""`` the data set's default)."""


@dataclass(frozen=True)
class Settings:
    """The sidebar's choices. ``first=None``: all ids; ``directions``: a key of ``DIRECTION_MODES``."""

    dataset: str
    models: tuple[str, ...] = ("e5-small",)
    ks: tuple[int, ...] = (1, 5, 10)
    directions: str = "to-en"
    custom: tuple[str, ...] = ()
    first: int | None = DEFAULT_FIRST
    lenient: bool = False
    device: str = "auto"
    precision: str = "fp32"
    backend: str = "torch"
    vectors: str = "float32"
    compare: str = ""
    """the second setting of *Compare two settings* (``backend/precision/vectors``; ``""``: off)"""
    compare_model: str = ""
    """the encoder compared at two settings (``""``: the first encoder)"""
    languages: str = ""
    """a named data set's languages as typed (``all``, ``swh,amh,tel``); ``""``: its default selection"""


@dataclass(frozen=True)
class Context:
    """What the pages work on: the loaded data set, the evaluation spec, the usable encoders."""

    settings: Settings
    data: LoadedDataset
    dkey: DataKey
    spec: EvalSpec
    models: tuple[str, ...]
    ids: tuple[str, ...]
    """ids taking part in at least one evaluated direction (the working selection)"""

    def key(self, model: str) -> str:
        """``model`` set to the sidebar's device, precision and backend (see :func:`encoder_key`)."""
        s = self.settings
        return encoder_key(model, s.device, s.precision, s.backend)


@dataclass(frozen=True)
class DirectionData:
    """Rows of one direction under the protocol: ``queries[i]`` and ``pool[i]`` are linked."""

    ids: tuple[str, ...]
    query_positions: np.ndarray
    pool_positions: np.ndarray
    queries: np.ndarray
    pool: np.ndarray


def literal(text: object) -> str:
    """``text`` escaped for ``st.markdown``-based elements (errors, captions) so it shows verbatim
    (:func:`xlr.report.sanitize.markdown_text`: Markdown, HTML, ``:shortcodes:``, bare links, controls)."""
    return markdown_text(text)


def model_ok(name: str) -> bool:
    """A catalogue name, ``st:<hub id or folder>`` or ``openai:<model>`` (whether it loads is checked later)."""
    return name in CATALOGUE or any(name.startswith(p) and len(name) > len(p) for p in ("st:", "openai:"))


def _directions_param(custom: Sequence[str]) -> str:
    """Custom directions for the URL: ``src->tgt`` joined by commas, each code percent-encoded (``-``, ``_``,
    ``.`` and letters kept), so any code (``zh-TW``, ``a:b``, ``x,y``) reads back as itself."""
    parts = []
    for label in custom:
        source, _, target = label.partition("->")  # a source never holds "->" (:func:`_read_directions`)
        parts.append(f"{quote(source, safe='-_.')}->{quote(target, safe='-_.')}")
    return ",".join(parts)


def _read_directions(text: str) -> tuple[str, ...]:
    """:func:`_directions_param` read back; parts without ``->`` (links written before) go through
    :meth:`Direction.parse` (``ar-en``, ``ar:en``)."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        src, sep, tgt = part.partition("->")
        d = Direction(unquote(src).strip(), unquote(tgt).strip()) if sep else Direction.parse(part)
        if not d.source or not d.target or "->" in d.source:
            raise ValueError(f"cannot read direction {part!r}: write it as source->target, e.g. ar->en")
        out.append(d.label)
    return tuple(out)


def _count(text: str, most: int = 10**6) -> int | None:
    """A count written in ASCII digits, at most ``most`` (``None`` otherwise: ``²``, ``١٢``, 400 digits)."""
    return int(text) if re.fullmatch(r"[0-9]{1,7}", text) and int(text) <= most else None


def initial_settings(
    env: Mapping[str, str],
    params: Mapping[str, str],
    default_dataset: str,
    policy: ServePolicy | None = None,
) -> tuple[Settings, list[str]]:
    """Settings from query ``params`` (``dataset, models, first, k, directions``, the device panel's
    :data:`~xlr.dashboard.runtime_state.RUNTIME_PARAMS`), then ``env``.

    Returns the settings and one warning per value that could not be read or is not allowed (the
    default is kept). ``first``: a positive integer (ASCII digits, at most 1,000,000), or ``all``/``0``.
    ``directions``: ``to-en``, ``all`` or a comma list such as ``ar->en,zh-TW->en`` (older ``ar-en``
    read too). A dataset that is not a registered name is taken as a path (made absolute) when
    ``policy`` allows paths from the URL; ``policy`` also filters the URL's API and ``st:`` folder
    encoders (``env`` is the operator's and trusted). A value with a control character is refused.
    """
    policy = policy or ServePolicy()

    def pick(param: str, var: str) -> tuple[str, str] | None:
        for value, where in (
            (params.get(param), f"query parameter {param!r}"),
            (env.get(var), var),
        ):
            if value is not None and str(value).strip():
                if _CONTROL.search(str(value)):
                    warnings.append(f"{where} holds a control character: ignored")
                    continue
                return str(value).strip(), where
        return None

    warnings: list[str] = []
    s = Settings(default_dataset)
    if got := pick("dataset", "XLR_DEFAULT_DATASET"):
        value, where = got
        refusal = "" if where == "XLR_DEFAULT_DATASET" else policy.refuse_source(value, tuple(DATASETS))
        if refusal:
            warnings.append(f"{where}: {refusal}")
        elif value in DATASETS:
            s = Settings(value)
        else:
            try:
                path = str(Path(value).expanduser().resolve())
                if path != path.strip():
                    raise ValueError("a path that starts or ends with a space")
                s = Settings(path)
            except (RuntimeError, OSError, ValueError):
                warnings.append(f"{where}: {value!r} is not a path this server can read")
    if got := pick("models", "XLR_DEFAULT_MODELS"):
        names = [m.strip() for m in got[0].split(",") if m.strip()]
        bad = [m for m in names if not model_ok(m)]
        warnings += [f"unknown encoder {m!r} in {got[1]} ignored" for m in bad]
        refused = [] if got[1] == "XLR_DEFAULT_MODELS" else [m for m in names if policy.refuse_model(m)]
        warnings += [f"{got[1]}: {policy.refuse_model(m)}" for m in dict.fromkeys(refused)]
        good = tuple(dict.fromkeys(m for m in names if model_ok(m) and m not in refused))
        s = s if not good else Settings(s.dataset, good)
    first, ks, mode, custom = s.first, s.ks, s.directions, s.custom
    if got := pick("first", "XLR_DEFAULT_FIRST"):
        if got[0].lower() in ("all", "0"):
            first = None
        elif (n := _count(got[0])) is not None:
            first = n or None  # "00": all, as "0"
        else:
            warnings.append(
                f"{got[1]} must be a positive integer or 'all' (ASCII digits, at most 1000000), got {got[0]!r}"
            )
    if got := pick("k", "XLR_DEFAULT_KS"):
        parts = [p.strip() for p in got[0].split(",") if p.strip()]
        counts = [_count(p, 10**4) for p in parts]
        if parts and all(c for c in counts):
            ks = tuple(sorted({c for c in counts if c}))
        else:
            warnings.append(f"{got[1]} must be positive integers separated by commas, got {got[0]!r}")
    if got := pick("directions", "XLR_DEFAULT_DIRECTIONS"):
        if got[0] in ("to-en", "all"):
            mode = got[0]
        else:
            try:
                custom = _read_directions(got[0])
                if not custom:
                    raise ValueError(f"no direction in {got[0]!r}")
                mode = "custom"
            except ValueError as exc:
                warnings.append(f"{got[1]}: {exc}")
    lenient = str(params.get("lenient", "")).strip().lower() in ("1", "true", "yes")
    rt = read_runtime(pick, warnings)
    if rt["compare_model"] and rt["compare_model"] not in s.models:  # else another encoder is compared, unsaid
        warnings.append(
            f"query parameter 'compare_model': {rt['compare_model']} is not among the chosen encoders "
            f"({', '.join(s.models)}): {s.models[0]} compared"
        )
        rt["compare_model"] = s.models[0]
    panel = (rt["device"], rt["precision"], rt["backend"], rt["vectors"], rt["compare"], rt["compare_model"])
    languages = ""
    if (got := pick("languages", "XLR_DEFAULT_LANGUAGES")) and s.dataset in DATASETS:
        try:
            select_languages(DATASETS[s.dataset], got[0])
            languages = got[0]
        except ValueError as exc:
            warnings.append(f"{got[1]}: {exc}")
    return Settings(s.dataset, s.models, ks, mode, custom, first, lenient, *panel, languages=languages), warnings


def settings_params(s: Settings) -> dict[str, str]:
    """The URL query parameters of ``s``; :func:`initial_settings` reads them back to the same settings.

    ``first=None`` is written ``all``; custom directions as ``ar->en,zh-TW->en`` (codes percent-encoded
    where needed); ``lenient`` and the device panel's (:data:`RUNTIME_PARAMS`) only when not the default.
    """
    out = {
        "dataset": s.dataset,
        "models": ",".join(s.models),
        "k": ",".join(str(k) for k in s.ks),
        "directions": s.directions if s.directions != "custom" else _directions_param(s.custom),
        "first": str(s.first) if s.first else "all",
    }
    if s.directions == "custom" and not s.custom:
        out["directions"] = "to-en"
    if s.lenient:
        out["lenient"] = "1"
    if s.languages:
        out["languages"] = s.languages
    defaults = Settings(s.dataset)
    for param in RUNTIME_PARAMS:
        if getattr(s, param) != getattr(defaults, param) and (param != "compare_model" or s.compare):
            out[param] = str(getattr(s, param))
    return out


def ids_phrase(corpus: Corpus, spec: EvalSpec) -> str:
    """``first 50 linked ids`` or, when N reaches every direction's linked ids (a 3-id corpus), ``all linked ids``."""
    if spec.seed is not None:
        return spec.sampling  # "50 linked ids drawn at random (seed 7)"
    most = max(len(corpus.linked_ids(d.source, d.target)) for d in spec.directions)
    return f"first {spec.first} linked ids" if spec.first and spec.first < most else "all linked ids"


def available_datasets() -> list[str]:
    """The named data sets already on this machine (nothing is downloaded), preferred ones first."""
    out = []
    for name in dict.fromkeys([*PREFERRED_DATASETS, *DATASETS]):
        try:
            ensure_dataset(name, download_missing=False)
            out.append(name)
        except (ValueError, OSError):
            continue
    return out


def first_available() -> str:
    here = [n for n in available_datasets() if n in PREFERRED_DATASETS]
    return here[0] if here else "wiki6"  # nothing here yet: the smallest download


def source_stamp(source: str) -> tuple:
    """(path, mtime_ns, size) of every file behind a source, so an edited file is reloaded."""
    if source in DATASETS:
        paths = [local_path(data_dir(), f) for f in DATASETS[source].files]
    else:
        p = Path(source)
        paths = sorted(c for c in p.iterdir() if c.is_file()) if p.is_dir() else [p]
    return tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file())


def digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\x00".join(ids).encode("utf-8", "surrogatepass")).hexdigest()[:24]


_SIDEBAR_WORDS = (
    (r"\(?use --device cpu or auto\)?", "choose cpu or auto as the Device (sidebar: Device and precision)"),
    (r"use --precision fp32", "choose fp32 as the Precision (sidebar: Device and precision)"),
    (
        r"does not take --device, --precision, --backend or --encode-batch-size",
        "does not take another Device or Precision (sidebar: Device and precision; auto and fp32 work)",
    ),
    (r"--backend onnx or openvino", "the onnx or openvino Backend"),
    (r"--backend (\w+)", r"the \1 Backend"),
)
"""The core's CLI wording of device/precision refusals, said the dashboard's way (issue 19)."""


def error_text(exc: BaseException) -> str:
    """One line for an error shown in the dashboard (CLI flags named as the sidebar's settings)."""
    if isinstance(exc, KeyError) and exc.args:  # str(KeyError) adds quotes
        return str(exc.args[0])
    issues = getattr(exc, "issues", ())
    if isinstance(exc, CorpusError) and len(issues) > 1:
        shown = "; ".join(str(i) for i in issues[:5])
        return f"{len(issues)} problems: {shown}" + ("; …" if len(issues) > 5 else "")
    text = " ".join(str(exc).split()) or type(exc).__name__
    for pattern, words in _SIDEBAR_WORDS:
        text = re.sub(pattern, words, text)
    return text


def resolve_custom(corpus: Corpus, custom: Sequence[str], labels: Sequence[str]) -> tuple[list[str], list[str]]:
    """``(kept, dropped)``: the chosen directions as ``corpus`` writes them, read as the CLI's ``--directions``
    (:func:`~xlr.retrieval.directions.parse_directions`: ``swh->eng`` is ``sw->en`` on Tatoeba 112), kept when
    among ``labels`` (directions with linked ids); the others, as given, in ``dropped``."""
    kept, dropped = [], []
    for label in custom:
        try:
            found = [d.label for d in parse_directions([label], corpus)]
        except ValueError:  # a language the corpus lacks (or names ambiguously)
            found = []
        kept += [f for f in found if f in labels]
        dropped += [] if any(f in labels for f in found) else [label]
    return list(dict.fromkeys(kept)), dropped


def choose_directions(corpus: Corpus, mode: str, custom: Sequence[str]) -> tuple[tuple[Direction, ...], str]:
    if mode == "custom":
        return tuple(Direction.parse(c) for c in custom), ""
    if mode == "to-en" and "en" in corpus.languages:
        return default_directions(corpus), ""
    note = "" if mode == "all" else "This corpus has no English documents: showing all directions."
    return all_directions(corpus), note
