"""The write-back's vocabulary: a pending decision to write (:class:`WriteItem`) and what
became of a round of them (:class:`Outcomes`), with the skip reasons the journal, the
dashboard and the soak's verdict read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

OWNER_CHANGED = "owner changed by someone else"
# the same, for a decision whose PATCH may already have reached Salesforce (its answer was
# lost, or the worker died around it): our rep may have owned the lead for a moment
# before that change, and the journal must not claim otherwise
OWNER_CHANGED_AFTER_SEND = "owner changed by someone else; our write may have landed first"


@dataclass(frozen=True)
class WriteItem:
    decision_id: int
    lead_id: str
    owner_id: str
    expected: frozenset[str]  # owners we may replace
    rep_key: str | None
    pool: str | None
    extra: dict[str, str] | None = None
    created_at: datetime | None = None
    # a PATCH for this decision may already have reached Salesforce (a crash, a reset, a
    # lost answer): only then does "owner is already our rep" mean our write landed
    sent: bool = False
    # the lead's last change as its create event showed it (None: not from an event): a
    # fresh lead is then written in ONE call, guarded by a query Salesforce runs just
    # before the PATCH, with no owner re-read first (:mod:`worker.jobs.send_owners`)
    changed_at: datetime | None = None


@dataclass
class Outcomes:
    applied: list[WriteItem] = field(default_factory=list)
    skipped: dict[str, list[WriteItem]] = field(default_factory=dict)  # reason -> items
    failed: list[tuple[WriteItem, str]] = field(default_factory=list)
    reroute: list[WriteItem] = field(default_factory=list)  # owner inactive
    left_pending: list[WriteItem] = field(default_factory=list)
    # when Salesforce's answers came back: the applied time journaled, not the (later)
    # moment the outcomes reach the journal
    answered_at: datetime | None = None

    def skip(self, reason: str, item: WriteItem) -> None:
        self.skipped.setdefault(reason, []).append(item)

    def merge(self, other: Outcomes) -> None:
        self.applied += other.applied
        for reason, items in other.skipped.items():
            self.skipped.setdefault(reason, []).extend(items)
        self.failed += other.failed
        self.reroute += other.reroute
        self.left_pending += other.left_pending


def merged(groups: Sequence[Outcomes]) -> Outcomes:
    """The groups' outcomes as one (for the cycle's report)."""
    total = Outcomes()
    for outcome in groups:
        total.merge(outcome)
    return total


def items_for(
    rows: Sequence[Mapping[str, Any]],
    expected: frozenset[str],
    extra_field: str | None,
    *,
    sent: bool = False,
) -> list[WriteItem]:
    """Write items of pending journal rows given as column mappings (with ``id``).

    ``expected``: the owners a first routing may replace (the intake owners); an SLA hop
    may only replace the owner it was taken from. ``sent``: the decisions may have been
    written already (reconcile).
    """
    out = []
    for d in rows:
        kind, previous = d["kind"], d.get("previous_owner_id") or ""
        allowed = expected if kind == "route" else frozenset({previous})
        extra = {extra_field: str(d["reason"])[:255]} if extra_field else None
        created = d.get("lead_created_at")
        if created is not None and created.tzinfo is None:  # SQLite drops the zone
            created = created.replace(tzinfo=UTC)
        out.append(
            WriteItem(
                int(d["id"]),
                d["lead_id"],
                d["owner_id"],
                allowed,
                d.get("rep_key"),
                d.get("pool"),
                extra,
                created,
                sent,
            )  # fmt: skip
        )
    return out
