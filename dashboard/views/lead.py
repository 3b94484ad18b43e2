"""A lead's "why" page (``?lead=<Id>``, the link notifications carry): its newest
decision's trace, as the distribution log shows it, and every decision about it."""

from __future__ import annotations

import streamlit as st

from dashboard import data, fmt
from dashboard.context import PageContext
from dashboard.shape import lead_rows as shape
from dashboard.shape.log_rows import history_rows, trace_text


def render(ctx: PageContext) -> None:
    st.title("Why this lead")
    given = st.query_params.get("lead")
    typed = st.text_input("Lead Id", value=given or "", key="lead_id_input")
    lead_id = shape.lead_param(typed)
    if lead_id is None:
        if typed.strip():
            st.error("Not a Lead Id (15 or 18 characters starting 00Q).")
        else:
            st.caption("Open a lead from a notification, the search or Team today.")
        return
    if given != lead_id:
        st.query_params["lead"] = lead_id  # the address bar is the link to share
    found = data.load_latest_decision(ctx.url, lead_id)
    detail = data.load_decision(ctx.url, found) if found is not None else None
    if detail is None:
        st.info(f"No decision about lead {lead_id} in the journal.")
        return
    st.subheader(shape.headline(detail))
    c1, c2, c3 = st.columns(3)
    c1.metric("Outcome", detail["outcome"])
    c2.metric("Pool / rule", f"{detail['pool'] or '–'} / {detail['rule'] or '–'}")
    c3.metric("Time to assign", fmt.duration(detail["assign_seconds"]))
    st.text(trace_text(detail))
    link = fmt.sf_lead_url(ctx.settings.sf_instance_url, lead_id)
    if link:
        st.link_button("Open the lead in Salesforce", link)
    history = data.load_lead_history(ctx.url, lead_id)
    if len(history) > 1:
        st.caption("Every decision about this lead")
        st.dataframe(history_rows(history), hide_index=True, width="stretch")
