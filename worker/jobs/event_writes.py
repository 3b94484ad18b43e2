"""A subscribed batch's owners written while the next batches are decided.

Handled one after another, each batch of change events waited for the one before it to
be written: under a real org's latency a lead queued for 1-4 s behind its predecessor's
write before its own batch began. Here the write is handed over instead
(:func:`worker.jobs.intake.route_leads`'s ``hand_over``) and sent on a thread, up to
``most`` batches at once, while the subscriber goes on to the next batch; a slow write
holds back only its own batch (the ones after it are sent meanwhile, and wait only to be
journaled in order, up to ``BACKLOG`` times ``most`` batches). The wait for
the second of the batch's newest change to be over (so that the write's guard, or its
owner re-read, comes in a later second: :func:`worker.jobs.subscribe.settle_wait`) is
spent on that thread too, before the send: the decision does not need it, only the
write does.

Nothing about the guarantees changes:

- a batch's decisions are journaled ``pending`` (with the routing state they consumed)
  before its write is handed over, and the batch's replay id is stored only after that:
  a crash with a write in flight leaves ``pending`` rows, which reconcile settles as
  possibly sent, exactly as a crash during an inline write did;
- the outcomes are journaled on the caller's thread under the jobs' lock, in the order
  the batches were handed over (the store and the routing state are written from the
  lock's holder only);
- decisions whose write is in flight are listed in ``Deps.state.writing``: reconcile
  leaves them to their write (it would otherwise re-read and send them a second time),
  and a later event naming their lead finds them ``pending`` and routes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from worker.jobs.deps import Deps
from worker.jobs.outcome_journal import journal_outcomes
from worker.jobs.send_owners import send_all
from worker.jobs.write_items import Outcomes, WriteItem
from worker.runtime.pipeline import InFlight

log = logging.getLogger("leadrouter.subscribe")
# batches written but not yet journaled, per batch being written: a write in the tail
# (seconds) holds back only its own journaling, not the batches decided after it
BACKLOG = 8


@dataclass(frozen=True)
class Handed:
    """One batch's writes: its items, and ``writeback.conditional`` as it was decided."""

    items: tuple[WriteItem, ...]
    conditional: bool
    not_before: float = 0.0  # (monotonic) sent no sooner: the batch's second is over


class EventWrites:
    """The in-flight writes of the subscriber's batches (see the module docstring).
    Every method but :meth:`hand_over`'s send runs on the caller's thread, which must
    hold the jobs' lock; ``left_pending`` is called when a batch's outcomes leave
    decisions pending (held back until their second is over, or a failed send)."""

    def __init__(self, deps: Deps, most: int, left_pending: Callable[[], None]) -> None:
        self.deps = deps
        self.left_pending = left_pending
        self._flight: InFlight[Handed, list[Outcomes]] = InFlight(
            self._send, self._journal, most, name="event-writes", backlog=BACKLOG * most
        )

    def __len__(self) -> int:
        return len(self._flight)

    def hand_over(
        self, items: Sequence[WriteItem], conditional: bool, *, not_before: float = 0.0
    ) -> None:
        """Send ``items`` (journaled ``pending``) on a thread, not before ``not_before``
        (monotonic); waits for the oldest batch in flight when ``most`` are."""
        writing = self.deps.state.writing
        writing.update((i.decision_id, i.lead_id) for i in items)
        try:
            self._flight.submit(Handed(tuple(items), conditional, not_before))
        except BaseException:
            for i in items:
                writing.pop(i.decision_id, None)
            raise

    def collect(self) -> int:
        """Journal the batches whose writes are done, oldest first; how many."""
        return self._flight.collect_finished()

    def ready(self) -> bool:
        """Whether the oldest batch in flight is done (no lock needed to ask)."""
        return self._flight.oldest_done()

    def writing(self, lead_ids: Collection[str]) -> bool:
        """Whether a write in flight is for any of ``lead_ids``."""
        wanted = {i[:15] for i in lead_ids}
        return any(lead[:15] in wanted for lead in self.deps.state.writing.values())

    def drain(self) -> None:
        self._flight.drain()

    def close(self) -> None:
        self._flight.close()

    def _send(self, handed: Handed) -> list[Outcomes]:
        left = handed.not_before - self.deps.monotonic()
        if left > 0:
            self.deps.sleep(left)
        return send_all(self.deps, handed.items, conditional=handed.conditional)

    def _journal(self, handed: Handed, result: Callable[[], list[Outcomes]]) -> None:
        try:
            groups = result()
        except Exception:  # its decisions stay pending: reconcile finds out what landed
            log.exception("writing a change event batch's owners failed")
            self.left_pending()
            return
        finally:
            for i in handed.items:
                self.deps.state.writing.pop(i.decision_id, None)
        out = journal_outcomes(self.deps, groups)
        log.info(
            "events written: owners=%d applied=%d skipped=%d failed=%d pending=%d",
            len(handed.items), len(out.applied), sum(len(v) for v in out.skipped.values()),
            len(out.failed) + len(out.reroute), len(out.left_pending),
        )  # fmt: skip
        if out.left_pending:
            self.left_pending()
