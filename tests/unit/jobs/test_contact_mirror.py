"""The contact mirror (worker.jobs.contacts): known e-mails answered from the store, no
call while it is fresh; refreshed (one delta) once ``max_age`` old, and by arrivals once
half that; a contact whose address goes, or that is deleted, leaves it; while loading,
off, or when its refresh fails it does not answer (the caller queries Salesforce)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from worker.jobs.contacts import DELETIONS_EVERY, ContactMirror, ContactSync
from worker.jobs.context import Caches, EmailCache, known_emails
from worker.routing.model import KnownEmail
from worker.sfdc.errors import SfdcTransientError
from worker.sfdc.mapping import ContactRow, DeletedRecords
from worker.store.db import make_engine, upgrade

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OWNER, OTHER = "005000000000001AAA", "005000000000002AAA"


@dataclass
class ContactsOrg:
    """The Contact side of an org: records by Id, changed at the org's clock."""

    now: datetime = T0
    contacts: dict[str, dict[str, object]] = field(default_factory=dict)
    deleted: dict[str, datetime] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail: bool = False
    gate: threading.Event | None = None  # holds contacts_changed until set

    def put(self, contact_id: str, email: str | None, account: str | None = None,
            owner: str = OWNER) -> None:  # fmt: skip
        self.contacts[contact_id] = {"Email": email, "AccountId": account, "OwnerId": owner,
                                     "SystemModstamp": self.now}  # fmt: skip

    def remove(self, contact_id: str) -> None:
        del self.contacts[contact_id]
        self.deleted[contact_id] = self.now

    def _rows(self, keep) -> list[ContactRow]:  # type: ignore[no-untyped-def]
        rows = [
            ContactRow(i, c["Email"], c["AccountId"], c["OwnerId"], c["SystemModstamp"])  # type: ignore[arg-type]
            for i, c in self.contacts.items() if keep(i, c)
        ]  # fmt: skip
        return rows

    def count_contacts(self) -> int:
        self.calls.append("count")
        return sum(1 for c in self.contacts.values() if c["Email"])

    def contacts_page(self, after_id: str | None, limit: int) -> list[ContactRow]:
        self.calls.append("page")
        rows = self._rows(lambda i, c: c["Email"] and (after_id is None or i > after_id))
        return sorted(rows, key=lambda r: r.id)[:limit]

    def contacts_changed(self, at: datetime, after_id: str, limit: int) -> list[ContactRow]:
        if self.gate is not None:
            self.gate.wait(5)
        self.calls.append("changed")
        if self.fail:
            raise SfdcTransientError("Salesforce answered 503", status=503)
        at = at.replace(microsecond=0)
        rows = self._rows(
            lambda i, c: c["SystemModstamp"] > at or (c["SystemModstamp"] == at and i > after_id)
        )
        return sorted(rows, key=lambda r: (r.modstamp, r.id))[:limit]

    def deleted_contacts(self, start: datetime, end: datetime) -> DeletedRecords:
        self.calls.append("deleted")
        gone = {i: at for i, at in self.deleted.items() if start <= at < end}
        return DeletedRecords(gone, None, end)


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def engine(sqlite_url: str):  # type: ignore[no-untyped-def]
    upgrade(sqlite_url)
    return make_engine(sqlite_url)


def _mirror(clock: Clock, max_age: float = 60.0) -> ContactMirror:
    return ContactMirror(max_age=max_age, sync=ContactSync(delta_every=float("inf"), clock=clock),
                         clock=clock)  # fmt: skip


def _loaded(engine, org: ContactsOrg, clock: Clock, config, max_age: float = 60.0) -> ContactMirror:  # type: ignore[no-untyped-def]
    mirror = _mirror(clock, max_age)
    mirror.step(engine, org, org.now, config)  # type: ignore[arg-type]
    assert mirror.ready(engine)
    return mirror


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    from worker.routing_config import parse_config

    return parse_config(
        "version: 1\naccount_matching: {enabled: true}\nreps: [{email: a@b.example}]\n"
        "pools: {p: {method: round_robin, members: [a@b.example]}}\n"
        "rules: [{name: All, action: {pool: p}}]\n"
    )


def _ask(
    mirror: ContactMirror, engine, org: ContactsOrg, *emails: str
) -> dict[str, list[KnownEmail]] | None:  # type: ignore[no-untyped-def]
    return mirror.known_emails(engine, org, set(emails), {OTHER: False}, lambda: org.now)  # type: ignore[arg-type]


def test_a_loaded_mirror_answers_from_the_store_without_a_call_while_fresh(engine, config) -> None:  # type: ignore[no-untyped-def]
    org, clock = ContactsOrg(), Clock()
    org.put("003A", "Ana.Lopez@Globex.example", account="001A")
    org.put("003B", "bo@initech.example", owner=OTHER)
    org.put("003C", None)  # no address: not kept
    mirror = _loaded(engine, org, clock, config)
    org.calls.clear()
    got = _ask(mirror, engine, org, "ana.lopez@globex.example", "bo@initech.example", "x@y.example")
    assert got == {
        "ana.lopez@globex.example": [KnownEmail("ana.lopez@globex.example", "contact", "003A",
                                                "001A", OWNER, True)],
        "bo@initech.example": [KnownEmail("bo@initech.example", "contact", "003B", None, OTHER,
                                          False)],
    }  # fmt: skip
    assert org.calls == ["changed"]  # the first lookup's delta: the load is not a delta
    clock.t += 59
    _ask(mirror, engine, org, "x@y.example")
    assert org.calls == ["changed"]  # fresh: no call


