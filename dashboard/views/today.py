"""Team today: who is next in each pool, each rep's leads today and this week in the
team's time zone, the SLA clocks at risk or breached, and one-click availability."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import availability, data, state
from dashboard.context import PageContext
from dashboard.effective import effective_or_error
from dashboard.shape import today_rows as shape
from worker.config_source import Effective


def render(ctx: PageContext) -> None:
    st.title("Team today")
    current = effective_or_error(ctx)
    if current is None:
        return
    config = current.routing
    try:
        period = shape.periods(ctx.now, shape.team_zone(config))
    except ValueError as exc:
        st.error(f"intake.business_hours: {exc}")
        return
    st.caption(f"{period.local_day}, in the team's time zone ({period.zone}); weeks start Monday.")
    flash = st.session_state.get(state.SETTINGS_FLASH)
    if flash:
        st.success(flash)
        st.session_state[state.SETTINGS_FLASH] = None
    _next_up(ctx, current)
    _counts(ctx, current, period)
    _sla(ctx)
    if ctx.is_admin:
        _availability(ctx, current)


def _next_up(ctx: PageContext, current: Effective) -> None:
    config = current.routing
    st.subheader("Who is next")
    directory = data.load_rep_directory(ctx.url)
    untouched = data.load_untouched(ctx.url, ctx.minute - timedelta(days=shape.STALE_DAYS))
    reps = shape.rep_statuses(config, directory, untouched)
    routing_state = data.load_routing_state(ctx.url)
    rows = []
    for pool in config.pools:
        decisions = shape.next_up(config, routing_state, reps, ctx.now, pool)
        picks = shape.next_up_rows(config, decisions, pool)
        rows.append({"pool": pool, **{str(p["#"]): _pick(p) for p in picks}})
    st.caption(
        "The next five leads of each pool if they arrived now, as the router would pick "
        "them: round robin, caps, working hours and availability as they stand."
    )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def _pick(p: dict[str, object]) -> str:
    return f"{p['rep']} ({p['note']})" if p["note"] and p["rep"] != "held" else str(p["rep"])


def _counts(ctx: PageContext, current: Effective, period: shape.Periods) -> None:
    st.subheader("Leads per rep")
    today = data.load_assigned(ctx.url, period.day_start)
    week = data.load_assigned(ctx.url, period.week_start)
    rows = shape.count_rows(current.routing, today, week)
    st.dataframe(
        pd.DataFrame(rows).drop(columns=["key"]),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 420),
    )


def _sla(ctx: PageContext) -> None:
    st.subheader("SLA at risk or breached")
    share = shape.AT_RISK_SHARE
    stale = ctx.minute - timedelta(days=shape.STALE_DAYS)
    clocks = data.load_sla_clocks(ctx.url, stale, ctx.minute + timedelta(days=1))
    rows = shape.sla_rows(clocks, ctx.now, share)
    st.caption(
        f"Leads nobody has touched yet: breached (past due, within the last "
        f"{shape.STALE_DAYS} days), or at risk (in the last {share:.0%} of the time their "
        "SLA allows)."
    )
    if not rows:
        st.caption("Nothing at risk.")
        return
    frame = pd.DataFrame(rows)
    frame["why"] = "lead?lead=" + frame.pop("lead_id")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={"why": st.column_config.LinkColumn("why", display_text="open")},
    )


def _availability(ctx: PageContext, current: Effective) -> None:
    st.subheader("Availability")
    config = current.routing
    keys = sorted(config.reps, key=lambda k: config.reps[k].name)
    rep_key = st.selectbox(
        "Rep", keys, format_func=lambda k: f"{config.reps[k].name} ({k})", key="today_rep"
    )
    availability.toggle(current, rep_key, key="today_avail", user_id=None)
