"""Small formatting helpers shared by the pages (plain text: never HTML)."""

from __future__ import annotations

from datetime import datetime


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%S UTC") if at else "–"


def ago(seconds: float | None) -> str:
    return "never" if seconds is None else f"{duration(seconds)} ago"


def sf_lead_url(instance_url: str | None, lead_id: str) -> str | None:
    """Lightning record page of a lead, when the Salesforce instance URL is configured."""
    if not instance_url or not lead_id.isalnum():
        return None
    return f"{instance_url.rstrip('/')}/lightning/r/Lead/{lead_id}/view"
