"""The soak's verdict: Salesforce's records against the journal, lead by lead.

Pure: it takes what the campaign gathered (the org's final owners, the owners seen while
it ran, the journal, what the simulated people did) and returns counts plus a few
examples of each failure. Nothing here trusts the worker's own counters.

- **lost**: at the end the lead is owned by no rep (``005...``) and the journal does not
  say it is held with a reason.
- **double_assigned**: more than one applied first-routing decision, or an owner that
  Salesforce showed (sampled during the run, or at the end) which the journal does not
  explain (no applied decision to it, not the intake queue, not a human's choice), or a
  final owner that is not the journal's last applied owner. A decision skipped because
  someone else changed the owner after our write may have landed explains its rep as an
  owner seen in passing (never as the final owner).
- **overwritten**: a lead a human re-owned whose final owner is not the human's choice.
  ``overwritten_in_flight`` counts those whose human change landed while a write of ours
  was in flight (between that decision and its journaled application: the check-then-write
  window the REST API cannot close for sObject Collections); the rest point at a logic bug.
- **sla_incorrect**: an SLA hop of a lead a rep had touched, a hop back to an earlier
  owner, or a hop before the SLA was due.
- **sla_missed** (a figure, not an invariant: it measures the sweep keeping up, not
  correctness): an untouched lead still with its owner ``sla_margin_s`` after its due
  time, counted up to the moment the workers were stopped.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from worker.jobs.write_items import OWNER_CHANGED_AFTER_SEND

ROUTE = "route"
SLA_KINDS = frozenset({"sla_reassign", "escalate"})
APPLIED, HELD, PENDING, SKIPPED = "applied", "held", "pending", "skipped"
EXAMPLES = 3  # examples kept per failure kind


@dataclass(frozen=True)
class Entry:
    """One journal row, reduced to what the verdict needs (aware UTC datetimes)."""

    id: int
    lead_id: str
    kind: str
    status: str
    owner_id: str | None
    reason: str = ""
    previous_owner_id: str | None = None
    decided_at: datetime | None = None
    applied_at: datetime | None = None
    sla_due_at: datetime | None = None
    error: str = ""


@dataclass(frozen=True)
class Act:
    """A simulated person acted on a lead: a human chose ``owner_id``, or a rep touched a
    lead they owned (``owner_id``), at ``at``."""

    owner_id: str
    at: datetime


@dataclass
class Evidence:
    queue_ids: frozenset[str]
    final_owners: Mapping[str, str]  # every lead in the org -> OwnerId at the end
    journal: Sequence[Entry]
    created_at: Mapping[str, datetime]  # leads the soak created -> when
    humans: Mapping[str, Act] = field(default_factory=dict)
    touches: Mapping[str, Act] = field(default_factory=dict)
    observed: Mapping[str, Sequence[str]] = field(default_factory=dict)  # owners seen
    ended_at: datetime | None = None  # when the workers were stopped
    sla_margin_s: float = 30.0  # an untouched lead this far past due should have moved


@dataclass
class Verdict:
    created: int = 0
    routed: int = 0
    held: int = 0
    lost: int = 0
    double_assigned: int = 0
    unexplained_owner: int = 0
    overwritten: int = 0
    overwritten_in_flight: int = 0
    pending_left: int = 0
    sla_reassigned: int = 0
    sla_escalated: int = 0
    sla_incorrect: int = 0
    sla_missed: int = 0
    owner_seconds: list[float] = field(default_factory=list)
    examples: dict[str, list[str]] = field(default_factory=dict)

    def note(self, kind: str, lead_id: str, why: str) -> None:
        kept = self.examples.setdefault(kind, [])
        if len(kept) < EXAMPLES:
            kept.append(f"{lead_id}: {why}")

    @property
    def failures(self) -> list[str]:
        """One line per broken invariant (empty: the soak passed)."""
        checks = {
            "lost": self.lost, "double_assigned": self.double_assigned,
            "overwritten": self.overwritten, "sla_incorrect": self.sla_incorrect,
            "pending_left": self.pending_left,
        }  # fmt: skip
        out = []
        for name, count in checks.items():
            if count:
                first = (self.examples.get(name) or ["?"])[0]
                out.append(f"{name}={count} (e.g. {first})")
        return out

    def quantile(self, q: float) -> float | None:
        if len(self.owner_seconds) < 2:
            return round(self.owner_seconds[0], 2) if self.owner_seconds else None
        cuts = statistics.quantiles(self.owner_seconds, n=100, method="inclusive")
        return round(cuts[max(0, min(98, round(q * 100) - 1))], 2)


def judge(ev: Evidence) -> Verdict:
    """Check every lead of the org (and every lead the soak created) against the journal."""
    v = Verdict(created=len(ev.created_at))
    rows = _by_lead(ev.journal)
    v.pending_left = sum(1 for r in ev.journal if r.status == PENDING)
    for r in ev.journal:
        if r.status == PENDING:
            v.note("pending_left", r.lead_id, f"decision {r.id} still pending")
    for lead_id in sorted(set(ev.final_owners) | set(ev.created_at)):
        _judge_lead(ev, v, lead_id, rows.get(lead_id, []))
    return v


def _by_lead(journal: Iterable[Entry]) -> dict[str, list[Entry]]:
    out: dict[str, list[Entry]] = {}
    for row in sorted(journal, key=lambda r: r.id):
        out.setdefault(row.lead_id, []).append(row)
    return out


def _judge_lead(ev: Evidence, v: Verdict, lead_id: str, rows: list[Entry]) -> None:
    final = ev.final_owners.get(lead_id)
    applied = [r for r in rows if r.status == APPLIED]
    routes = [r for r in applied if r.kind == ROUTE]
    if routes:
        v.routed += 1
        _time_to_owner(ev, v, lead_id, routes[0])
    _check_owner(ev, v, lead_id, final, rows)
    if len(routes) > 1:
        v.double_assigned += 1
        v.note("double_assigned", lead_id, f"{len(routes)} applied routing decisions")
    elif _unexplained(ev, v, lead_id, final, applied, _passing(rows)):
        v.double_assigned += 1
        v.unexplained_owner += 1
    _check_sla(ev, v, lead_id, final, applied)


def _check_owner(
    ev: Evidence, v: Verdict, lead_id: str, final: str | None, rows: list[Entry]
) -> None:
    """lost / held / overwritten, from the final owner."""
    human = ev.humans.get(lead_id)
    if human is not None and final != human.owner_id:
        v.overwritten += 1
        why = f"human chose {human.owner_id} at {_hms(human.at)}, final owner {final}; ours: "
        applied = [r for r in rows if r.status == APPLIED]
        why += ", ".join(
            f"{r.kind} decided {_hms(r.decided_at)} applied {_hms(r.applied_at)}" for r in applied
        )
        racing = next((r for r in applied if _in_flight(r, human.at)), None)
        if racing is not None:
            v.overwritten_in_flight += 1
            why += f" (the change landed while our {racing.kind} write was in flight)"
        v.note("overwritten", lead_id, why)
    if final is not None and final.startswith("005"):
        return
    last = rows[-1] if rows else None
    if last is not None and last.status == HELD and last.reason.strip() and final is not None:
        v.held += 1
        return
    v.lost += 1
    why = "not in the org" if final is None else f"owner {final}, journal: "
    if final is not None:
        why += f"{last.status} '{last.reason[:60]}'" if last else "nothing"
    v.note("lost", lead_id, why)


def _in_flight(row: Entry, at: datetime) -> bool:
    """Whether ``at`` falls between the decision and the journaling of its applied write
    (the owner re-read and the PATCH both happen in that interval)."""
    return (
        row.decided_at is not None
        and row.applied_at is not None
        and (row.decided_at <= at <= row.applied_at)
    )


def _passing(rows: list[Entry]) -> set[str]:
    """Reps a write of ours may have given the lead before someone else re-owned it
    (skipped with that reason): owners Salesforce may show in passing."""
    return {
        r.owner_id
        for r in rows
        if r.status == SKIPPED and r.error == OWNER_CHANGED_AFTER_SEND and r.owner_id
    }


def _unexplained(
    ev: Evidence,
    v: Verdict,
    lead_id: str,
    final: str | None,
    applied: list[Entry],
    passing: set[str],
) -> bool:
    """An owner Salesforce showed that the journal (or a human, or the queue) does not
    explain, or a final owner that is not the journal's last word."""
    human = ev.humans.get(lead_id)
    explained = set(ev.queue_ids) | {r.owner_id for r in applied if r.owner_id}
    if human is not None:
        explained.add(human.owner_id)
    observed = ev.observed.get(lead_id, ())
    stray = next((o for o in observed if o not in explained | passing), None)
    if stray is None and final and final not in explained:
        stray = final
    if stray is not None:
        v.note("double_assigned", lead_id, f"owner {stray} in Salesforce, not in the journal")
        return True
    if human is None and applied and final != applied[-1].owner_id:
        v.note("double_assigned", lead_id, f"final owner {final}, journal {applied[-1].owner_id}")
        return True
    if human is None and not applied and final is not None and final.startswith("005"):
        v.note("double_assigned", lead_id, f"owned by {final} with no applied decision")
        return True
    return False


