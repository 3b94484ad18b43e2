"""What-if: replay the last N days of real leads (from the journal) with proposed weights,
caps and on/off switches, and compare with what actually happened. Nothing is written:
not to the store, not to Salesforce."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.whatif import (
    PROPOSAL_COLUMNS,
    actual_counts,
    proposal_overrides,
    proposal_rows,
    replay,
    to_lead,
)
from worker.routing_config import ConfigError, apply_overrides
from worker.store.accounts_repo import account_index
from worker.store.queries.replay import recent_routed_leads, rep_directory

MAX_LEADS = 5000
cfg = data.settings()
url = cfg.database_url

st.title("What-if")
st.caption(
    "Replays recent leads from the journal through the routing core with your proposal. Read-only: nothing is saved or sent to Salesforce."
)

try:
    effective = data.effective().routing
except Exception as exc:  # noqa: BLE001 - any config problem is shown, not raised
    st.error(f"Cannot load the routing config {cfg.routing_config}: {exc}")
    st.stop()

c1, c2 = st.columns([1, 1])
pool = c1.selectbox("Pool", list(effective.pools), key="whatif_pool")
days = c2.slider("Replay the last N days", 1, 30, 7, key="whatif_days")

baseline = pd.DataFrame(proposal_rows(effective, pool), columns=list(PROPOSAL_COLUMNS))
st.subheader("Your proposal")
st.caption(
    "Weight and caps in this pool are the pool's own when it sets them, else the rep's; "
    "the rep's daily cap counts leads from every pool."
)
proposal = st.data_editor(
    baseline,
    hide_index=True,
    width="stretch",
    key="whatif_editor",
    disabled=["rep", "name"],
    column_config={
        "weight in pool": st.column_config.NumberColumn(min_value=0.01, step=0.1),
        "cap/day in pool": st.column_config.NumberColumn(min_value=0, step=1),
        "rep cap/day": st.column_config.NumberColumn(min_value=0, step=1),
    },
)

if not st.button("Run what-if", type="primary", key="whatif_run"):
    st.info("Change weights, caps or switches above, then run the replay.")
    st.stop()

try:
    proposed = apply_overrides(
        effective, proposal_overrides(effective, pool, proposal.to_dict("records"))
    )
except ConfigError as exc:
    st.error(f"The proposal is not valid: {exc}")
    st.stop()

rows = recent_routed_leads(
    data.engine(), data.now_minute() - timedelta(days=days), pool=pool, limit=MAX_LEADS
)
if not rows:
    st.info("No leads were routed to this pool in that period.")
    st.stop()
directory = rep_directory(data.engine())
with st.spinner(f"Replaying {len(rows):,} leads…"):
    # the accounts these leads could match, from the store's account mirror, as the
    # worker reads them
    accounts = account_index(data.engine(), [to_lead(r) for r in rows], effective.account_matching)
    now_run = replay(effective, rows, accounts=accounts, directory=directory)
    new_run = replay(proposed, rows, accounts=accounts, directory=directory)
actual, actual_held = actual_counts(rows)
if len(rows) >= MAX_LEADS:
    st.caption(f"Replayed the newest {MAX_LEADS:,} leads of the period.")

names = {k: r.name for k, r in effective.reps.items()}
reps = sorted(
    set(actual) | set(now_run.counts) | set(new_run.counts), key=lambda k: names.get(k, k)
)
table = pd.DataFrame(
    [
        {
            "rep": names.get(k, k),
            "actual": actual.get(k, 0),
            "replay, current config": now_run.counts.get(k, 0),
            "replay, proposal": new_run.counts.get(k, 0),
        }
        for k in reps
    ]
)
table["change"] = table["replay, proposal"] - table["replay, current config"]
m1, m2, m3 = st.columns(3)
m1.metric("Leads replayed", f"{len(rows):,}", border=True)
cur, new = now_run.per_pool.get(pool), new_run.per_pool.get(pool)
m2.metric(
    "Jain's index, current → proposal",
    f"{cur.jain:.3f} → {new.jain:.3f}" if cur and new else "–",
    border=True,
)
m3.metric(
    "Held, actual / current / proposal",
    f"{actual_held} / {now_run.held} / {new_run.held}",
    border=True,
)
left, right = st.columns([2, 3])
left.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={"change": st.column_config.NumberColumn(format="%+d")},
)
long = table.melt(
    id_vars=["rep"],
    value_vars=["actual", "replay, current config", "replay, proposal"],
    var_name="run",
    value_name="leads",
)
right.altair_chart(
    alt.Chart(long)
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
    "The replay routes each lead as the worker saw it (the fields the routing config read), in the batches and at the instants the worker decided them, with the accounts of the store's account mirror and the reps' Salesforce users as the worker last saw them, from an empty routing state; known-contact matches and open-lead counts before the period are not replayed. The actual column is what the worker really did."
)
