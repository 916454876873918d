"""Every ``XLR_*`` environment variable, read in one place for the CLI, the library and the dashboard.

Each accessor reads the environment when called (nothing is cached at import), strips blanks,
treats an empty value as unset, and refuses a bad value with one sentence naming the variable.
No other module reads an ``XLR_*`` variable (a test checks): add a new one to :data:`VARIABLES`
and read it with :func:`env` (or a typed accessor here).  Command-line options and sidebar
choices take precedence over these defaults wherever both exist.
"""

from __future__ import annotations

import os
from pathlib import Path

from xlr.paths import user_path

__all__ = [
    "VARIABLES",
    "cache_dir",
    "data_base_url",
    "data_dir",
    "device",
    "env",
    "environment",
    "flag",
    "non_negative_float",
    "openai_base_url",
    "precision",
    "threads",
]

VARIABLES: dict[str, str] = {
    "XLR_DEVICE": "where sentence-transformers models run: auto (default), cpu, cuda, cuda:N, mps",
    "XLR_PRECISION": "fp32 (default), fp16 or bf16 (GPU only; part of the encoder identity)",
    "XLR_THREADS": "CPU threads of the bundled engines and of torch on the CPU (default: the idle cores)",
    "XLR_CACHE_DIR": "the embedding cache (default: the user's cache directory + xlr/embeddings)",
    "XLR_DATA_DIR": "named data sets (default: the user's cache directory + xlr/data)",
    "XLR_DATA_BASE_URL": "a mirror to download named data sets from",
    "XLR_DOWNLOAD_DEADLINE": "seconds a download may take (default 900)",
    "XLR_DOWNLOAD_MIN_RATE": "bytes per second below which a download is abandoned (default 1024)",
    "XLR_OPENAI_BASE_URL": "OpenAI-compatible endpoint of openai:<model> (else $OPENAI_BASE_URL, else OpenAI's)",
    "XLR_API_PRICES": "API prices per million tokens, model=price,... (override the catalogue's)",
    "XLR_API_ALLOW_INSECURE": "1/true/yes: allow plain http:// to a non-local API endpoint",
    "XLR_DASHBOARD_ALLOW_PATHS": "1/true/yes: the dashboard may open local paths given in the URL",
    "XLR_DASHBOARD_ALLOW_API": "1/true/yes: the dashboard may call paid API encoders",
    "XLR_DASHBOARD_MAX_COST": "dollars an API run started from the dashboard may cost at most",
    "XLR_DEFAULT_DATASET": "the dashboard's data set when the URL names none",
    "XLR_DEFAULT_MODELS": "the dashboard's encoders (comma-separated) when the URL names none",
    "XLR_DEFAULT_FIRST": "the dashboard's first-N ids (a number or 'all')",
    "XLR_DEFAULT_KS": "the dashboard's k values (comma-separated)",
    "XLR_DEFAULT_DIRECTIONS": "the dashboard's directions: to-en, all or a list such as de-en,fr-en",
    "XLR_DEFAULT_LANGUAGES": "the dashboard's languages of a named data set: all or a list such as swh,amh,tel",
}
"""Every variable xlr reads, with what it sets (``xlr models``/docs list them from here)."""

_PRECISIONS = ("fp32", "fp16", "bf16")


def env(name: str) -> str | None:
    """The stripped value of ``name`` (one of :data:`VARIABLES`), or ``None`` when unset or blank."""
    if name not in VARIABLES:
        raise KeyError(f"{name} is not an xlr setting; add it to xlr.settings.VARIABLES")
    value = os.environ.get(name, "").strip()
    return value or None


def environment() -> dict[str, str]:
    """Every set ``XLR_*`` variable of :data:`VARIABLES` (what the dashboard's defaults read)."""
    return {name: value for name in VARIABLES if (value := env(name)) is not None}


def flag(name: str) -> bool:
    """``True`` when ``name`` is ``1``, ``true`` or ``yes`` (any case)."""
    return (env(name) or "").lower() in ("1", "true", "yes")


def device() -> str | None:
    """``$XLR_DEVICE`` lower-cased (checked where it is used: :class:`xlr.encoders.device.Runtime`)."""
    value = env("XLR_DEVICE")
    return value.lower() if value else None


def precision() -> str | None:
    """``$XLR_PRECISION``: ``fp32``, ``fp16`` or ``bf16`` (any case), else one sentence."""
    value = env("XLR_PRECISION")
    if value is None:
        return None
    if value.lower() not in _PRECISIONS:
        raise ValueError(f"$XLR_PRECISION={value!r}: expected fp32, fp16 or bf16")
    return value.lower()


MAX_THREADS = 1024
"""the most engine threads ``$XLR_THREADS`` may ask for (100000 crashed the engines: segmentation fault)"""


def threads() -> int | None:
    """``$XLR_THREADS``: an integer from 1 to :data:`MAX_THREADS`, else one sentence."""
    value = env("XLR_THREADS")
    if value is None:
        return None
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"XLR_THREADS must be an integer from 1 to {MAX_THREADS}, got {value!r}")
    return n


def cache_dir() -> Path | None:
    """``$XLR_CACHE_DIR`` (``~`` expanded)."""
    value = env("XLR_CACHE_DIR")
    return user_path(value) if value else None


def data_dir() -> Path | None:
    """``$XLR_DATA_DIR`` (``~`` expanded)."""
    value = env("XLR_DATA_DIR")
    return user_path(value) if value else None


def data_base_url() -> str | None:
    """``$XLR_DATA_BASE_URL``."""
    return env("XLR_DATA_BASE_URL")


def openai_base_url() -> str | None:
    """``$XLR_OPENAI_BASE_URL``."""
    return env("XLR_OPENAI_BASE_URL")


def non_negative_float(name: str, default: float) -> float:
    """``$name`` as a number >= 0 (e.g. ``XLR_DOWNLOAD_DEADLINE``), ``default`` when unset."""
    raw = env(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"${name}={raw!r}: expected a number of seconds or bytes/s") from None
    if not value >= 0:
        raise ValueError(f"${name}={raw!r}: must be zero or more")
    return value
