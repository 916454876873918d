"""What an API encoding run will cost, said before it starts.

Token estimate: ``ceil(utf8_bytes / 4) + 2`` per text.  Byte-pair tokenizers (OpenAI's
``cl100k``/``o200k``, XLM-R's sentencepiece) spend about one token per 4 bytes of
English, per 2 Greek or Arabic letters (2 bytes each) and per CJK character (3 bytes),
so bytes / 4 tracks them across scripts without shipping a tokenizer; the +2 stands for
the special tokens.  It is an estimate: the figures the server reports afterwards
(``usage.total_tokens``) are the ones to trust.

Prices are USD per million input tokens.  :data:`PRICES` holds OpenAI's list prices of
its embedding models (https://openai.com/api/pricing; standard tier, checked against
public price listings in November 2026: $0.02, $0.13 and $0.10; the Batch API bills half,
which these estimates do not assume); a user overrides or extends them with ``XLR_API_PRICES`` (``model=price,...``)
or the CLI's ``--api-price``.  A self-hosted endpoint on this machine costs nothing per
token; any other unknown model has an unknown price (``None``), never a guessed one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from xlr import settings

__all__ = [
    "PRICES",
    "BudgetError",
    "CostEstimate",
    "PriceError",
    "estimate_cost",
    "estimate_tokens",
    "parse_prices",
]

PRICES: dict[str, float] = {
    "text-embedding-3-small": 0.02,
    "text-embedding-3-large": 0.13,
    "text-embedding-ada-002": 0.10,
}


class PriceError(ValueError):
    """A price override that cannot be read."""


class BudgetError(ValueError):
    """An API run whose estimated cost is over the limit the user set (or unknown while a limit is set)."""


def estimate_tokens(text: str) -> int:
    """Estimated tokens of one text: ``ceil(len(text.encode('utf-8')) / 4) + 2``."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4) + 2


def parse_prices(spec: str, *, source: str = "XLR_API_PRICES") -> dict[str, float]:
    """``"model=usd_per_million,model=..."`` -> dict; one-sentence :class:`PriceError` on a bad entry."""
    out: dict[str, float] = {}
    for i, item in enumerate(x.strip() for x in spec.split(",")):
        if not item:
            continue
        model, sep, value = item.rpartition("=")
        try:
            price = float(value)
        except ValueError:
            price = -1.0
        if not sep or not model.strip() or not math.isfinite(price) or price < 0:
            raise PriceError(f"{source}: entry {i + 1} ({item!r}) is not model=price (USD per million tokens, >= 0)")
        out[model.strip()] = price
    return out


def _price_table(overrides: Mapping[str, float] | None) -> dict[str, float]:
    table = dict(PRICES)
    env = settings.env("XLR_API_PRICES")
    if env:
        table.update(parse_prices(env))
    if overrides:
        table.update(overrides)
    return table


@dataclass(frozen=True)
class CostEstimate:
    """Texts to send, estimated tokens and cost (USD; ``None`` when the price is unknown)."""

    model: str
    n_texts: int
    tokens: int
    usd_per_million: float | None
    price_source: str

    @property
    def usd(self) -> float | None:
        if self.usd_per_million is None:
            return None
        return self.tokens * self.usd_per_million / 1e6

    def check(self, max_usd: float | None) -> None:
        """Raise :class:`BudgetError` when ``max_usd`` is set and the estimate is over it or unknown."""
        if max_usd is None:
            return
        if not (math.isfinite(max_usd) and max_usd >= 0):
            raise BudgetError(
                f"the cost limit must be a finite number of dollars >= 0, got {max_usd!r}; nothing was sent"
            )
        if self.usd is None:
            raise BudgetError(
                f"{self.model}: the cost cannot be estimated ({self.price_source}), so the limit "
                f"of ${max_usd:g} cannot be checked; nothing was sent"
            )
        if self.usd > max_usd:
            raise BudgetError(
                f"{self.model}: estimated cost ${self.usd:.6f} is over the limit of ${max_usd:g} "
                f"({self.n_texts:,} texts, ~{self.tokens:,} tokens); nothing was sent"
            )

    def sentence(self) -> str:
        """``openai:x: up to 1,234 texts, ~56,789 tokens (estimate), ~$0.0011 at $0.02/M (price table)``."""
        head = f"{self.model}: up to {self.n_texts:,} texts to send, ~{self.tokens:,} tokens (estimate)"
        if self.usd is None:
            return f"{head}, cost unknown ({self.price_source})"
        return f"{head}, ~${self.usd:.6f} at ${self.usd_per_million:g}/M tokens ({self.price_source})"


def estimate_cost(
    name: str,
    model: str,
    texts: Iterable[str],
    *,
    local: bool = False,
    prices: Mapping[str, float] | None = None,
) -> CostEstimate:
    """Estimate for sending ``texts`` (already de-duplicated by the caller) to ``model``.

    ``name`` labels the estimate (``openai:<model>``); ``local`` marks an endpoint on this
    machine (no per-token price unless one is given); ``prices`` override the table.
    """
    texts = list(texts)
    tokens = sum(estimate_tokens(t) for t in texts)
    for key, value in (prices or {}).items():
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise PriceError(
                f"the price of {key!r} must be a finite number of USD per million tokens >= 0, got {value!r}"
            )
    table = _price_table(prices)
    if model in table:
        per_m: float | None = table[model]
        src = "OpenAI list price" if PRICES.get(model) == per_m else "user price"
    elif local:
        per_m, src = 0.0, "self-hosted endpoint on this machine"
    else:
        per_m, src = None, f"no price for {model!r}; give one with --api-price or XLR_API_PRICES"
    return CostEstimate(name, len(texts), tokens, per_m, src)
