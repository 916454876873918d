"""OpenAI-compatible chat models for strategies: ``chat:<model>`` (``POST /chat/completions``).

Any server that speaks ``/v1/chat/completions`` (OpenAI, Ollama, vLLM, llama.cpp's server,
LocalAI) generates the translations of ``translate-test`` and the titles of ``generate-title``
(:mod:`xlr.strategies.generative`).  It shares everything with ``openai:<model>``
(:mod:`xlr.encoders.api`): the base URL and :class:`~xlr.encoders.api.ApiSettings`, the key
(``$OPENAI_API_KEY``, sent only in the ``Authorization`` header and redacted from every message
and stored answer), :func:`~xlr.encoders.api_http.post_json` (retries on 429/5xx honouring
``Retry-After``, per-request stall timeout, one deadline per :meth:`ChatModel.generate` call,
capped answer size) and ``concurrency`` requests in flight.

Every request: ``temperature`` 0, ``seed`` (sent unless ``None``; servers that ignore it stay
deterministic only as far as they are), ``max_tokens`` = :attr:`ChatParams.max_answer_tokens`.
An answer is plain text: read from ``choices[0].message.content``, cut to
:attr:`ChatParams.max_answer_chars` characters, never executed nor rendered.

Cache (:mod:`xlr.encoders.chat_cache`): one JSONL shard per *scope* (endpoint label, model, prompt
template hash, parameters), ``<cache>/chat/<scope hash>/generations.jsonl``, appended and fsynced
after every batch of :attr:`ChatParams.batch` prompts (durable per batch; a torn last line is
skipped when read).  A second run sends nothing.

Cost (:class:`ChatCost`): input tokens estimated as
:func:`~xlr.encoders.api_cost.estimate_tokens` of the system and the user message of every prompt
not cached yet, output tokens bounded by ``max_answer_tokens`` per prompt; prices in USD per
million input/output tokens (no built-in table: chat prices change too often to ship); an
endpoint on this machine costs 0 unless prices are given, any other without prices is unknown.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlr.encoders.api import DEFAULT_BASE_URL, ApiResponseError, ApiSettings, insecure_allowed, resolve_base_url
from xlr.encoders.api_cost import BudgetError, estimate_tokens
from xlr.encoders.api_http import Endpoint, post_json, read_api_key, redact
from xlr.encoders.cache import default_cache_dir
from xlr.encoders.chat_cache import CachedScope, append_answers, input_hash, read_answers, scope_folder

__all__ = ["ChatCost", "ChatModel", "ChatParams", "PromptTemplate", "chat_model_name"]

PREFIX = "chat:"


def chat_model_name(name: str) -> str:
    """``"chat:llama3.1"`` -> ``"llama3.1"`` (a bare name is taken as it is); ValueError when empty."""
    model = name.strip().removeprefix(PREFIX).strip()
    if not model:
        raise ValueError("'chat:' needs a model name, e.g. chat:llama3.1 or chat:gpt-4o-mini")
    return model


@dataclass(frozen=True)
class ChatParams:
    """Generation parameters (all part of the cache key except ``batch`` and the prices).

    ``max_answer_tokens``: sent as ``max_tokens``; ``max_answer_chars``: an answer is cut there
    whatever the server does; ``batch``: prompts per durable cache write; prices: USD per million
    input / output tokens (``None``: free on this machine, unknown elsewhere).
    """

    temperature: float = 0.0
    seed: int | None = 0
    max_answer_tokens: int = 64
    max_answer_chars: int = 400
    batch: int = 32
    price_in: float | None = None
    price_out: float | None = None

    def __post_init__(self) -> None:
        for name in ("max_answer_tokens", "max_answer_chars", "batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("price_in", "price_out"):
            v = getattr(self, name)
            if v is not None and not 0 <= v < float("inf"):
                raise ValueError(f"{name} must be a finite price >= 0 (USD per million tokens), got {v}")


@dataclass(frozen=True)
class PromptTemplate:
    """A system message and a user message with ``{field}`` slots filled by :meth:`render`."""

    name: str
    system: str
    user: str

    @property
    def hash(self) -> str:
        """16 hex digits of SHA-256 over name, system and user text (in the cache key and the manifest)."""
        return hashlib.sha256(f"{self.name}\0{self.system}\0{self.user}".encode()).hexdigest()[:16]

    def render(self, fields: Mapping[str, str]) -> tuple[str, str]:
        """``(system, user)`` with the fields filled in (a field's own braces are left as they are)."""
        return self.system.format_map(dict(fields)), self.user.format_map(dict(fields))


@dataclass(frozen=True)
class ChatCost:
    """Prompts to send, estimated input tokens, the output-token bound and the cost (``None`` = unknown)."""

    model: str
    n_prompts: int
    tokens_in: int
    tokens_out_max: int
    price_in: float | None
    price_out: float | None
    price_source: str

    @property
    def usd(self) -> float | None:
        """``(tokens_in * price_in + tokens_out_max * price_out) / 1e6``."""
        if self.n_prompts == 0:
            return 0.0
        if self.price_in is None or self.price_out is None:
            return None
        return (self.tokens_in * self.price_in + self.tokens_out_max * self.price_out) / 1e6

    def check(self, max_usd: float | None) -> None:
        """:class:`~xlr.encoders.api_cost.BudgetError` when ``max_usd`` is set and the cost is over it or unknown."""
        if max_usd is None:
            return
        if self.usd is None:
            raise BudgetError(
                f"{self.model}: the cost cannot be estimated ({self.price_source}), so the limit "
                f"of ${max_usd:g} cannot be checked; nothing was sent"
            )
        if self.usd > max_usd:
            raise BudgetError(
                f"{self.model}: estimated cost ${self.usd:.6f} is over the limit of ${max_usd:g} "
                f"({self.n_prompts:,} prompts, ~{self.tokens_in:,} input tokens, <= {self.tokens_out_max:,} "
                "output tokens); nothing was sent"
            )

    def sentence(self) -> str:
        head = (
            f"{self.model}: {self.n_prompts:,} prompts to send, ~{self.tokens_in:,} input tokens (estimate), "
            f"<= {self.tokens_out_max:,} output tokens"
        )
        usd = self.usd
        return f"{head}, cost unknown ({self.price_source})" if usd is None else f"{head}, <= ${usd:.6f}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompts": self.n_prompts,
            "tokens_in_estimate": self.tokens_in,
            "tokens_out_max": self.tokens_out_max,
            "usd_per_million_in": self.price_in,
            "usd_per_million_out": self.price_out,
            "usd_max": self.usd,
            "price_source": self.price_source,
        }


