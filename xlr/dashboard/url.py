"""Page settings in the URL: every widget of every page can be opened by a link and restored by Back/Forward.

A page calls :func:`from_url` for each of its widgets before drawing it, and :func:`url_params` after
drawing them. What the page wrote is remembered per widget key (``st.session_state["xlr.url"]``), so a
URL value that differs from it came from outside this widget: a link (in-session or pasted), browser
Back/Forward (Streamlit reruns the page with the old query string), a first visit; it is applied.
A URL equal to what the widget wrote leaves the widget alone: the user's own change on this rerun wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import streamlit as st

from xlr.dashboard.sidebar import sync_url

__all__ = [
    "from_url",
    "link",
    "raw_params",
    "take_param",
    "parse_choice",
    "parse_flag",
    "parse_list",
    "parse_nonnegative",
    "parse_range",
    "url_params",
]


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple):
        return ",".join(map(str, value))
    return str(value)


def from_url(param: str, key: str, parse: Callable[[str], object] = str, default: object = None) -> None:
    """Set the widget ``key`` from the URL parameter ``param`` when the URL says something this widget did
    not write itself: a link opened (in-session or pasted), browser Back/Forward, a first visit.

    Call it before the widget is drawn. ``parse`` turns the text into the widget's value and returns
    ``None`` (or raises ``ValueError``) for a value the widget cannot take, which is ignored. The record
    of what was written is kept per widget key, so a page never mistakes another page's parameter of
    the same name (``model`` on Failed queries and on the heatmap) for its own (issue 19). A parameter
    left out of the URL means ``default`` when one is given (:func:`url_params` leaves defaults out).
    """
    value = st.query_params.get(param, None if default is None else _text(default))
    ss = st.session_state
    written = ss.setdefault("xlr.url", {})
    if value is None or (key in ss and written.get(key) == value):
        return
    written[key] = value
    try:
        parsed = parse(value)
    except ValueError:
        return
    if parsed is not None:
        ss[key] = parsed


def url_params(**params: tuple[str, object] | tuple[str, object, object]) -> None:
    """Mirror a page's own widgets in the URL next to the sidebar's settings:
    ``param=(widget key, value)`` or ``param=(widget key, value, default)``.

    Lists are written comma-separated, booleans as ``1``/``0``; an empty text or the default removes
    the parameter (a link that names only what differs opens the view without a second history
    entry); :func:`from_url` reads them back.
    """
    values: dict[str, str | None] = {}
    written = st.session_state.setdefault("xlr.url", {})
    for param, spec in params.items():
        key, value = spec[0], spec[1]
        text = _text(value)
        written[key] = text
        values[param] = None if not text or (len(spec) > 2 and text == _text(spec[2])) else text
    sync_url(values)


def link(**params: object) -> dict[str, str]:
    """The query parameters of a link to another page's view: the sidebar's settings and ``params``
    (so the page it opens has nothing to add to the URL: Back returns in one step)."""
    return {**st.session_state.get("xlr.url_settings", {}), **{k: _text(v) for k, v in params.items()}}


def take_param(name: str) -> str | None:
    """A parameter of one page only (the Overview's ``ov_*``), once per distinct value: a link opened or
    Back/Forward; ``None`` when absent or what :func:`raw_params` last wrote."""
    value = st.query_params.get(name)
    seen = st.session_state.setdefault("xlr.taken", {})
    if value is None or seen.get(name) == value:
        return None
    seen[name] = value
    return value


def raw_params(**values: str | None) -> None:
    """Write parameters that :func:`take_param` reads (``None`` removes one), with this run's URL."""
    st.session_state.setdefault("xlr.taken", {}).update({k: v for k, v in values.items() if v is not None})
    sync_url(dict(values))


def parse_list(options: Sequence[object]) -> Callable[[str], list[object] | None]:
    """A :func:`from_url` parser of a comma list, keeping the values among ``options`` (by their text)."""
    by_text = {str(o): o for o in options}
    return lambda text: [by_text[x] for x in text.split(",") if x in by_text]


def parse_choice(options: Sequence[object]) -> Callable[[str], object | None]:
    """A :func:`from_url` parser of one of ``options`` (by its text); anything else is ignored."""
    by_text = {str(o): o for o in options}
    return by_text.get


def parse_flag(text: str) -> bool:
    """``1``/``true``/``yes`` → ``True``; ``0``/``false``/``no`` → ``False``; else ``ValueError``."""
    low = text.strip().lower()
    if low in ("1", "true", "yes"):
        return True
    if low in ("0", "false", "no"):
        return False
    raise ValueError(text)


def parse_nonnegative(text: str) -> int | None:
    """A whole number >= 0 written in digits, else ``None`` (ignored)."""
    return int(text) if text.strip().isdigit() else None


def parse_range(low: int, high: int) -> Callable[[str], int | None]:
    """A :func:`from_url` parser of a whole number in ``[low, high]`` written in digits; anything else is ignored."""
    return lambda text: n if (n := parse_nonnegative(text)) is not None and low <= n <= high else None
