"""Find a lead: what the search box accepts, and the rows shown (one per lead, its newest
decision first, with a link to its "why" page)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.shape.lead_rows import lead_link
from worker.store.queries.journal_log import SEARCH_WINDOW

SEARCH_HELP = (
    "A lead Id (00Q…), an e-mail address, an e-mail domain (gmail.com finds every lead "
    "with an address there), or part of the lead's name or company (any case; among the "
    f"newest {SEARCH_WINDOW:,} decisions, so a search never reads the whole journal)."
)
MIN_CHARS = 2


def search_problem(text: str) -> str | None:
    """Why ``text`` is not searched (too short to mean anything), or None."""
    return f"Type at least {MIN_CHARS} characters." if len(text.strip()) < MIN_CHARS else None


def result_rows(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per lead (``rows`` newest first: the first seen is its latest decision)."""
    seen: set[str] = set()
    out = []
    for r in rows:
        if r["lead_id"] in seen:
            continue
        seen.add(r["lead_id"])
        out.append(
            {
                "lead": r.get("lead_name") or "",
                "company": r.get("lead_company") or "",
                "e-mail": r.get("lead_email") or "",
                "outcome": r.get("outcome") or "",
                "owner": r.get("owner_name") or "",
                "lead_id": r["lead_id"],
                "why": lead_link(str(r["lead_id"])),
            }
        )
    return out