class ChatModel:
    """A chat model behind an OpenAI-compatible endpoint, with the on-disk generation cache.

    ``prompt_tokens`` / ``completion_tokens`` add up what the server reported for the requests
    this object sent; ``requests`` counts them (cached answers count nothing).
    """

    def __init__(
        self,
        model: str,
        settings: ApiSettings | None = None,
        params: ChatParams | None = None,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.model = chat_model_name(model)
        settings = settings or ApiSettings()
        self.settings = replace(settings, base_url=resolve_base_url(settings.base_url))
        self.params = params or ChatParams()
        self.endpoint = Endpoint(self.settings.base_url or DEFAULT_BASE_URL, insecure_allowed(self.settings))
        self._key = read_api_key()
        self._root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.prompt_tokens = self.completion_tokens = self.requests = 0
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"{PREFIX}{self.model}"

    def scope(self, template: PromptTemplate) -> dict[str, Any]:
        """What a cached answer depends on besides its prompt (never the key)."""
        p = self.params
        return {
            "endpoint": self.endpoint.label,
            "model": self.model,
            "template": template.name,
            "template_hash": template.hash,
            "temperature": p.temperature,
            "seed": p.seed,
            "max_tokens": p.max_answer_tokens,
            "max_chars": p.max_answer_chars,
        }

    def _folder(self, template: PromptTemplate) -> Path:
        return scope_folder(self._root, self.scope(template))

    def _read(self, template: PromptTemplate) -> dict[str, str]:
        return read_answers(self._folder(template))

    def _append(self, template: PromptTemplate, rows: list[dict[str, Any]]) -> None:
        append_answers(self._folder(template), self.scope(template), rows)

    def cached(self, template: PromptTemplate) -> CachedScope:
        """This model's cache scope of ``template`` with the answers it holds now (nothing is sent)."""
        folder = self._folder(template)
        return CachedScope(folder, self.scope(template), self._read(template), 0.0)

    def _prompts(self, template: PromptTemplate, fields: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
        return [template.render(f) for f in fields]

    def missing(self, template: PromptTemplate, fields: Sequence[Mapping[str, str]]) -> list[tuple[str, str]]:
        """The distinct rendered prompts the cache has no answer for (nothing is sent)."""
        known = self._read(template)
        todo = {input_hash(*p): p for p in self._prompts(template, fields)}
        return [p for k, p in todo.items() if k not in known]

    def estimate(self, template: PromptTemplate, fields: Sequence[Mapping[str, str]]) -> ChatCost:
        """The cost of the prompts :meth:`missing` lists (see :class:`ChatCost`)."""
        todo = self.missing(template, fields)
        tokens_in = sum(estimate_tokens(s) + estimate_tokens(u) for s, u in todo)
        p = self.params
        pin: float | None
        pout: float | None
        if p.price_in is not None and p.price_out is not None:
            pin, pout, src = p.price_in, p.price_out, "user prices"
        elif self.endpoint.is_local:
            pin, pout, src = 0.0, 0.0, "self-hosted endpoint on this machine"
        else:
            pin = pout = None
            src = f"no price for {self.model!r}; give input and output prices (--chat-price-in/--chat-price-out)"
        return ChatCost(self.name, len(todo), tokens_in, len(todo) * p.max_answer_tokens, pin, pout, src)

    def _request(self, system: str, user: str, deadline: float) -> dict[str, Any]:
        s, p = self.settings, self.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "temperature": p.temperature,
            "max_tokens": p.max_answer_tokens,
            "stream": False,
        }
        if p.seed is not None:
            body["seed"] = p.seed
        obj = post_json(
            self.endpoint,
            "/chat/completions",
            body,
            api_key=self._key,
            timeout=s.timeout,
            deadline=deadline,
            retries=s.retries,
            backoff=s.backoff,
            what=f"a chat completion ({self.model})",
        )
        where = f"{self.endpoint.label} (model {self.model})"
        try:
            content = obj["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise ApiResponseError(f"{where}: the answer has no choices[0].message.content") from None
        if content is None:
            content = ""
        if not isinstance(content, str):
            raise ApiResponseError(f"{where}: choices[0].message.content is not text")
        usage = obj.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        counts = []
        for name in ("prompt_tokens", "completion_tokens"):
            v = usage.get(name, 0)
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1e15
            counts.append(int(v) if ok else 0)
        answer = redact(content[: p.max_answer_chars * 4], self._key)[: p.max_answer_chars]
        return {"k": input_hash(system, user), "a": answer, "pt": counts[0], "ct": counts[1]}

    def generate(
        self,
        template: PromptTemplate,
        fields: Sequence[Mapping[str, str]],
        *,
        max_usd: float | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> list[str]:
        """The raw answer (text, at most ``max_answer_chars`` characters) to each prompt, in order.

        Cached answers are reused; the others are sent ``concurrency`` at a time, within
        ``total_timeout`` seconds for the whole call, and appended to the cache per batch.
        ``max_usd``: :meth:`ChatCost.check` before anything is sent.
        """
        prompts = self._prompts(template, fields)
        self.estimate(template, fields).check(max_usd)
        known = self._read(template)
        todo = list({input_hash(*p): p for p in prompts if input_hash(*p) not in known}.values())
        deadline = time.monotonic() + self.settings.total_timeout
        step = self.params.batch
        with ThreadPoolExecutor(max_workers=self.settings.concurrency) as pool:
            for start in range(0, len(todo), step):
                chunk = todo[start : start + step]
                futures = [pool.submit(self._request, s, u, deadline) for s, u in chunk]
                rows = [f.result() for f in futures if f.exception() is None]
                if rows:  # what came back is kept, even when another prompt of the batch failed
                    self._append(template, rows)
                errors = [e for f in futures if (e := f.exception()) is not None]
                with self._lock:
                    self.requests += len(rows)
                    self.prompt_tokens += sum(r["pt"] for r in rows)
                    self.completion_tokens += sum(r["ct"] for r in rows)
                known.update((r["k"], r["a"]) for r in rows)
                if errors:
                    raise errors[0]
                if progress is not None:
                    progress(start + len(chunk), len(todo))
        return [known[input_hash(*p)] for p in prompts]

    def usage(self) -> tuple[int, int, int]:
        """``(requests, prompt_tokens, completion_tokens)`` so far (a snapshot for :meth:`manifest`'s ``since``)."""
        with self._lock:
            return self.requests, self.prompt_tokens, self.completion_tokens

    def manifest(
        self, template: PromptTemplate, cost: ChatCost | None = None, since: tuple[int, int, int] = (0, 0, 0)
    ) -> dict[str, Any]:
        """Endpoint (without key), model, template hash, parameters, and the requests, tokens (server counts)
        and cost since the :meth:`usage` snapshot ``since``; ``cost``: the estimate made before sending."""
        requests, pt, ct = (now - then for now, then in zip(self.usage(), since))
        out: dict[str, Any] = {
            **self.scope(template),
            "prompt_tokens": pt,
            "completion_tokens": ct,
            "requests": requests,
        }
        p = self.params
        if p.price_in is not None and p.price_out is not None:
            out["usd"] = (pt * p.price_in + ct * p.price_out) / 1e6
        elif self.endpoint.is_local:
            out["usd"] = 0.0
        else:
            out["usd"] = None
        if cost is not None:
            out["estimate"] = cost.as_dict()
        return out
