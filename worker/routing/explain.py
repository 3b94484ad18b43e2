"""Plain-language explanations and JSON forms of decisions and traces (for the journal
and the dashboard's "why did this lead go to Sarah?")."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from worker.routing.model import Decision, TraceStep

_SHOWN_KINDS = ("match", "tags", "rule", "territory", "candidate", "fallback", "pick", "sla",
                "decision")  # fmt: skip


def render_step(step: TraceStep) -> str:
    """One plain-language line; the failed-rules step lists each rule and why."""
    failed = step.data.get("failed") if step.kind == "rule" else None
    if isinstance(failed, list | tuple) and failed:
        return "Rules not matched: " + "; ".join(f"'{name}' ({why})" for name, why in failed)
    return step.message


def render_trace(trace: Iterable[TraceStep], *, verbose: bool = False) -> list[str]:
    """The explanation lines, in order. Internal round-robin credit dumps (kind ``state``)
    are left out unless ``verbose``."""
    return [render_step(s) for s in trace if verbose or s.kind in _SHOWN_KINDS]


def trace_to_json(trace: Iterable[TraceStep]) -> str:
    """Compact, sorted keys: the same text the worker journals (``records.trace_json``)."""
    steps = [_step_dict(s) for s in trace]
    return json.dumps(steps, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def trace_from_json(text: str) -> tuple[TraceStep, ...]:
    raw = json.loads(text) if text else []
    return tuple(TraceStep(str(s["kind"]), str(s["message"]), dict(s.get("data", {}))) for s in raw)


def _rounded(value: Any) -> Any:
    """Floats to 4 decimals (round-robin credits are kept unrounded while routing)."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_rounded(v) for v in value]
    return value


def _step_dict(s: TraceStep) -> dict[str, Any]:
    return {"kind": s.kind, "message": s.message, "data": _rounded(dict(s.data))}


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
