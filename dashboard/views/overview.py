"""Overview: today's flow, timings, SLA, API allocation and worker health at a glance."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, fmt

url = data.settings().database_url
ov = data.load_overview(url, data.now_minute())
s = ov.series

st.title("Overview")
st.caption(f"Figures up to {fmt.when(ov.now)}; sparklines: last {len(ov.days)} days (UTC).")

c1, c2, c3, c4 = st.columns(4)
c1.metric(
    "Leads routed today",
    f"{ov.routed_today:,}",
    border=True,
    chart_data=s["routed"],
    chart_type="bar",
)
c2.metric("Routed, last 7 days", f"{ov.routed_7d:,}", border=True, chart_data=s["routed"])
c3.metric(
    "Held leads (24 h)",
    f"{ov.held_24h:,}",
    border=True,
    chart_data=s["held"],
    chart_type="bar",
    help="Leads nobody could take; they stay in the intake queue and are retried.",
)
c4.metric(
    "SLA re-assignments (7 d)",
    f"{ov.sla_reassigned_7d:,}",
    border=True,
    chart_data=s["sla"],
    chart_type="bar",
    help=f"Escalations: {ov.escalated_7d:,}",
)

c1, c2, c3, c4 = st.columns(4)
t, f = ov.time_to_assign, ov.time_to_first_touch
c1.metric(
    "Time to assign, median (7 d)",
    fmt.duration(t.median_s),
    border=True,
    chart_data=s["assign_median_s"],
    help=f"p95 {fmt.duration(t.p95_s)} over {t.samples:,} leads; sparkline: daily median, last 7 days.",
)
c2.metric("Time to assign, p95 (7 d)", fmt.duration(t.p95_s), border=True)
c3.metric(
    "First touch, median (7 d)",
    fmt.duration(f.median_s),
    border=True,
    chart_data=s["touch_median_s"],
    help=f"p95 {fmt.duration(f.p95_s)} over {f.samples:,} touched leads; sparkline: daily median, last 7 days.",
)
c4.metric("First touch, p95 (7 d)", fmt.duration(f.p95_s), border=True)

left, right = st.columns(2)
with left:
    st.subheader("Why leads are held (24 h)")
    if ov.held_reasons:
        st.dataframe(
            pd.DataFrame(ov.held_reasons, columns=["reason", "leads"]),
            hide_index=True,
            width="stretch",
            column_config={"leads": st.column_config.NumberColumn(format="%d")},
        )
    else:
        st.success("No lead was held in the last 24 hours.")
    st.subheader("API allocation")
    if ov.api_used is not None and ov.api_max:
        st.metric(
            "Daily API calls used",
            f"{ov.api_used:,} / {ov.api_max:,}",
            f"{ov.api_used / ov.api_max:.1%} of the allocation",
            delta_color="off",
        )
        usage = data.load_api_usage(url, ov.now - timedelta(days=2))
        frame = pd.DataFrame(usage, columns=["at", "used", "max"])
        st.altair_chart(
            alt.Chart(frame)
            .mark_area(opacity=0.5)
            .encode(
                x=alt.X("at:T", title=None), y=alt.Y("used:Q", title="calls used (rolling 24 h)")
            )
            .properties(height=160),
            width="stretch",
        )
    else:
        st.info("No API usage recorded yet.")
with right:
    st.subheader("Worker health")
    st.metric(
        "Failed write-backs (24 h)",
        f"{ov.failed_24h:,}",
        border=True,
        chart_data=s["failed"],
        chart_type="bar",
    )
    if ov.workers:
        frame = pd.DataFrame(ov.workers)
        frame["last seen"] = frame["seconds_since_seen"].map(fmt.ago)
        cols = [
            "worker_id",
            "hostname",
            "role",
            "last seen",
            "last_cycle_at",
            "last_cycle_ms",
            "last_error",
        ]
        st.dataframe(
            frame[[c for c in cols if c in frame.columns]],
            hide_index=True,
            width="stretch",
            column_config={
                "last_cycle_at": st.column_config.DatetimeColumn(
                    "last cycle", format="YYYY-MM-DD HH:mm:ss"
                ),
                "last_cycle_ms": st.column_config.NumberColumn("cycle ms", format="%.0f"),
            },
        )
        active = [w for w in ov.workers if w.get("role") == "active"]
        if not active:
            st.warning("No worker is active right now.")
        for w in active:
            silent = w.get("seconds_since_seen")
            if silent is not None and silent > 120:
                st.warning(
                    f"Active worker {w['worker_id']} has been silent for {fmt.duration(silent)}."
                )
    else:
        st.info("No worker has reported yet.")
