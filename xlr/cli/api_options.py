"""The CLI's ``--api-*`` options for ``openai:<model>`` encoders (no logic: flags -> ApiSettings)."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from xlr.encoders.api import INPUT_TYPE_MODES, ApiSettings

__all__ = ["add_api_flags", "api_settings", "finite"]


def finite(*, positive: bool) -> Callable[[str], float]:
    """An argparse ``type``: a finite number, ``> 0`` when ``positive`` else ``>= 0`` (NaN and inf refused)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0 or (positive and value == 0):
            raise argparse.ArgumentTypeError(f"must be a finite number {'> 0' if positive else '>= 0'}, got {text!r}")
        return value

    parse.__name__ = "number"
    return parse


def add_api_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("API encoders (openai:<model>)")
    g.add_argument(
        "--api-base",
        help="base URL, e.g. http://127.0.0.1:8000/v1 (default $XLR_OPENAI_BASE_URL, "
        "$OPENAI_BASE_URL, https://api.openai.com/v1); the key comes from $OPENAI_API_KEY",
    )
    g.add_argument("--api-dimensions", type=int, default=None, help="'dimensions' to ask for (text-embedding-3-*)")
    g.add_argument(
        "--api-input-type",
        choices=INPUT_TYPE_MODES,
        default="none",
        help="send input_type: query/passage on both sides, or asymmetric (default none)",
    )
    g.add_argument("--api-batch", type=int, default=128, help="texts per request (default 128)")
    g.add_argument("--api-max-tokens", type=int, default=100_000, help="estimated tokens per request (default 100000)")
    g.add_argument("--api-concurrency", type=int, default=4, help="requests in flight (default 4)")
    g.add_argument(
        "--api-timeout", type=finite(positive=True), default=60.0, help="seconds a request may stall (default 60)"
    )
    g.add_argument(
        "--api-total-timeout",
        type=finite(positive=True),
        default=3600.0,
        help="seconds for all requests of one encoding pass, retries included (default 3600)",
    )
    g.add_argument("--api-retries", type=int, default=5, help="retries on 429/5xx/timeouts (default 5)")
    g.add_argument("--api-encoding", choices=("base64", "float"), default="base64", help="vector transport")
    g.add_argument(
        "--api-price", type=finite(positive=False), default=None, help="USD per million tokens (overrides the table)"
    )
    g.add_argument(
        "--api-max-cost",
        type=finite(positive=False),
        default=None,
        help="refuse to start, sending nothing (not even the fingerprint probe), when the estimated cost (USD) "
        "is higher; 0 allows only free endpoints",
    )
    g.add_argument(
        "--api-allow-insecure",
        action="store_true",
        help="accept a plain http:// base URL on another machine (the key and texts travel in clear)",
    )


def api_settings(args: argparse.Namespace) -> ApiSettings:
    return ApiSettings(
        base_url=args.api_base,
        dimensions=args.api_dimensions,
        input_type=args.api_input_type,
        max_inputs=args.api_batch,
        max_tokens=args.api_max_tokens,
        concurrency=args.api_concurrency,
        timeout=args.api_timeout,
        total_timeout=args.api_total_timeout,
        retries=args.api_retries,
        encoding=args.api_encoding,
        allow_insecure=True if args.api_allow_insecure else None,
    )
