"""The lead's "why" page (``?lead=<Id>``): which lead a link names, and the headline of
its newest decision. The trace itself is the distribution log's
(:func:`dashboard.shape.log_rows.trace_text`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_LEAD_ID = re.compile(r"00Q[A-Za-z0-9]{12}([A-Za-z0-9]{3})?")
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~$:])")  # what starts Markdown, HTML, math, colour


def as_text(value: object) -> str:
    """``value`` for an element that renders Markdown (headings, alerts, captions): every
    Markdown character escaped, so ``**x**``, ``[a](b)`` or ``<script>`` from lead data,
    a rep's name or a typed reason show as written."""
    return _MARKDOWN.sub(r"\\\1", " ".join(str(value).split()))


def lead_param(value: object) -> str | None:
    """The lead Id a ``?lead=`` link carries, or None when it is not a Lead Id (a link
    is input like any other: anything else is refused, not searched)."""
    text = str(value or "").strip()
    return text if _LEAD_ID.fullmatch(text) else None


def headline(detail: Mapping[str, Any]) -> str:
    """The page's heading (Markdown-escaped: a lead's name is what a web form said)."""
    who = detail.get("owner_name") or detail.get("rep_key")
    name = detail.get("lead_name") or detail["lead_id"]
    if detail.get("outcome") in ("held", "pending", "failed", "skipped"):
        return f"Lead {as_text(name)}: {detail['outcome']}"
    return f"Why lead {as_text(name)} went to {as_text(who or 'nobody')}"


def lead_link(lead_id: str) -> str:
    """The relative link of a lead's "why" page (from any page of the dashboard)."""
    return f"lead?lead={lead_id}"
