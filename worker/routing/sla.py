"""SLA: when an assigned lead must have been touched, and what happens when it was not.

Every assignment has a clock. Its policy comes from the rule that routed the lead, else
its pool, else the config's default (:func:`sla_policy_for`). A lead that went to an
account owner has no pool to move within: unless its rule says otherwise, a miss reminds
the owner and tells their manager, and the lead stays.

``sla_due_at`` adds the policy's minutes to the assignment time, either as wall-clock
minutes or (``working_hours_only``) counting only minutes inside the owner's working
blocks, in the owner's time zone; out-of-office days and holidays do not count either. A
rep without working hours is treated as always working.

:func:`breach_step` decides what a miss leads to (the sweep in ``worker.jobs.sla`` only
gathers the facts and carries the step out): re-assign within the pool, remind the owner,
move the lead to the escalation target, or remind the owner and tell their manager.
:func:`sla_decision` turns the step into the decision journaled for it, a
:class:`~worker.routing.model.Decision` like any routing decision: its reason and trace say
why (the policy and where it comes from, the miss, the moves and reminders so far, the
targets tried), and are what the dashboard shows for the SLA row.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from weakref import WeakKeyDictionary

from worker.routing import _libs
from worker.routing.availability import zone
from worker.routing.config_model import BreachAction
from worker.routing.model import Decision, Rep, RoutingConfig, SlaPolicy, Target, TraceStep

_MAX_DAYS = 366  # a rep with no working minutes at all: give up after a year


def _day_blocks(rep: Rep, day_start: datetime) -> list[tuple[int, int]]:
    day = day_start.date()
    if any(r.start <= day <= r.end for r in rep.out_of_office):
        return []
    if rep.holidays and _libs.holiday_name(rep.holidays, day):
        return []
    assert rep.working_hours is not None
    return [(b.start, b.end) for b in rep.working_hours[day.weekday()]]


def sla_due_at(
    assigned_at: datetime, policy: SlaPolicy, rep: Rep | None = None, now: datetime | None = None
) -> datetime:
    """When the lead breaches its SLA (an aware UTC datetime).

    ``now`` is accepted for symmetry with the other helpers and ignored: the due time
    depends only on the assignment time and the owner's calendar.
    """
    del now
    minutes = float(policy.minutes)
    if not policy.working_hours_only or rep is None or rep.working_hours is None:
        return assigned_at + timedelta(minutes=minutes)
    tz = zone(rep.timezone)
    local = assigned_at.astimezone(tz)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (local - day_start).total_seconds() / 60
    for _ in range(_MAX_DAYS):
        for start, end in _day_blocks(rep, day_start):
            begin = max(float(start), offset)
            if begin >= end:
                continue
            if minutes <= end - begin:
                wall = day_start.replace(tzinfo=None) + timedelta(minutes=begin + minutes)
                return wall.replace(tzinfo=tz).astimezone(assigned_at.tzinfo)
            minutes -= end - begin
        day_start = (day_start.replace(tzinfo=None) + timedelta(days=1)).replace(tzinfo=tz)
        offset = 0.0
    return assigned_at + timedelta(days=_MAX_DAYS)


def is_touched(
    status: str | None,
    policy: SlaPolicy,
    *,
    owner_changed: bool = False,
    activity_since_assignment: bool = False,
) -> bool:
    """True when the rep worked the lead: its status left the untouched statuses, an
    activity was logged, or someone else took ownership."""
    if owner_changed or activity_since_assignment:
        return True
    return (status or "") not in policy.untouched_statuses


def sla_next_step(policy: SlaPolicy, hops: int) -> BreachAction:
    """After a breach: the policy's ``on_breach`` (re-assign within the pool, or remind the
    owner) while ``hops < max_hops``, then escalate."""
    if policy.on_breach == "escalate" or hops >= policy.max_hops:
        return "escalate"
    return policy.on_breach


def escalation_target(policy: SlaPolicy) -> Target:
    """Where to escalate; the owner's manager when none is configured."""
    return policy.escalate_to or Target("manager")


def previous_owners(history: Collection[str], current: str | None) -> frozenset[str]:
    """``exclude_reps`` for a re-assignment: everyone who already had the lead."""
    return frozenset(history) | ({current} if current else frozenset())


# --- which policy applies --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SlaChoice:
    """The SLA of an assignment and where it comes from (said in the trace)."""

    policy: SlaPolicy
    source: str  # "rule 'Enterprise'", "pool sales" or "the default"


_RULE_SLAS: WeakKeyDictionary[RoutingConfig, dict[str, SlaPolicy]] = WeakKeyDictionary()


