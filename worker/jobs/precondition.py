"""The precondition of an owner write, and when a re-read is settled enough to give one.

Every owner write is an sObject Rows PATCH with ``If-Unmodified-Since`` set to the lead's
last change as just re-read (:attr:`OwnerRow.changed_at`): Salesforce refuses it (412)
if the lead changed after that, and the write-back re-reads and judges the lead again.

The header has second precision. A change made after our re-read, but in the same
second as the lead's previous change, leaves the stamp where it was, and the write would
pass over it. So a re-read only gives a usable precondition when Salesforce read the
record in a LATER second than the lead's last change: every change after such a read is
stamped later than the precondition, and refused. Salesforce's clock at the read is
known from below (:mod:`worker.sfdc.clock`, ``OwnerRow.read_at``); a lead whose re-read
may have been in the second of its last change waits until Salesforce's clock has
certainly passed that second, and is re-read then - a fraction of a second, not a whole
one, and only for leads changed (or created) within the last second.

What nothing in the re-read can tell is that no one ELSE will change the lead in the
rest of that second: ``LastModifiedById`` and ``SystemModstamp`` describe changes
before the read, and a lead last changed by our own user is as open to a person's
change after it as any other. Hence the wait, for those leads only.

Assumed, and not documented by Salesforce: the clock behind the ``Date`` header and the
one that stamps records agree to within :data:`CLOCK_SKEW`; stamps are whole seconds
(the API shows ``.000``), truncated or rounded (either is safe: a change at or after
``stamp + 1 s`` is stamped later than ``stamp``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from worker.sfdc.mapping import OwnerRow

# how far the clock that stamps records may lag the one that dates answers; waited out
CLOCK_SKEW = timedelta(milliseconds=100)
SECOND = timedelta(seconds=1)
# the longest wait a true stamp can call for: the rest of its second, the skew, and up
# to a second more while few answers have bounded Salesforce's clock (see ServerClock)
LONGEST_WAIT = 3.0


class _Item(Protocol):
    @property
    def lead_id(self) -> str: ...


T = TypeVar("T", bound=_Item)


def unsettled_seconds(row: OwnerRow) -> float:
    """How much further Salesforce's clock must run, from the moment it read ``row``,
    before a re-read is certain to come in a later second than the lead's last change
    (plus :data:`CLOCK_SKEW`); 0.0 when this re-read already did.

    Nothing waits when the re-read says nothing of Salesforce's clock (``read_at`` is
    None: no answer carried a readable ``Date``) or of the lead's last change, nor for a
    stamp further ahead of Salesforce's clock than :data:`LONGEST_WAIT` (Salesforce sets
    these fields itself, so such a stamp means broken data or clocks; waiting would not
    make it safe, and would hold every later write back)."""
    changed, read = row.changed_at, row.read_at
    if changed is None or read is None:
        return 0.0
    left = seconds_to_settle(changed, read)
    return left if 0.0 < left <= LONGEST_WAIT else 0.0


def seconds_to_settle(changed: datetime, now: datetime) -> float:
    """Seconds from ``now`` (on Salesforce's clock, or a bound of it) until the second
    of a change stamped ``changed`` is over, plus :data:`CLOCK_SKEW`: from then on a
    read, or a guard query, comes in a later second (negative: it is over already)."""
    return (changed.replace(microsecond=0) + SECOND + CLOCK_SKEW - now).total_seconds()


def split_settled(
    owners: Mapping[str, OwnerRow], items: Sequence[T]
) -> tuple[list[T], list[T], float]:
    """``items`` (all re-read in ``owners``) as (written on this re-read, re-read again
    first, how long after this re-read that one can come: the longest wait)."""
    now: list[T] = []
    later: list[T] = []
    wait = 0.0
    for item in items:
        left = unsettled_seconds(owners[item.lead_id])
        if left > 0:
            later.append(item)
            wait = max(wait, left)
        else:
            now.append(item)
    return now, later, wait


def preconditions(owners: Mapping[str, OwnerRow], items: Sequence[_Item]) -> dict[str, datetime]:
    """Lead id -> its last change as re-read: each write's ``If-Unmodified-Since``."""
    out = {}
    for item in items:
        at = owners[item.lead_id].changed_at
        if at is not None:
            out[item.lead_id] = at
    return out


class Settling:
    """Leads the long-running worker leaves ``pending`` because their re-read may have
    come in the second of their last change, instead of holding its cycle until that
    second is over: which of those decisions were never sent (reconcile writes them as
    such), and when the first of them can be re-read (the worker runs a cycle for them
    then, :meth:`worker.scheduler.Worker.intake`). Off (``enabled`` False), the
    write-back waits in the cycle, as ``--once``, the benchmarks' drains and the tests
    need.

    Thread-safe: the write-behind thread holds leads back, the cycle thread reads them."""

    def __init__(self, enabled: bool = False) -> None:
        self.enabled = enabled
        self._unsent: set[int] = set()
        self._at: float | None = None
        self._lock = threading.Lock()

    def hold(self, unsent: Iterable[int], at: float) -> None:
        """Decisions held back (those in ``unsent`` never sent), settled at ``at``
        (``Deps.monotonic`` time)."""
        with self._lock:
            self._unsent.update(unsent)
            self._at = at if self._at is None else min(self._at, at)

    def unsent(self, decision_ids: Iterable[int]) -> set[int]:
        """Which of ``decision_ids`` were held back unsent (forgotten here: the caller
        handles them now, and holds them again if it must)."""
        with self._lock:
            found = self._unsent.intersection(decision_ids)
            self._unsent -= found
            return found

    def due(self) -> float | None:
        """When the first held-back lead has settled (and forget it), or None."""
        with self._lock:
            at, self._at = self._at, None
            return at
