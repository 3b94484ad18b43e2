"""Distribution log: every decision, newest first; filters, search, paging and CSV export
run in SQL; one decision opens with its full trace in plain language."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import data, fmt, state
from dashboard.context import PageContext
from dashboard.shape import log_rows as shape
from worker.store.queries.journal_log import OUTCOMES, LogFilter

CSV_MAX_ROWS = 200_000


def render(ctx: PageContext) -> None:
    st.title("Distribution log")
    flt, size = _filters(ctx)
    if st.session_state.get("log_filter") != flt:  # new filter: back to the first page
        st.session_state["log_filter"] = flt
        st.session_state[state.LOG_PAGE] = 0
        st.session_state[state.LOG_CSV] = None
    total = data.load_log_count(ctx.url, flt)
    pages = shape.page_count(total, size)
    page = min(st.session_state[state.LOG_PAGE], pages - 1)
    rows = data.load_log_page(ctx.url, flt, size, page * size)
    _pager(ctx, flt, total, page, pages)
    _table(ctx, rows)
    if rows.empty:
        st.info("No decision matches these filters." if total == 0 else "This page is empty.")
        return
    choices = shape.trace_choices(rows, ctx.viewer)
    picked = st.selectbox(
        "Open the trace of", list(choices), format_func=choices.__getitem__, key="log_pick"
    )
    detail = data.load_decision(ctx.url, int(picked)) if picked is not None else None
    if detail is not None:
        _decision(ctx, detail)


def _filters(ctx: PageContext) -> tuple[LogFilter, int]:
    facets = data.load_facets(ctx.url)
    owner_names = dict(facets.owners)
    f1, f2, f3, f4 = st.columns([2, 2, 2, 3])
    period = f1.date_input(
        "Decided between", value=(ctx.today - timedelta(days=7), ctx.today), key="log_period"
    )
    owners = f2.multiselect(
        "Rep", list(owner_names), format_func=lambda o: owner_names.get(o, o), key="log_owners"
    )
    pools = f3.multiselect("Pool", list(facets.pools), key="log_pools")
    search = f4.text_input(
        "Search lead Id, e-mail or company",
        key="log_search",
        placeholder="00Q…, jane@acme.com, Acme",
    )
    g1, g2, g3 = st.columns([3, 3, 1])
    rules = g1.multiselect("Rule", list(facets.rules), key="log_rules")
    outcomes = g2.multiselect("Outcome", list(OUTCOMES), key="log_outcomes")
    size = g3.selectbox("Rows", (25, 50, 100), index=1, key="log_size")
    flt = shape.log_filter(period, owners, pools, rules, outcomes, search, ctx.viewer)
    return flt, size


def _pager(ctx: PageContext, flt: LogFilter, total: int, page: int, pages: int) -> None:
    p1, p2, p3, p4 = st.columns([1, 1, 3, 2])
    if p1.button("◀ Newer", key="log_prev", disabled=page == 0):
        st.session_state[state.LOG_PAGE] = page - 1
        st.rerun()
    if p2.button("Older ▶", key="log_next", disabled=page >= pages - 1):
        st.session_state[state.LOG_PAGE] = page + 1
        st.rerun()
    p3.text(f"{total:,} decisions · page {page + 1:,} of {pages:,}")
    with p4:
        if st.session_state[state.LOG_CSV] is None:
            if st.button("Prepare CSV of this view", key="log_csv_prepare", disabled=total == 0):
                st.session_state[state.LOG_CSV] = data.export_log_csv(ctx.url, flt, CSV_MAX_ROWS)
                st.rerun()
        else:
            st.download_button(
                "Download CSV",
                st.session_state[state.LOG_CSV],
                file_name="distribution-log.csv",
                mime="text/csv",
                key="log_csv_download",
            )
    if total > CSV_MAX_ROWS:
        st.caption(
            f"CSV export holds the newest {CSV_MAX_ROWS:,} rows of this view; narrow the filter for older ones."
        )


def _table(ctx: PageContext, rows: pd.DataFrame) -> None:
    shown = shape.shown_rows(rows, ctx.viewer)
    small = "small"
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(shown), 560),
        column_order=list(shape.COLUMN_ORDER),
        column_config={
            "decided_at": st.column_config.DatetimeColumn(
                ctx.viewer.column_title("decided"), format=ctx.viewer.table_format
            ),
            "outcome": st.column_config.TextColumn("outcome", width=small),
            "owner_name": st.column_config.TextColumn("owner", width="medium"),
            "reason": st.column_config.TextColumn("reason", width="large"),
            "lead_company": st.column_config.TextColumn("company", width="medium"),
            "lead_name": st.column_config.TextColumn("name", width="medium"),
            "lead_id": st.column_config.TextColumn("lead", width="medium"),
            "pool": st.column_config.TextColumn("pool", width=small),
            "rule": st.column_config.TextColumn("rule", width=small),
            "lead_country": st.column_config.TextColumn("country", width=small),
        },
    )


def _decision(ctx: PageContext, detail: dict[str, Any]) -> None:
    owner = detail["owner_name"] or "—"
    st.subheader(f"Why lead {fmt.md(detail['lead_id'])} went to {fmt.md(owner)}")
    m1, m2, m3, m4 = st.columns(4)
    m1.metric("Outcome", detail["outcome"])
    m2.metric("Pool / rule", f"{detail['pool'] or '–'} / {detail['rule'] or '–'}")
    m3.metric("Time to assign", fmt.duration(detail["assign_seconds"]))
    m4.metric("First touch after", fmt.duration(detail["touch_seconds"]))
    st.text(shape.trace_text(detail))
    if detail.get("error"):
        st.error("Salesforce refused the write; its answer:")
        st.text(detail["error"])  # plain text: the answer can quote lead values
    link = fmt.sf_lead_url(ctx.settings.sf_instance_url, detail["lead_id"])
    if link:
        st.link_button("Open the lead in Salesforce", link)
    else:
        st.caption("Set LEADROUTER_SF_INSTANCE_URL to link leads to Salesforce.")
    history = data.load_lead_history(ctx.url, detail["lead_id"])
    if len(history) > 1:
        st.caption("Every decision about this lead")
        st.dataframe(
            shape.history_rows(history, ctx.viewer),
            hide_index=True,
            width="stretch",
            column_config={"decided_at": ctx.viewer.column_title("decided")},
        )
