"""Distribution log: every decision, newest first; filters, search, paging and CSV export
run in SQL; one decision opens with its full trace in plain language."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import streamlit as st

from dashboard import data, fmt, state
from dashboard.trace import trace_lines
from worker.store.queries.journal_log import OUTCOMES, LogFilter

CSV_MAX_ROWS = 200_000
cfg = data.settings()
url = cfg.database_url
facets = data.load_facets(url)
owner_names = dict(facets.owners)

st.title("Distribution log")
today = datetime.now(UTC).date()
f1, f2, f3, f4 = st.columns([2, 2, 2, 3])
period = f1.date_input(
    "Decided between", value=(today - timedelta(days=7), today), key="log_period"
)
owners = f2.multiselect(
    "Rep", list(owner_names), format_func=lambda o: owner_names.get(o, o), key="log_owners"
)
pools = f3.multiselect("Pool", list(facets.pools), key="log_pools")
search = f4.text_input(
    "Search lead Id, e-mail or company", key="log_search", placeholder="00Q…, jane@acme.com, Acme"
)
g1, g2, g3 = st.columns([3, 3, 1])
rules = g1.multiselect("Rule", list(facets.rules), key="log_rules")
outcomes = g2.multiselect("Outcome", list(OUTCOMES), key="log_outcomes")
size = g3.selectbox("Rows", (25, 50, 100), index=1, key="log_size")


def _bounds(value: object) -> tuple[datetime | None, datetime | None]:
    if isinstance(value, tuple | list) and value:
        start = datetime.combine(value[0], time.min, UTC)
        end_day: date = value[1] if len(value) > 1 else value[0]
        return start, datetime.combine(end_day + timedelta(days=1), time.min, UTC)
    return None, None


start, end = _bounds(period)
flt = LogFilter(
    start, end, tuple(owners), tuple(pools), tuple(rules), tuple(outcomes), search.strip()
)
if st.session_state.get("log_filter") != flt:  # new filter: back to the first page
    st.session_state["log_filter"] = flt
    st.session_state[state.LOG_PAGE] = 0
    st.session_state[state.LOG_CSV] = None

total = data.load_log_count(url, flt)
pages = max(1, -(-total // size))
page = min(st.session_state[state.LOG_PAGE], pages - 1)
rows = data.load_log_page(url, flt, size, page * size)

p1, p2, p3, p4 = st.columns([1, 1, 3, 2])
if p1.button("◀ Newer", key="log_prev", disabled=page == 0):
    st.session_state[state.LOG_PAGE] = page - 1
    st.rerun()
if p2.button("Older ▶", key="log_next", disabled=page >= pages - 1):
    st.session_state[state.LOG_PAGE] = page + 1
    st.rerun()
p3.markdown(f"**{total:,}** decisions · page {page + 1:,} of {pages:,}")
with p4:
    if st.session_state[state.LOG_CSV] is None:
        if st.button("Prepare CSV of this view", key="log_csv_prepare", disabled=total == 0):
            st.session_state[state.LOG_CSV] = data.export_log_csv(url, flt, CSV_MAX_ROWS)
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

shown = rows.drop(columns=["kind", "status", "hop"], errors="ignore")
st.dataframe(
    shown,
    hide_index=True,
    width="stretch",
    height=min(38 + 35 * len(shown), 560),
    column_order=[
        "decided_at",
        "outcome",
        "lead_id",
        "lead_name",
        "lead_company",
        "lead_country",
        "owner_name",
        "pool",
        "rule",
        "reason",
    ],
    column_config={
        "decided_at": st.column_config.DatetimeColumn(
            "decided (UTC)", format="YYYY-MM-DD HH:mm:ss"
        ),
        "lead_id": "lead",
        "lead_name": "name",
        "lead_company": "company",
        "lead_country": "country",
        "owner_name": "owner",
        "reason": st.column_config.TextColumn("reason", width="large"),
    },
)

if rows.empty:
    st.info("No decision matches these filters." if total == 0 else "This page is empty.")
    st.stop()

labels = {
    int(
        r.id
    ): f"{fmt.when(r.decided_at)} · {r.lead_id} · {r.lead_company or '–'} → {r.owner_name or r.outcome}"
    for r in rows.itertuples()
}
picked = st.selectbox(
    "Open the trace of", list(labels), format_func=labels.__getitem__, key="log_pick"
)
detail = data.load_decision(url, int(picked)) if picked is not None else None
if detail is None:
    st.stop()

st.subheader(f"Why lead {detail['lead_id']} went to {detail['owner_name'] or '—'}")
m1, m2, m3, m4 = st.columns(4)
m1.metric("Outcome", detail["outcome"])
m2.metric("Pool / rule", f"{detail['pool'] or '–'} / {detail['rule'] or '–'}")
m3.metric("Time to assign", fmt.duration(detail["assign_seconds"]))
m4.metric("First touch after", fmt.duration(detail["touch_seconds"]))
st.text(
    "\n".join(f"{i}. {line}" for i, line in enumerate(trace_lines(detail["trace"]), 1))
    or detail["reason"]
)
if detail.get("error"):
    st.error("Salesforce refused the write; its answer:")
    st.text(detail["error"])  # plain text: the answer can quote lead values
link = fmt.sf_lead_url(cfg.sf_instance_url, detail["lead_id"])
if link:
    st.link_button("Open the lead in Salesforce", link)
else:
    st.caption("Set LEADROUTER_SF_INSTANCE_URL to link leads to Salesforce.")
history = data.load_lead_history(url, detail["lead_id"])
if len(history) > 1:
    st.caption("Every decision about this lead")
    st.dataframe(
        [
            {k: h[k] for k in ("decided_at", "outcome", "owner_name", "pool", "reason")}
            for h in history
        ],
        hide_index=True,
        width="stretch",
    )
