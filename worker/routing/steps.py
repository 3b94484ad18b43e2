"""Trace steps and hold decisions shared by the engine: plain-language lines for the
rules tested, the territory chosen and a hold."""

from __future__ import annotations

from collections.abc import Mapping

from worker.routing.facts import LeadFacts
from worker.routing.model import Decision, Lead, Rule, TraceStep


def trace_territory(t: object, also: list[str], trace: list[TraceStep]) -> None:
    name = getattr(t, "name", None)
    msg = f"Territory {name}" if name else "No territory matched"
    if also:
        msg += f" (by priority over {', '.join(also)})"
    trace.append(TraceStep("territory", msg, {"territory": name, "also_matched": also}))


def trace_rules(
    failed: list[tuple[str, str]],
    rule: Rule | None,
    conds: tuple[object, ...],
    facts: LeadFacts,
    trace: list[TraceStep],
) -> None:
    """One step listing the rules that did not match (and why), one for the match."""
    if failed:
        # data["failed"]: [(rule, why), ...], handed over, not copied; the full sentence
        # is composed by render_trace (not stored twice in every journal row)
        trace.append(TraceStep("rule", f"{len(failed)} rule(s) not matched", {"failed": failed}))
    if rule is not None:
        shown = ", ".join(c.explain(facts) for c in conds)  # type: ignore[attr-defined]
        msg = f"Rule '{rule.name}' matched" + (f": {shown}" if shown else " (default rule)")
        trace.append(TraceStep("rule", msg, {"rule": rule.name, "action": rule.action}))


def hold_decision(
    lead: Lead,
    rule: str | None,
    reason: str,
    trace: list[TraceStep],
    pool: str | None = None,
    data: Mapping[str, object] | None = None,
) -> Decision:
    """Leave the lead in the intake queue (retried next cycle); never dropped. ``data``
    goes on the decision step (e.g. ``tried``: each pool or rep tried and why not)."""
    trace.append(TraceStep("decision", reason, data or {}))
    return Decision(lead.id, "hold", None, None, pool, rule, "hold", reason, tuple(trace))