def test_a_contact_changed_since_is_seen_once_the_mirror_is_max_age_old(engine, config) -> None:  # type: ignore[no-untyped-def]
    org, clock = ContactsOrg(), Clock()
    mirror = _loaded(engine, org, clock, config)
    assert _ask(mirror, engine, org, "new@acme.example") == {}
    org.now += timedelta(seconds=5)
    org.put("003N", "new@acme.example")
    clock.t += 30
    assert _ask(mirror, engine, org, "new@acme.example") == {}  # within max_age: not yet
    clock.t += 31
    found = _ask(mirror, engine, org, "new@acme.example")
    assert found is not None and [k.record_id for k in found["new@acme.example"]] == ["003N"]


def test_an_address_removed_or_a_contact_deleted_leaves_the_mirror(engine, config) -> None:  # type: ignore[no-untyped-def]
    org, clock = ContactsOrg(), Clock()
    org.put("003A", "ana@globex.example")
    org.put("003B", "bo@initech.example")
    mirror = _loaded(engine, org, clock, config)
    org.now += timedelta(seconds=10)
    org.put("003A", None)  # the address removed
    org.remove("003B")
    for _ in range(2):  # deletions are asked once DELETIONS_EVERY has passed
        clock.t += 61
        org.now += DELETIONS_EVERY
        _ask(mirror, engine, org, "ana@globex.example")
    assert _ask(mirror, engine, org, "ana@globex.example", "bo@initech.example") == {}
    assert "deleted" in org.calls


def test_while_loading_off_or_failing_it_does_not_answer_and_the_query_does(engine, config) -> None:  # type: ignore[no-untyped-def]
    org, clock = ContactsOrg(), Clock()
    org.put("003A", "ana@globex.example")
    loading = _mirror(clock)
    assert _ask(loading, engine, org, "ana@globex.example") is None
    off = _mirror(clock, max_age=0)
    off.step(engine, org, org.now, config)  # type: ignore[arg-type]
    assert org.calls == [] and _ask(off, engine, org, "ana@globex.example") is None
    mirror = _loaded(engine, org, clock, config)
    org.fail = True
    assert _ask(mirror, engine, org, "ana@globex.example") is None

    class Queried(ContactsOrg):  # the org failing the delta, answering the query
        def known_emails(self, emails, active):  # type: ignore[no-untyped-def]
            return [KnownEmail("ana@globex.example", "contact", "003A", None, OWNER)]

    caches = Caches(contacts=mirror, emails=EmailCache())
    got = known_emails(
        Queried(fail=True), engine, caches, {"ana@globex.example"}, {}, lambda: org.now
    )  # type: ignore[arg-type]
    assert [k.record_id for k in got["ana@globex.example"]] == ["003A"]


def test_arrivals_refresh_it_at_half_its_age_and_lookups_then_wait_for_nothing(
    engine, config
) -> None:  # type: ignore[no-untyped-def]
    org, clock = ContactsOrg(), Clock()
    mirror = _loaded(engine, org, clock, config)
    mirror.keep_fresh(engine, org, org.now)  # type: ignore[arg-type]
    assert org.calls.count("changed") == 1
    clock.t += 29
    mirror.keep_fresh(engine, org, org.now)  # type: ignore[arg-type]
    assert org.calls.count("changed") == 1
    clock.t += 2
    mirror.keep_fresh(engine, org, org.now)  # type: ignore[arg-type]
    assert org.calls.count("changed") == 2
    clock.t += 40  # 42 s after that refresh: a lookup still finds it fresh
    _ask(mirror, engine, org, "a@b.example")
    assert org.calls.count("changed") == 2


def test_two_lookups_needing_a_refresh_at_once_send_one(engine, config) -> None:  # type: ignore[no-untyped-def]
    org, clock = ContactsOrg(), Clock()
    mirror = _loaded(engine, org, clock, config)
    org.gate = threading.Event()
    answers: list[object] = []
    threads = [threading.Thread(target=lambda: answers.append(_ask(mirror, engine, org, "a@b.example")))
               for _ in range(2)]  # fmt: skip
    for t in threads:
        t.start()
    org.gate.set()
    for t in threads:
        t.join(10)
    assert answers == [{}, {}] and org.calls.count("changed") == 1


def test_an_older_version_of_a_contact_never_overwrites_a_newer_one(engine) -> None:  # type: ignore[no-untyped-def]
    from worker.store import contacts_repo as repo
    from worker.store.db import session_scope

    new = ContactRow("003A", "new@acme.example", None, OWNER, T0 + timedelta(seconds=5))
    old = ContactRow("003A", "old@acme.example", None, OWNER, T0)
    with session_scope(engine) as s:
        repo.apply_changes(s, [new])
        repo.apply_changes(s, [old])
        repo.apply_changes(s, deletions={"003A": T0})  # a deletion older than the row
    assert set(repo.known_emails(engine, ["new@acme.example", "old@acme.example"], {})) == {
        "new@acme.example"
    }
