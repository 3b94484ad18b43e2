"""The effective config for a page, or the one error line every page shows without it."""

from __future__ import annotations

import streamlit as st

from dashboard import fmt
from dashboard.context import PageContext
from worker.config_source import Effective


def effective_or_error(ctx: PageContext) -> Effective | None:
    """``ctx.effective()``, or None after showing why it cannot be loaded (escaped: the
    message quotes the file)."""
    try:
        return ctx.effective()
    except Exception as exc:  # noqa: BLE001 - any config problem is shown, not raised
        where = fmt.md(ctx.settings.routing_config)
        st.error(f"Cannot load the routing config {where}: {fmt.md(exc)}")
        return None
