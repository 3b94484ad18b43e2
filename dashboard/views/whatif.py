"""What-if: replay the last N days of real leads (from the journal) with proposed weights,
caps and on/off switches, and compare with what actually happened. Nothing is written:
not to the store, not to Salesforce."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, fmt
from dashboard.context import PageContext
from dashboard.effective import effective_or_error
from dashboard.replay import actual_counts, replay, to_lead
from dashboard.shape import whatif_rows as shape
from worker.routing.model import RoutingConfig
from worker.routing_config import ConfigError, apply_overrides

MAX_LEADS = 5000


def render(ctx: PageContext) -> None:
    st.title("What-if")
    st.caption(
        "Replays recent leads from the journal through the routing core with your proposal. Read-only: nothing is saved or sent to Salesforce."
    )
    current = effective_or_error(ctx)
    if current is None:
        return
    effective = current.routing
    c1, c2 = st.columns([1, 1])
    pool = c1.selectbox("Pool", list(effective.pools), key="whatif_pool")
    days = c2.slider("Replay the last N days", 1, 30, 7, key="whatif_days")
    proposal = _proposal(effective, pool)
    if not st.button("Run what-if", type="primary", key="whatif_run"):
        st.info("Change weights, caps or switches above, then run the replay.")
        return
    try:
        proposed = apply_overrides(
            effective, shape.proposal_overrides(effective, pool, proposal.to_dict("records"))
        )
    except ConfigError as exc:
        st.error(f"The proposal is not valid: {fmt.md(exc)}")
        return
    _run(ctx, effective, proposed, pool, days)


def _proposal(effective: RoutingConfig, pool: str) -> pd.DataFrame:
    baseline = pd.DataFrame(
        shape.proposal_rows(effective, pool), columns=list(shape.PROPOSAL_COLUMNS)
    )
    st.subheader("Your proposal")
    st.caption(
        "Weight and caps in this pool are the pool's own when it sets them, else the rep's; "
        "the rep's daily cap counts leads from every pool."
    )
    return st.data_editor(
        baseline,
        hide_index=True,
        width="stretch",
        placeholder="",  # a missing cap is blank, not "None"
        key="whatif_editor",
        disabled=["rep", "name"],
        column_config={
            "weight in pool": st.column_config.NumberColumn(min_value=0.01, step=0.1),
            "cap/day in pool": st.column_config.NumberColumn(min_value=0, step=1),
            "rep cap/day": st.column_config.NumberColumn(min_value=0, step=1),
        },
    )


def _run(
    ctx: PageContext, effective: RoutingConfig, proposed: RoutingConfig, pool: str, days: int
) -> None:
    rows = data.load_replay_leads(ctx.url, ctx.minute - timedelta(days=days), pool, MAX_LEADS)
    if not rows:
        st.info("No leads were routed to this pool in that period.")
        return
    directory = data.load_rep_directory(ctx.url)
    with st.spinner(f"Replaying {len(rows):,} leads…"):
        leads = [to_lead(r) for r in rows]
        accounts = data.load_account_index(ctx.url, leads, effective.account_matching)
        known = data.load_known_emails(ctx.url, leads, directory)
        now_run = replay(effective, rows, accounts=accounts, known_emails=known,
                         directory=directory)  # fmt: skip
        new_run = replay(proposed, rows, accounts=accounts, known_emails=known,
                         directory=directory)  # fmt: skip
    actual, actual_held = actual_counts(rows)
    if len(rows) >= MAX_LEADS:
        st.caption(f"Replayed the newest {MAX_LEADS:,} leads of the period.")
    names = {k: r.name for k, r in effective.reps.items()}
    table = shape.comparison_table(names, actual, now_run.counts, new_run.counts)
    m1, m2, m3 = st.columns(3)
    m1.metric("Leads replayed", f"{len(rows):,}", border=True)
    m2.metric(
        "Jain's index, current → proposal",
        shape.jain_change(now_run.per_pool.get(pool), new_run.per_pool.get(pool)),
        border=True,
    )
    m3.metric(
        "Held, actual / current / proposal",
        shape.held_counts(actual_held, now_run.held, new_run.held),
        border=True,
    )
    _comparison(table)


def _comparison(table: pd.DataFrame) -> None:
    count = st.column_config.NumberColumn
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_order=list(shape.COMPARISON_COLUMNS),
        column_config={
            "rep": st.column_config.TextColumn("rep", width="medium"),
            "change": count("change", format="%+d", help="proposal − current config"),
            shape.RUNS[2]: count("proposal", format="%d", help="replay with your proposal"),
            shape.RUNS[1]: count("current config", format="%d", help="replay with today's config"),
            shape.RUNS[0]: count("actual", format="%d", help="what the worker really did"),
        },
    )
    st.altair_chart(
        alt.Chart(shape.comparison_long(table))
        .mark_bar()
        .encode(
            y=alt.Y("rep:N", title=None),
            x="leads:Q",
            color=alt.Color("run:N", legend=alt.Legend(orient="bottom")),
            yOffset="run:N",
            tooltip=["rep", "run", "leads"],
        )
        .properties(height=max(220, 30 * len(table))),
        width="stretch",
    )
    st.caption(
        "The replay routes each lead as the worker saw it (the fields the routing config read), in the batches and at the instants the worker decided them, with the accounts and contacts of the store's mirrors (as they are now) and the reps' Salesforce users as the worker last saw them, from an empty routing state; open-lead counts before the period are not replayed. The actual column is what the worker really did."
    )
