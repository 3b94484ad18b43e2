"""Overview: today's flow, timings, SLA, API allocation and worker health at a glance."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import streamlit as st

from dashboard import data, fmt
from dashboard.context import PageContext
from dashboard.shape import overview_rows as shape
from worker.store.queries.overview import Overview


def render(ctx: PageContext) -> None:
    ov = data.load_overview(ctx.url, ctx.minute, ctx.viewer.zone_name)
    st.title("Overview")
    st.caption(shape.figures_caption(ov, ctx.viewer))
    _flow(ov)
    _timings(ov)
    left, right = st.columns(2)
    with left:
        _held(ov)
        _api(ctx, ov)
    with right:
        _workers(ctx, ov)


def _flow(ov: Overview) -> None:
    s = ov.series
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


def _timings(ov: Overview) -> None:
    s = ov.series
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


def _held(ov: Overview) -> None:
    st.subheader("Why leads are held (24 h)")
    if ov.held_reasons:
        st.dataframe(
            shape.held_reasons(ov),
            hide_index=True,
            width="stretch",
            column_config={"leads": st.column_config.NumberColumn(format="%d")},
        )
    else:
        st.success("No lead was held in the last 24 hours.")


def _api(ctx: PageContext, ov: Overview) -> None:
    st.subheader("API allocation")
    allocation = shape.api_allocation(ov)
    if allocation is None:
        st.info("No API usage recorded yet.")
        return
    used, share = allocation
    st.metric("Daily API calls used", used, share, delta_color="off")
    usage = data.load_api_usage(ctx.url, ov.now - timedelta(days=2))
    frame = shape.api_usage(usage, ctx.viewer)
    st.altair_chart(
        alt.Chart(frame)
        .mark_area(opacity=0.5)
        .encode(
            x=alt.X(
                "at:T",
                title=ctx.viewer.zone_name,
                axis=alt.Axis(format=ctx.viewer.axis_format),
            ),
            y=alt.Y("used:Q", title="calls used (rolling 24 h)"),
        )
        .properties(height=160),
        width="stretch",
    )


def _workers(ctx: PageContext, ov: Overview) -> None:
    st.subheader("Worker health")
    st.metric(
        "Failed write-backs (24 h)",
        f"{ov.failed_24h:,}",
        border=True,
        chart_data=ov.series["failed"],
        chart_type="bar",
    )
    if not ov.workers:
        st.info("No worker has reported yet.")
        return
    st.dataframe(
        shape.workers_table(ov.workers, ctx.viewer),
        hide_index=True,
        width="stretch",
        column_config={
            "last_cycle_at": st.column_config.DatetimeColumn(
                ctx.viewer.column_title("last cycle"), format=ctx.viewer.table_format
            ),
            "last_error": st.column_config.TextColumn("last error", width="large"),
            "last_cycle_ms": st.column_config.NumberColumn("cycle ms", format="%.0f"),
        },
    )
    for warning in shape.worker_warnings(ov.workers):
        st.warning(fmt.md(warning), icon=":material/warning:")  # names a worker: data
