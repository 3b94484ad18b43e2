"""Plain-language explanations and JSON forms of decisions and traces (for the journal
and the dashboard's "why did this lead go to Sarah?")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from worker.routing.model import Decision, TraceStep

_SHOWN_KINDS = ("match", "tags", "rule", "territory", "candidate", "fallback", "pick", "decision")


def render_trace(trace: Iterable[TraceStep], *, verbose: bool = False) -> list[str]:
    """The explanation lines, in order. Internal round-robin credit dumps (kind ``state``)
    are left out unless ``verbose``."""
    return [s.message for s in trace if verbose or s.kind in _SHOWN_KINDS]


def trace_to_json(trace: Iterable[TraceStep]) -> str:
    return json.dumps([_step_dict(s) for s in trace], ensure_ascii=False, sort_keys=True)


def trace_from_json(text: str) -> tuple[TraceStep, ...]:
    raw = json.loads(text) if text else []
    return tuple(TraceStep(str(s["kind"]), str(s["message"]), dict(s.get("data", {}))) for s in raw)


def _step_dict(s: TraceStep) -> dict[str, Any]:
    return {"kind": s.kind, "message": s.message, "data": dict(s.data)}


def decision_to_dict(d: Decision) -> dict[str, Any]:
    out = asdict(d)
    out["trace"] = [_step_dict(s) for s in d.trace]
    out["eligible_weights"] = dict(d.eligible_weights)
    return out


def decision_to_json(d: Decision) -> str:
    return json.dumps(decision_to_dict(d), ensure_ascii=False, sort_keys=True)


def decision_from_json(text: str) -> Decision:
    raw: Mapping[str, Any] = json.loads(text)
    return Decision(
        lead_id=raw["lead_id"],
        action=raw["action"],
        owner_id=raw.get("owner_id"),
        rep_key=raw.get("rep_key"),
        pool=raw.get("pool"),
        rule=raw.get("rule"),
        method=raw["method"],
        reason=raw["reason"],
        trace=trace_from_json(json.dumps(raw.get("trace", []))),
        eligible_weights={str(k): float(v) for k, v in raw.get("eligible_weights", {}).items()},
        account_id=raw.get("account_id"),
    )
