"""My leads (the rep role): switch yourself on or off, and see the leads you got today
and this week (in the team's time zone)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from dashboard import availability, data, state
from dashboard.context import PageContext
from dashboard.effective import effective_or_error
from dashboard.shape import my_leads_rows as shape
from dashboard.shape.today_rows import periods, team_zone


def render(ctx: PageContext) -> None:
    st.title("My leads")
    current = effective_or_error(ctx)
    if current is None:
        return
    config = current.routing
    directory = data.load_rep_directory(ctx.url)
    rep_key = shape.resolve_rep(ctx.actor.rep_key, config, directory)
    if rep_key is None:
        st.info(
            "This sign-in names no rep of the routing config: a rep's users-file entry "
            "says which rep it is (rep: their e-mail or Salesforce user Id)."
        )
        return
    flash = st.session_state.get(state.SETTINGS_FLASH)
    if flash:
        st.success(flash)
        st.session_state[state.SETTINGS_FLASH] = None
    availability.toggle(
        current, rep_key, key="my_avail", user_id=shape.user_id_of(rep_key, directory)
    )
    period = periods(ctx.now, team_zone(config))
    rows = data.load_rep_leads(ctx.url, rep_key, period.week_start)
    shown, today, week = shape.my_rows(rows, period.day_start, ZoneInfo(period.zone))
    c1, c2 = st.columns(2)
    c1.metric("Today", today)
    c2.metric("This week", week)
    st.caption(f"Times in the team's time zone ({period.zone}); weeks start Monday.")
    if not shown:
        st.caption("No lead this week yet.")
        return
    st.dataframe(pd.DataFrame(shown).drop(columns=["lead_id"]), hide_index=True, width="stretch")
