"""Plain-text tables for a terminal: one way to print a frame, escaped for the terminal.

:func:`format_frame` is what every command prints a table with: pandas' display limits
widened (no column or row elided), floats with 3 decimals, every cell passed through
:func:`xlr.report.sanitize.terminal_frame` so corpus text cannot move the cursor or reorder
the line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from xlr.report.sanitize import terminal_frame

__all__ = ["format_frame"]


def format_frame(
    frame: pd.DataFrame,
    *,
    formatters: Mapping[str, Callable[[Any], str]] | None = None,
    max_colwidth: int | None = None,
) -> str:
    """``frame`` as terminal-safe text: no index, floats ``0.123``, every row and column shown."""
    with pd.option_context(
        "display.width", 250, "display.max_rows", 5000, "display.max_columns", 50, "display.max_colwidth", max_colwidth
    ):
        return str(
            terminal_frame(frame).to_string(
                index=False, float_format=lambda v: f"{v:.3f}", formatters=dict(formatters or {})
            )
        )