def _rule_slas(config: RoutingConfig) -> dict[str, SlaPolicy]:
    hit = _RULE_SLAS.get(config)
    if hit is None:
        hit = {r.name: r.sla for r in config.rules if r.sla is not None}
        _RULE_SLAS[config] = hit
    return hit


def sla_policy_for(config: RoutingConfig, *, pool: str | None, rule: str | None) -> SlaChoice:
    """The SLA of a lead assigned in ``pool`` by ``rule``: the rule's, else the pool's,
    else the config's default.

    A lead without a pool went to an account owner. The default never moves such a lead
    (someone chose that owner for the account): it keeps the default's minutes, and a miss
    reminds the owner and tells their manager. A rule's own ``sla:`` may say otherwise.
    """
    by_rule = _rule_slas(config).get(rule or "")
    if by_rule is not None:
        return SlaChoice(by_rule, f"rule '{rule}'")
    by_pool = config.pools.get(pool or "")
    if by_pool is not None and by_pool.sla is not None:
        return SlaChoice(by_pool.sla, f"pool {pool}")
    if pool is None:
        kept = replace(config.sla, on_breach="escalate", escalate_to=Target("manager"))
        return SlaChoice(kept, "the default for account owners")
    return SlaChoice(config.sla, "the default")


# --- what a miss leads to -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Breach:
    """What the sweep knows about an untouched assignment past its due time.

    ``lead_id``, ``owner_id``, ``rep_key``, ``pool``, ``rule``: the assignment as
    journalled. ``hop``: SLA moves of the lead so far (the journal's hop); ``reminders``: breach
    reminders already sent for this assignment. ``manager``: the owner's manager's name
    (None: nobody is known). ``nobody_eligible``: a re-assignment found nobody else in the
    pool; ``move_failed``: why the escalation target could not take the lead.
    """

    choice: SlaChoice
    owner: str  # the owner's name, as the reason says it
    due_at: datetime
    now: datetime
    lead_id: str
    owner_id: str | None = None
    rep_key: str | None = None
    rule: str | None = None
    pool: str | None = None
    hop: int = 0
    reminders: int = 0
    manager: str | None = None
    rep: Rep | None = None  # the owner's rep config (working hours for a new window)
    nobody_eligible: bool = False
    move_failed: str | None = None


StepKind = Literal["reassign", "remind", "move", "manager"]


@dataclass(frozen=True, slots=True)
class BreachStep:
    """The decision about a breach. ``reassign``: pick another rep of ``target`` (a pool);
    ``remind``: tell the owner, keep the lead, new due time ``due_at``; ``move``: give the
    lead to ``target`` (rep, pool or queue); ``manager``: remind the owner and tell their
    manager (``notify_manager``; False when nobody is known), keep the lead. Only a
    ``remind`` keeps the clock running."""

    kind: StepKind
    reason: str
    trace: tuple[TraceStep, ...]
    target: Target | None = None
    due_at: datetime | None = None
    notify_manager: bool = False


def breach_step(b: Breach) -> BreachStep:
    """What to do about an assignment that was not touched in time."""
    policy = b.choice.policy
    action = sla_next_step(policy, b.reminders if policy.on_breach == "remind" else b.hop)
    notes: list[TraceStep] = []
    if action == "reassign" and (b.pool is None or b.nobody_eligible):
        why = f"nobody else eligible in pool {b.pool}" if b.pool else "no pool to re-assign within"
        notes.append(TraceStep("fallback", f"Not re-assigned: {why}", {"why": why}))
        action = "escalate"
    missed = f"SLA of {policy.minutes} min missed"
    if action == "reassign":
        hop = f"hop {b.hop + 1} of {policy.max_hops}"
        reason = f"{missed}: re-assigned within pool {b.pool} ({hop})"
        return _step(b, notes, "reassign", reason, target=Target("pool", b.pool))
    if action == "remind":
        due = sla_due_at(b.now, policy, b.rep)
        count = f"reminder {b.reminders + 1} of {policy.max_hops}"
        reason = f"{missed}: reminded {b.owner} ({count}); new due time {_when(due)}"
        return _step(b, notes, "remind", reason, due_at=due)
    target = escalation_target(policy)
    if target.kind in ("rep", "pool", "queue") and b.move_failed is None:
        reason = f"{missed} after {b.hop} hop(s): escalated to {target.kind} {target.name}"
        return _step(b, notes, "move", reason, target=target)
    if b.move_failed is not None:
        why = f"Not escalated to {target.kind} {target.name}: {b.move_failed}"
        notes.append(TraceStep("fallback", why, {"why": b.move_failed}))
    if b.manager is None:
        reason = (
            f"{missed}: reminded {b.owner}; no manager known for {b.owner} (the User's "
            "Manager in Salesforce), so nobody else was told; the lead stays with them"
        )
        return _step(b, notes, "manager", reason)
    reason = f"{missed}: reminded {b.owner}; escalated to their manager {b.manager}"
    return _step(b, notes, "manager", reason, notify_manager=True)


