"""Fairness audit of one pool over a period: actual vs eligibility-adjusted target,
Jain's index, chi-square verdict, cumulative deviation, and the leftover-leads check."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, fmt
from dashboard.report import fairness_html

url = data.settings().database_url
facets = data.load_facets(url)

st.title("Fairness audit")
if not facets.pools:
    st.info("No routed leads in the journal yet: the audit needs decisions to look at.")
    st.stop()

today = datetime.now(UTC).date()
c1, c2 = st.columns([1, 2])
default_pool = next((i for i, p in enumerate(facets.pools) if p.upper().startswith("EMEA")), 0)
pool = c1.selectbox("Pool", facets.pools, index=default_pool, key="fair_pool")
period = c2.date_input("Period", value=(today - timedelta(days=6), today), key="fair_period")
if not isinstance(period, tuple | list) or len(period) < 2:
    st.info("Pick the last day of the period.")
    st.stop()
start = datetime.combine(period[0], time.min, UTC)
end = datetime.combine(period[1] + timedelta(days=1), time.min, UTC)

report = data.load_fairness(url, pool, start, end, data.pool_weights(pool))
reps = pd.DataFrame([r.__dict__ for r in report.reps])
if not reps.empty:  # reps who got nothing are only known by key in the journal
    names = data.rep_names()
    reps["name"] = [names.get(k, n) for k, n in zip(reps["rep"], reps["name"], strict=True)]

verdict_box = st.success if report.p_value is not None and report.p_value >= 0.05 else st.warning
verdict_box(f"**{pool}, {period[0]} to {period[1]}:** {report.verdict}")
m1, m2, m3, m4 = st.columns(4)
m1.metric("Routed leads audited", f"{report.decisions:,}", border=True)
m2.metric(
    "Jain's index",
    "–" if report.jain is None else f"{report.jain:.3f}",
    border=True,
    help="1.000 = every rep got exactly their eligibility-adjusted share.",
)
m3.metric(
    "Chi-square p-value",
    "–" if report.p_value is None else f"{report.p_value:.3f}",
    border=True,
    help="Chance of a split at least this uneven if routing followed the weights exactly.",
)
worst = reps.loc[reps["deviation"].abs().idxmax()] if not reps.empty else None
m4.metric(
    "Largest deviation",
    "–" if worst is None else f"{worst['deviation']:+.1f} leads",
    border=True,
    help=None if worst is None else str(worst["name"]),
)
if report.without_eligibility:
    st.caption(
        f"{report.without_eligibility:,} routed decisions had no eligibility data in their trace and are left out."
    )
if report.truncated:
    st.warning(
        "The period holds more decisions than one audit reads; shorten it for an exact result."
    )
if reps.empty:
    st.info("No routed leads in this pool and period.")
    st.stop()

st.subheader("Actual vs target per rep")
st.caption(
    "Target = the sum, over every lead routed in the pool, of the rep's weight divided by the total weight of the reps eligible at that moment (time away and caps lower it)."
)
left, right = st.columns([3, 2])
with left:
    st.dataframe(
        reps[["name", "actual", "target", "deviation", "share_actual", "share_target", "caps_hit"]],
        hide_index=True,
        width="stretch",
        column_config={
            "name": "rep",
            "target": st.column_config.NumberColumn(format="%.1f"),
            "deviation": st.column_config.NumberColumn("deviation (leads)", format="%+.1f"),
            "share_actual": st.column_config.NumberColumn("actual share", format="percent"),
            "share_target": st.column_config.NumberColumn("target share", format="percent"),
            "caps_hit": st.column_config.NumberColumn("skipped at cap", format="%d"),
        },
    )
with right:
    bars = reps.melt(
        id_vars=["name"], value_vars=["actual", "target"], var_name="series", value_name="leads"
    )
    st.altair_chart(
        alt.Chart(bars)
        .mark_bar()
        .encode(
            y=alt.Y("name:N", title=None),
            x=alt.X("leads:Q"),
            color="series:N",
            yOffset="series:N",
            tooltip=["name", "series", alt.Tooltip("leads:Q", format=".1f")],
        )
        .properties(height=max(200, 26 * len(reps))),
        width="stretch",
    )

st.subheader("Cumulative deviation over the period")
curve = pd.DataFrame(report.cumulative, columns=["at", "rep", "deviation"])
curve["rep"] = curve["rep"].map(
    lambda r: dict(zip(reps["rep"], reps["name"], strict=True)).get(r, r)
)
st.altair_chart(
    alt.Chart(curve)
    .mark_line(interpolate="step-after")
    .encode(
        x=alt.X("at:T", title=None),
        y=alt.Y("deviation:Q", title="leads above (+) / below (−) target"),
        color=alt.Color("rep:N", legend=alt.Legend(orient="bottom", columns=4)),
        tooltip=["rep", "at:T", alt.Tooltip("deviation:Q", format="+.1f")],
    )
    .properties(height=320),
    width="stretch",
)

st.subheader("Leftover leads: did everyone get the same quality?")
mix = data.load_lead_mix(url, pool, start, end)
service = data.load_rep_service(url, pool, start, end)
dim = st.radio(
    "Mix by",
    ("rating", "size", "source"),
    horizontal=True,
    key="fair_mix_dim",
    format_func={"rating": "lead rating", "size": "company size", "source": "lead source"}.get,
)
part = mix[mix["dimension"] == dim]
st.altair_chart(
    alt.Chart(part)
    .mark_bar()
    .encode(
        y=alt.Y("owner:N", title=None),
        x=alt.X("sum(leads):Q", stack="normalize", title="share of the rep's leads"),
        color=alt.Color("bucket:N", title=dim),
        tooltip=["owner", "bucket", "leads"],
    )
    .properties(height=max(200, 26 * part["owner"].nunique())),
    width="stretch",
)
st.dataframe(
    service.drop(columns=["owner_id"]),
    hide_index=True,
    width="stretch",
    column_config={
        "owner": "rep",
        "sla_breaches": st.column_config.NumberColumn("SLA breaches", format="%d"),
        "median_first_touch_min": st.column_config.NumberColumn(
            "median first touch (min)", format="%.1f"
        ),
        "avg_first_touch_min": st.column_config.NumberColumn(
            "mean first touch (min)", format="%.1f"
        ),
    },
)
st.caption(
    "Conversion is not in the journal (the worker does not read opportunities), so it is not shown."
)

e1, e2 = st.columns(2)
e1.download_button(
    "Download CSV (per rep)",
    data.frame_csv(reps.merge(service, how="left", left_on="name", right_on="owner")),
    file_name=f"fairness-{pool}-{period[0]}-{period[1]}.csv",
    mime="text/csv",
    key="fair_csv",
)
e2.download_button(
    "Download printable report (HTML)",
    fairness_html(report, reps, service, generated=fmt.when(datetime.now(UTC))).encode(),
    file_name=f"fairness-{pool}-{period[0]}-{period[1]}.html",
    mime="text/html",
    key="fair_html",
)
