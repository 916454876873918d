"""What a visitor of the dashboard may trigger: a policy, not an accident (no streamlit here).

A dashboard served to others lets any visitor put values in the URL and the sidebar. Two of them
reach beyond the visitor's own browser: a **local path** (``?dataset=/path``, the path box, an
``st:/folder`` encoder) reads the server's disk, and an **API encoder** (``openai:<model>``) spends
the server's key. Both are accepted only when the operator says so:

* ``XLR_DASHBOARD_ALLOW_PATHS`` / ``XLR_DASHBOARD_ALLOW_API``: ``1``/``true``/``yes`` allow,
  ``0``/``false``/``no`` refuse; unset: allowed only when the server listens on a loopback
  address (``127.0.0.1``, the default of ``.streamlit/config.toml``), where every visitor is a
  user of this machine. Behind a reverse proxy the server listens on loopback too: set both to ``0``.
* ``XLR_DASHBOARD_MAX_COST``: USD; an API run whose estimate is over it (or unknown) is refused.

The operator's own choices (``XLR_DEFAULT_DATASET``, ``XLR_DEFAULT_MODELS``) are trusted. A
refusal is one sentence that names the setting and is the same whether the path exists or not
(it is decided before the file system is touched). Uploads stay allowed: they are the visitor's
own bytes.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ALLOW_API", "ALLOW_PATHS", "MAX_COST", "ServePolicy", "is_api_model", "is_path_model"]

ALLOW_PATHS = "XLR_DASHBOARD_ALLOW_PATHS"
ALLOW_API = "XLR_DASHBOARD_ALLOW_API"
MAX_COST = "XLR_DASHBOARD_MAX_COST"


def is_loopback(address: str | None) -> bool:
    """``localhost`` or a loopback IP; an empty address (all interfaces) is not."""
    host = (address or "").strip().strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_api_model(name: str) -> bool:
    """An encoder that sends texts to an API with the server's key."""
    return name.strip().startswith("openai:")


def is_path_model(name: str) -> bool:
    """An ``st:`` encoder named by a local path (absolute, ``~``, ``.``, or a Windows drive), not a hub id."""
    name = name.strip()
    if not name.startswith("st:"):
        return False
    target = name[3:].strip()
    return target.startswith(("/", "~", ".", "\\")) or (len(target) > 1 and target[1] == ":")


def _flag(env: Mapping[str, str], var: str) -> bool | None:
    value = env.get(var, "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    return None


@dataclass(frozen=True)
class ServePolicy:
    """``paths``/``api``: whether visitors may name local paths / API encoders; ``max_cost``: USD cap per run."""

    paths: bool = True
    api: bool = True
    max_cost: float | None = None
    problem: str = ""
    """A setting that could not be read (said in the sidebar; the strict value is used instead)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str], address: str | None) -> ServePolicy:
        """The policy of a server listening on ``address`` (``server.address``), from ``env``."""
        local = is_loopback(address)
        paths, api = _flag(env, ALLOW_PATHS), _flag(env, ALLOW_API)
        raw = env.get(MAX_COST, "").strip()
        cap, problem = None, ""
        if raw:
            try:
                cap = float(raw)
            except ValueError:
                cap = math.nan
            if not (math.isfinite(cap) and cap >= 0):
                cap, problem = 0.0, f"{MAX_COST}={raw!r} is not a number of dollars >= 0: no API run is allowed"
        return cls(local if paths is None else paths, local if api is None else api, cap, problem)

    def refuse_source(self, source: str, named: frozenset[str] | set[str] | tuple[str, ...]) -> str:
        """Why a visitor may not load ``source`` (``""``: allowed). ``named``: the registered data sets."""
        if source in named or self.paths:
            return ""
        return (
            f"local paths are not accepted on this server (the operator allows them with {ALLOW_PATHS}=1); "
            "upload the file instead"
        )

    def refuse_model(self, name: str) -> str:
        """Why a visitor may not use encoder ``name`` (``""``: allowed)."""
        if is_api_model(name) and not self.api:
            return f"{name}: API encoders are not accepted on this server (the operator allows them with {ALLOW_API}=1)"
        if is_path_model(name) and not self.paths:
            return f"st: folders are not accepted on this server (the operator allows them with {ALLOW_PATHS}=1)"
        return ""