def _check_sla(
    ev: Evidence, v: Verdict, lead_id: str, final: str | None, applied: list[Entry]
) -> None:
    touch = ev.touches.get(lead_id)
    for i, hop in enumerate(applied):
        if hop.kind not in SLA_KINDS:
            continue
        if hop.kind == "escalate":
            v.sla_escalated += 1
        else:
            v.sla_reassigned += 1
        why = _bad_hop(hop, applied[:i], touch)
        if why:
            v.sla_incorrect += 1
            v.note("sla_incorrect", lead_id, why)
    if _missed(ev, lead_id, final, applied, touch):
        v.sla_missed += 1
        v.note("sla_missed", lead_id, "untouched past its SLA, never moved")


def _bad_hop(hop: Entry, before: list[Entry], touch: Act | None) -> str | None:
    prev = before[-1] if before else None
    earlier = {r.owner_id for r in before}
    if hop.owner_id in earlier:
        return f"SLA hop back to an earlier owner {hop.owner_id}"
    if touch is not None and hop.decided_at is not None and touch.at < hop.decided_at:
        if prev is None or touch.owner_id == prev.owner_id:
            return "moved by the SLA after a rep touched it"
    due = prev.sla_due_at if prev is not None else None
    if due is not None and hop.decided_at is not None and hop.decided_at < due - _SLACK:
        return f"moved at {hop.decided_at:%H:%M:%S}, due {due:%H:%M:%S}"
    return None


_SLACK = timedelta(seconds=1)


def _hms(at: datetime | None) -> str:
    return f"{at:%H:%M:%S.%f}"[:-3] if at is not None else "?"


def _missed(
    ev: Evidence, lead_id: str, final: str | None, applied: list[Entry], touch: Act | None
) -> bool:
    if not applied or ev.ended_at is None or touch is not None or lead_id in ev.humans:
        return False
    last = applied[-1]
    due = last.sla_due_at
    if due is None or final != last.owner_id:
        return False
    return due + timedelta(seconds=ev.sla_margin_s) < ev.ended_at


def _time_to_owner(ev: Evidence, v: Verdict, lead_id: str, route: Entry) -> None:
    created = ev.created_at.get(lead_id)
    if created is not None and route.applied_at is not None:
        v.owner_seconds.append(max(0.0, (route.applied_at - created).total_seconds()))