def _step(
    b: Breach,
    notes: list[TraceStep],
    kind: StepKind,
    reason: str,
    *,
    target: Target | None = None,
    due_at: datetime | None = None,
    notify_manager: bool = False,
) -> BreachStep:
    """The step with its trace: the policy and its source, the miss, notes, the decision."""
    p = b.choice.policy
    time = " of working time" if p.working_hours_only else ""
    policy = f"SLA {p.minutes} min{time} from {b.choice.source}; on a miss: {ladder(p)}"
    miss = f"Not touched by {b.owner} by {_when(b.due_at)}; {_so_far(b)}"
    decided = {"step": kind, "target": _target_data(target), "due_at": _iso(due_at),
               "manager": b.manager}  # fmt: skip
    trace = (
        TraceStep("sla", policy, _policy_data(b.choice)),
        TraceStep("sla", miss, {"due_at": _iso(b.due_at), "hop": b.hop, "reminders": b.reminders}),
        *notes,
        TraceStep("decision", reason, decided),
    )
    return BreachStep(kind, reason, trace, target, due_at, notify_manager)


def _so_far(b: Breach) -> str:
    """The count the policy's ladder climbs by (see :func:`sla_next_step`), in words."""
    p = b.choice.policy
    if p.on_breach == "escalate" or p.max_hops == 0:
        return "the policy escalates at the first miss"
    if p.on_breach == "remind":
        return f"reminders so far: {b.reminders} of {p.max_hops}"
    return f"SLA moves so far: {b.hop} of {p.max_hops}"


def sla_decision(
    b: Breach,
    step: BreachStep,
    *,
    pick: Decision | None = None,
    owner_id: str | None = None,
    rep_key: str | None = None,
) -> Decision:
    """The decision journaled for ``step``; its reason and trace are the SLA row's "why".

    - ``remind``, ``manager``: the lead stays with its owner (method ``sla``).
    - ``reassign``, or a ``move`` to a pool: ``pick`` is the engine's decision in that
      pool; the step's reason and trace come before the pick's. A re-assignment keeps
      the lead's rule, so the rule's SLA goes on.
    - a ``move`` to a rep or a queue: to ``owner_id`` (and ``rep_key``), the target as
      the caller found it in Salesforce (method ``escalate``).
    """
    if step.kind in ("remind", "manager"):
        return Decision(b.lead_id, "assign", b.owner_id, b.rep_key, b.pool, b.rule, "sla",
                        step.reason, step.trace)  # fmt: skip
    target = step.target
    assert target is not None, step
    if pick is None:
        assert target.kind in ("rep", "queue") and owner_id, (step, owner_id)
        found = TraceStep("pick", f"{target.kind} {target.name} is Salesforce owner {owner_id}",
                          {"target": _target_data(target), "owner_id": owner_id})  # fmt: skip
        return Decision(b.lead_id, "assign", owner_id, rep_key, b.pool, "sla", "escalate",
                        step.reason, (*step.trace, found))  # fmt: skip
    assert target.kind == "pool" and pick.action == "assign", (step, pick.action)
    rule = b.rule if step.kind == "reassign" else pick.rule
    return replace(pick, rule=rule, reason=f"{step.reason}; {pick.reason}",
                   trace=step.trace + pick.trace)  # fmt: skip


def ladder(policy: SlaPolicy) -> str:
    """What a policy does about misses, in words (the trace, the docs, the dashboard)."""
    target = escalation_target(policy)
    if target.kind in ("manager", "hold"):
        last = "remind the owner and tell their manager"
    else:
        last = f"escalate to {target.kind} {target.name}"
    if policy.on_breach == "escalate" or policy.max_hops == 0:
        return last
    first = "re-assign within the pool" if policy.on_breach == "reassign" else "remind the owner"
    return f"{first} up to {policy.max_hops} time(s), then {last}"


def _policy_data(choice: SlaChoice) -> dict[str, object]:
    p = choice.policy
    return {"source": choice.source, "minutes": p.minutes, "on_breach": p.on_breach,
            "max_hops": p.max_hops, "working_hours_only": p.working_hours_only,
            "escalate_to": _target_data(escalation_target(p))}  # fmt: skip


def _target_data(t: Target | None) -> dict[str, str | None] | None:
    return None if t is None else {"kind": t.kind, "name": t.name}


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat()


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
