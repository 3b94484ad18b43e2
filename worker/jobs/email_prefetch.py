"""New leads' e-mails looked up as their change events arrive, not when their batch is
decided.

The subscriber decides one batch at a time, and a batch's decision waits for the Contact
lookup of its new e-mail addresses (one query, 0.3 s typical and over a second in the
tail against a real org). Events delivered meanwhile used to wait for that decision,
then for their own lookup. Here the stream's reader thread hands each delivery's create
events over as they come (:meth:`~worker.sfdc.pubsub.subscriber.Handler.arrived`), and
one thread looks their addresses up: at once when the last lookup started at least a
batching window ago, else once it has (what gathered meanwhile goes together), so a
stream costs no more lookups than its batches did. The decision then finds
its addresses in the :class:`~worker.jobs.context.EmailCache`, or waits for the lookup
already out for them (the cache never sends the same address twice at once).

A hint only: a failed or late lookup costs nothing but the time, as the decision looks
up whatever it does not find. With the contact mirror answering
(:mod:`worker.jobs.contacts`) there is nothing to look up: arrivals refresh the mirror
instead, once it is half its age limit old, so the decisions find it fresh.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from worker.jobs.context import ready_known_emails
from worker.jobs.deps import Deps
from worker.routing.model import AccountMatching
from worker.routing.normalise import email_address
from worker.sfdc.pubsub.subscriber import ChangeEvent

log = logging.getLogger("leadrouter.subscribe")


class EmailPrefetch:
    """One thread looking up the e-mails :meth:`add` was given, lookups at least
    ``spacing`` seconds apart (the batching window); ``matching``: the config's
    ``account_matching`` as last seen (None: not yet, nothing is looked up)."""

    def __init__(
        self, deps: Deps, matching: Callable[[], AccountMatching | None], spacing: float
    ) -> None:
        self.deps, self.matching, self.spacing = deps, matching, spacing
        self._last = float("-inf")  # (monotonic) when the last lookup started
        self._pending: set[str] = set()
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="email-prefetch", daemon=True)
        self._thread.start()

    def add(self, events: Sequence[ChangeEvent]) -> None:
        """The e-mails of ``events``' created leads, to be looked up (never blocks)."""
        emails = {
            e
            for event in events
            if event.header.change_type == "CREATE" and not event.ours
            and (e := email_address(event.fields.get("Email")))
        }  # fmt: skip
        if emails:
            with self._ready:
                self._pending |= emails
                self._ready.notify()

    def close(self) -> None:
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            with self._ready:
                while not self._closed and (
                    not self._pending or time.monotonic() < self._last + self.spacing
                ):
                    wait = self._last + self.spacing - time.monotonic()
                    self._ready.wait(wait if self._pending and wait > 0 else None)
                if self._closed:
                    return
                emails, self._pending = self._pending, set()
                self._last = time.monotonic()
            self._look_up(emails)

    def _look_up(self, emails: set[str]) -> None:
        matching = self.matching()
        if matching is None or not (matching.enabled and matching.by_known_email):
            return
        deps = self.deps
        try:
            ready_known_emails(deps.gateway, deps.directory, deps.caches, deps.engine,
                               deps.now, emails)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - the decision looks them up itself
            log.debug("looking up arriving e-mails failed: %s", type(exc).__name__)
