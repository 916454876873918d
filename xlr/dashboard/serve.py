"""The serving policy in the sidebar: what a visitor may name, and the confirmation an API run waits for.

The decisions are :class:`xlr.dashboard.policy.ServePolicy`'s (no streamlit there); this module reads
the server's address and draws the estimate, the key's mask and the confirmation button.
"""

from __future__ import annotations

import streamlit as st

from xlr import settings
from xlr.dashboard import resources as res
from xlr.dashboard.policy import MAX_COST, ServePolicy, is_api_model
from xlr.dashboard.state import Context, literal
from xlr.encoders.api_cost import BudgetError
from xlr.encoders.api_http import KEY_VAR, ApiKeyError, mask_key, read_api_key
from xlr.retrieval.encode_plan import api_cost_estimates

__all__ = ["confirmed_models", "serve_policy"]


def serve_policy() -> ServePolicy:
    """This server's :class:`~xlr.dashboard.policy.ServePolicy` (environment and ``server.address``)."""
    try:
        address = st.get_option("server.address")
    except (KeyError, RuntimeError):  # no such option: assume the server is reachable from elsewhere
        address = None
    return ServePolicy.from_env(settings.environment(), address)


def confirmed_models(models: tuple[str, ...], ctx: Context) -> tuple[str, ...]:
    """``models`` less the API encoders not (yet) allowed to send: each states its cost estimate and the key
    it uses (``sk-…last4``), and waits for its button; one over ``$XLR_DASHBOARD_MAX_COST`` is refused.
    A confirmation holds for this data set, directions and N; nothing is sent before it."""
    ss, sb = st.session_state, st.sidebar
    api = [m for m in models if is_api_model(m)]
    if not api:
        return models
    policy = serve_policy()
    if policy.problem:
        sb.error(literal(policy.problem))
    try:
        key = f"key {mask_key(read_api_key())} from ${KEY_VAR}" if read_api_key() else f"no ${KEY_VAR}"
    except ApiKeyError as exc:
        key = str(exc)
    confirmed = ss.setdefault("xlr.api_confirmed", set())
    encoders = [res.encoder(ctx.key(m)) for m in api]
    refused: set[str] = set()
    for name, est in zip(api, api_cost_estimates(ctx.data.corpus, ctx.spec, encoders)):  # before sending
        token = (ctx.key(name), ctx.dkey, ctx.spec.directions, ctx.spec.first)
        try:
            est.check(policy.max_cost)
        except BudgetError as exc:
            sb.error(literal(f"{exc} (the server's limit, ${MAX_COST})."))
            refused.add(name)
            continue
        if token in confirmed:
            sb.caption(literal(f"{est.sentence()}; {key}; texts already cached are not sent."))
            continue
        refused.add(name)
        sb.warning(
            literal(f"{est.sentence()}; {key}; texts already cached are not sent. Nothing is sent before you confirm.")
        )
        if sb.button(f"Send texts to {name}", key=f"w.api_send.{name}"):
            confirmed.add(token)
            refused.discard(name)
    return tuple(m for m in models if m not in refused)
