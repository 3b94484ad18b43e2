"""Find a lead: by Id, e-mail, e-mail domain, name or company; each result opens its
"why" page."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.context import PageContext
from dashboard.shape import search_rows as shape
from worker.store.queries.journal_log import LogFilter

LIMIT = 200


def render(ctx: PageContext) -> None:
    st.title("Find a lead")
    text = st.text_input(
        "Search", key="search_text", help=shape.SEARCH_HELP,
        placeholder="00Q…, jane@acme.com, gmail.com, Jane, Acme",
    )  # fmt: skip
    if not text.strip():
        st.caption(shape.SEARCH_HELP)
        return
    problem = shape.search_problem(text)
    if problem:
        st.caption(problem)
        return
    frame = data.load_log_page(ctx.url, LogFilter(search=text.strip()), LIMIT, 0)
    rows = shape.result_rows(frame.to_dict("records"))
    if not rows:
        st.info("No lead matches.")
        return
    st.caption(f"{len(rows)} lead(s) among the newest {LIMIT} matching decisions.")
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_order=["why", "lead", "company", "e-mail", "outcome", "owner", "lead_id"],
        column_config={
            "why": st.column_config.LinkColumn("why", display_text="open"),
            "lead_id": "lead Id",
        },
    )
