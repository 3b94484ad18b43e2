"""Created leads' e-mails looked up as their events arrive (:mod:`worker.jobs.
email_prefetch`), and the cache that lets a decision find that lookup instead of sending
its own (:class:`worker.jobs.context.EmailCache`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest

from tests.unit.jobs.fakes import FakeGateway
from tests.unit.jobs.test_subscribe import TOPIC, created, lead_id
from worker.jobs.context import EmailCache
from worker.jobs.deps import Deps
from worker.jobs.email_prefetch import EmailPrefetch
from worker.jobs.subscribe import EventIntake
from worker.routing.model import AccountMatching, KnownEmail

OWNER = "005000000000001AAA"


class SlowContacts:
    """A gateway whose Contact lookups are recorded and held until :attr:`go` is set;
    ``fail`` makes the first one raise (once let go)."""

    def __init__(self, fail: bool = False) -> None:
        self.asked: list[list[str]] = []
        self.started, self.go = threading.Event(), threading.Event()
        self.fail = fail

    def known_emails(self, emails: Iterable[str], active: Mapping[str, bool]) -> list[KnownEmail]:
        asked = list(emails)
        self.asked.append(asked)
        self.started.set()
        assert self.go.wait(5)
        if self.fail:
            self.fail = False
            raise ConnectionError("reset")
        return [KnownEmail(e, "contact", "003" + e[0], None, OWNER) for e in asked]


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(fn())
        except ConnectionError as exc:  # the failing lookup's own caller
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_an_address_being_looked_up_is_waited_for_not_asked_twice() -> None:
    cache, org = EmailCache(), SlowContacts()
    first, _ = in_thread(lambda: cache.fetch(org, {"a@x.com"}, {}))  # type: ignore[arg-type]
    assert org.started.wait(5)
    second, found = in_thread(lambda: cache.fetch(org, {"a@x.com", "b@x.com"}, {}))  # type: ignore[arg-type]
    deadline = time.monotonic() + 5
    while len(org.asked) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    org.go.set()
    first.join(5)
    second.join(5)
    assert org.asked == [["a@x.com"], ["b@x.com"]]  # only what nobody was asking for
    assert sorted(found[0]) == ["a@x.com", "b@x.com"]
    assert found[0]["a@x.com"][0].owner_id == OWNER
    assert cache.fetch(org, {"a@x.com"}, {}) and len(org.asked) == 2  # type: ignore[arg-type]


def test_a_lookup_that_fails_leaves_its_addresses_to_whoever_waited() -> None:
    cache, org = EmailCache(), SlowContacts(fail=True)
    first, failed = in_thread(lambda: cache.fetch(org, {"a@x.com"}, {}))  # type: ignore[arg-type]
    assert org.started.wait(5)
    second, found = in_thread(lambda: cache.fetch(org, {"a@x.com"}, {}))  # type: ignore[arg-type]
    time.sleep(0.1)
    org.go.set()
    first.join(5)
    second.join(5)
    assert isinstance(failed[0], ConnectionError)
    assert org.asked == [["a@x.com"], ["a@x.com"]]  # the waiter asked once the first failed
    assert list(found[0]) == ["a@x.com"]


@pytest.fixture
def prefetching(make_deps: Callable[..., Deps]) -> Any:
    intake = EventIntake(make_deps(), TOPIC, sweep=lambda: None, look_up_on_arrival=0.0)
    yield intake
    intake.close()


def contacts_asked(org: FakeGateway) -> int:
    return org.calls.get("contacts", 0)


def test_a_created_leads_email_is_looked_up_on_arrival_and_found_by_its_decision(
    org: FakeGateway, prefetching: EventIntake
) -> None:
    org.add_lead(lead_id(1), Email="Pat@Example.com")
    org.add_lead(lead_id(2), Email="pat@example.com")
    org.tick(2)
    first = created(org, 1)
    prefetching.arrived([first])  # before any batch: the config is not known yet
    prefetching.handle([first], first.replay_id)
    assert contacts_asked(org) == 1  # the decision's own lookup
    second = created(org, 2)
    cache = prefetching.deps.caches.emails
    cache.ttl = 0.0  # nothing cached: only the lookup on arrival can have found it
    prefetching.arrived([second])
    deadline = time.monotonic() + 5
    while contacts_asked(org) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert contacts_asked(org) == 2  # on arrival, off the subscriber's thread
    cache.ttl = 600.0
    prefetching.handle([second], second.replay_id)
    assert contacts_asked(org) == 2  # the decision found it
    assert len(prefetching.deps.state.writing) == 0


def test_our_own_writes_and_changes_look_nothing_up(
    org: FakeGateway, prefetching: EventIntake
) -> None:
    org.add_lead(lead_id(1), Email="pat@example.com")
    org.tick(2)
    first = created(org, 1)
    prefetching.handle([first], first.replay_id)  # the config is known from here on
    asked = contacts_asked(org)
    prefetching.deps.caches.emails.ttl = 0.0
    org.add_lead(lead_id(2), Email="sam@example.com")
    ours = created(org, 2, origin="com/salesforce/api/rest/62.0;client=leadrouter")
    prefetching.arrived([ours])
    time.sleep(0.2)
    assert contacts_asked(org) == asked


def test_lookups_are_a_window_apart_and_what_gathers_meanwhile_goes_together(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    prefetch = EmailPrefetch(make_deps(), lambda: AccountMatching(), spacing=0.5)
    try:
        for n in (1, 2, 3):
            org.add_lead(lead_id(n), Email=f"p{n}@example.com")
        org.tick(2)
        prefetch.add([created(org, 1)])  # at once: no lookup before it
        deadline = time.monotonic() + 5
        while contacts_asked(org) < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        prefetch.add([created(org, 2)])
        prefetch.add([created(org, 3)])
        time.sleep(0.2)
        assert contacts_asked(org) == 1  # the next waits out the window
        while contacts_asked(org) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.6)
        assert contacts_asked(org) == 2  # the two that came meanwhile, in one lookup
    finally:
        prefetch.close()
