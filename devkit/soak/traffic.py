"""The org's people during the soak: leads arriving, humans re-owning some of them
mid-flight, reps working some of theirs.

Each runs on its own thread with its own admin connection (``RemoteAdmin`` is one
``requests.Session``). What a person did is recorded with the time it was done, for the
verdict: a human's choice must survive, a touched lead must not be moved by the SLA.
"""

from __future__ import annotations

import heapq
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devkit.soak.verdict import Act

AdminFactory = Callable[[], Any]  # -> RemoteAdmin
TOUCH_STATUS = "Working - Contacted"


@dataclass
class Crowd:
    """Everything the people did; filled by the threads, read after they stopped."""

    created_at: dict[str, datetime] = field(default_factory=dict)
    humans: dict[str, Act] = field(default_factory=dict)
    touches: dict[str, Act] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(order=True)
class _Event:
    due: float
    kind: str
    lead_id: str
    tries: int = 0


class People:
    """Feeds ``leads`` at ``rate``/s and plays the humans and reps, until stopped."""

    def __init__(self, admin: AdminFactory, *, leads: int, rate: float, seed: int,
                 human_share: float, touch_share: float, humans_pick: list[str],
                 manager_id: str) -> None:  # fmt: skip
        self.crowd = Crowd()
        self._admin = admin
        self._leads, self._rate = leads, rate
        self._rng = random.Random(seed)  # plans (feeder thread)
        self._pick_rng = random.Random(seed + 1)  # humans' choices (actor thread)
        self._human_share, self._touch_share = human_share, touch_share
        self._picks, self._manager = humans_pick, manager_id
        self._events: list[_Event] = []
        self._events_lock = threading.Lock()
        self.stop = threading.Event()
        self.fed = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for target in (self._feed, self._act):
            thread = threading.Thread(target=self._guard(target), daemon=True)
            thread.start()
            self._threads.append(thread)

    def join(self) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(30)

    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception as exc:  # noqa: BLE001 - reported by the campaign
                with self.crowd.lock:
                    self.crowd.errors.append(f"{target.__name__}: {type(exc).__name__}: {exc}")

        return run

    # --- arrivals ---------------------------------------------------------------------
    def _feed(self) -> None:
        admin, start, n = self._admin(), time.monotonic(), 0
        while n < self._leads and not self.stop.is_set():
            due = min(self._leads, int((time.monotonic() - start + 0.25) * self._rate)) - n
            if due > 0:
                ids = admin.create_leads(count=due)
                now = datetime.now(UTC)
                with self.crowd.lock:
                    self.crowd.created_at.update(dict.fromkeys(ids, now))
                for lead_id in ids:
                    self._plan(lead_id)
                n += len(ids)
            self.stop.wait(max(0.0, start + n / self._rate - time.monotonic()))
        self.fed.set()

    def _plan(self, lead_id: str) -> None:
        """Decide now (seeded) what people will do to this lead, and when."""
        draw, now = self._rng.random(), time.monotonic()
        if draw < self._human_share:
            # half race the worker's first routing, half re-own a routed lead
            later = (
                self._rng.uniform(0, 3)
                if draw < self._human_share / 2
                else self._rng.uniform(8, 40)
            )
            event = _Event(now + later, "human", lead_id)
        elif draw < self._human_share + self._touch_share:
            event = _Event(now + self._rng.uniform(3, 10), "touch", lead_id)
        else:
            return
        with self._events_lock:
            heapq.heappush(self._events, event)

    # --- humans and reps --------------------------------------------------------------
    def _act(self) -> None:
        admin = self._admin()
        while not self.stop.is_set():
            with self._events_lock:
                event = self._events[0] if self._events else None
                if event is not None and event.due <= time.monotonic():
                    heapq.heappop(self._events)
                else:
                    event = None
            if event is None:
                self.stop.wait(0.05)
                continue
            if event.kind == "human":
                self._re_own(admin, event.lead_id)
            else:
                self._touch(admin, event)

    def _re_own(self, admin: Any, lead_id: str) -> None:
        current = admin.get_lead(lead_id=lead_id)["OwnerId"]
        choice = self._pick_rng.choice([p for p in self._picks if p != current])
        admin.change_owner(lead_id=lead_id, owner_id=choice, by=self._manager)
        with self.crowd.lock:
            self.crowd.humans[lead_id] = Act(choice, datetime.now(UTC))

    def _touch(self, admin: Any, event: _Event) -> None:
        owner = str(admin.get_lead(lead_id=event.lead_id)["OwnerId"])
        if not owner.startswith("005"):  # not routed yet (or held): try again a bit later
            if event.tries < 3:
                with self._events_lock:
                    heapq.heappush(self._events, _Event(time.monotonic() + 3, "touch",
                                                        event.lead_id, event.tries + 1))  # fmt: skip
            return
        admin.set_lead_status(lead_id=event.lead_id, status=TOUCH_STATUS, by=owner)
        admin.log_task(lead_id=event.lead_id, subject="Call", by=owner)
        with self.crowd.lock:
            self.crowd.touches[event.lead_id] = Act(owner, datetime.now(UTC))
