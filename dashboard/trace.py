"""A decision's trace as plain-language lines (the routing core's own wording)."""

from __future__ import annotations

import json
from typing import Any

from worker.routing import render_trace
from worker.routing.model import TraceStep


def trace_steps(trace_json: str | None) -> list[dict[str, Any]]:
    try:
        raw = json.loads(trace_json or "[]")
    except ValueError:
        return []
    if isinstance(raw, dict):
        raw = raw.get("steps", [])
    return [s for s in raw if isinstance(s, dict)] if isinstance(raw, list) else []


def trace_lines(trace_json: str | None) -> list[str]:
    """The core's ``render_trace`` over the journal's steps (internal credit dumps left
    out); malformed steps fall back to their stored sentences."""
    steps = trace_steps(trace_json)
    try:
        parsed = [
            TraceStep(str(s["kind"]), str(s["message"]), dict(s.get("data") or {})) for s in steps
        ]
    except (KeyError, TypeError, ValueError):
        return [str(s.get("message", "")).strip() for s in steps if s.get("message")]
    return render_trace(parsed)
