"""Fairness audit of one pool over a period: actual vs eligibility-adjusted target,
Jain's index, chi-square verdict, cumulative deviation, and the leftover-leads check."""

from __future__ import annotations

from datetime import timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data, fmt
from dashboard.context import PageContext
from dashboard.report import fairness_html
from dashboard.shape import fairness_rows as shape
from worker.store.queries.fairness import FairnessReport


def render(ctx: PageContext) -> None:
    facets = data.load_facets(ctx.url)
    st.title("Fairness audit")
    if not facets.pools:
        st.info("No routed leads in the journal yet: the audit needs decisions to look at.")
        return
    c1, c2 = st.columns([1, 2])
    pool = c1.selectbox(
        "Pool", facets.pools, index=shape.default_pool(facets.pools), key="fair_pool"
    )
    picked = c2.date_input(
        "Period", value=(ctx.today - timedelta(days=6), ctx.today), key="fair_period"
    )
    period = shape.audit_period(picked, ctx.viewer)
    if period is None:
        st.info("Pick the last day of the period.")
        return
    config = ctx.routing_or_none()
    start, end = period.start, period.end
    report = data.load_fairness(ctx.url, pool, start, end, shape.audit_weights(config, pool))
    reps = shape.rep_table(report, shape.rep_names(config))
    _summary(report, reps, pool, period)
    if reps.empty:
        st.info("No routed leads in this pool and period.")
        return
    _targets(reps)
    _curve(ctx, report, reps)
    mix = data.load_lead_mix(ctx.url, pool, start, end)
    service = data.load_rep_service(ctx.url, pool, start, end)
    _leftovers(mix, service)
    _downloads(ctx, report, reps, service, pool, period)


def _summary(
    report: FairnessReport, reps: pd.DataFrame, pool: str, period: shape.AuditPeriod
) -> None:
    """Plain words first (rep names are data: escaped); the statistics behind a toggle."""
    verdict_box = st.success if shape.is_fair(report) else st.warning
    verdict_box(fmt.md(shape.headline(report, pool, period)))
    for sentence in shape.rep_sentences(reps):
        st.text(sentence)
    if report.without_eligibility:
        st.caption(
            f"{report.without_eligibility:,} routed decisions had no eligibility data in their trace and are left out."
        )
    if report.truncated:
        st.warning(
            "The period holds more decisions than one audit reads; shorten it for an exact result."
        )
    with st.expander("Statistics (Jain's index, chi-square)"):
        st.text(report.verdict)
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
        worst, whose = shape.largest_deviation(reps)
        m4.metric("Largest deviation", worst, border=True, help=fmt.md(whose) if whose else None)


def _targets(reps: pd.DataFrame) -> None:
    st.subheader("Actual vs target per rep")
    st.caption(
        "Target = the sum, over every lead routed in the pool, of the rep's weight divided by the total weight of the reps eligible at that moment (time away and caps lower it)."
    )
    # stacked, not side by side: at 1280 px the table's seven columns need the full width
    st.dataframe(
        reps[list(shape.REP_COLUMNS)],
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
    st.altair_chart(
        alt.Chart(shape.target_bars(reps))
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


def _curve(ctx: PageContext, report: FairnessReport, reps: pd.DataFrame) -> None:
    st.subheader("Cumulative deviation over the period")
    st.altair_chart(
        alt.Chart(shape.deviation_curve(report, reps, ctx.viewer))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("at:T", title=ctx.viewer.zone_name),
            y=alt.Y("deviation:Q", title="leads above (+) / below (−) target"),
            color=alt.Color("rep:N", legend=alt.Legend(orient="bottom", columns=4)),
            tooltip=["rep", "at:T", alt.Tooltip("deviation:Q", format="+.1f")],
        )
        .properties(height=320),
        width="stretch",
    )


def _leftovers(mix: pd.DataFrame, service: pd.DataFrame) -> None:
    st.subheader("Leftover leads: did everyone get the same quality?")
    dim = st.radio(
        "Mix by",
        ("rating", "size", "source"),
        horizontal=True,
        key="fair_mix_dim",
        format_func={"rating": "lead rating", "size": "company size", "source": "lead source"}.get,
    )
    part = shape.mix_slice(mix, dim)
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
        fmt.blanks(service.drop(columns=["owner_id"])),
        hide_index=True,
        width="stretch",
        placeholder="",  # a missing number (no touch yet) is blank, not "None"
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


def _downloads(
    ctx: PageContext,
    report: FairnessReport,
    reps: pd.DataFrame,
    service: pd.DataFrame,
    pool: str,
    period: shape.AuditPeriod,
) -> None:
    e1, e2 = st.columns(2)
    e1.download_button(
        "Download CSV (per rep)",
        data.frame_csv(shape.csv_table(reps, service)),
        file_name=shape.export_name(pool, period, "csv"),
        mime="text/csv",
        key="fair_csv",
    )
    e2.download_button(
        "Download printable report (HTML)",
        fairness_html(report, reps, service, generated=ctx.viewer.when(ctx.now)).encode(),
        file_name=shape.export_name(pool, period, "html"),
        mime="text/html",
        key="fair_html",
    )
