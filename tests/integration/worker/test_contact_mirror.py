"""The contact mirror against the sandbox org over HTTPS, on SQLite and PostgreSQL: it
answers known-e-mail lookups exactly as the Contact query does (a differential over the
seeded contacts and over changes: an address changed or removed, a contact deleted or
created), and the worker routes from it with no Contact query on the decision's path."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import REPS
from worker.bootstrap import App
from worker.jobs.contacts import DELETIONS_EVERY, ContactMirror, ContactSync
from worker.jobs.context import EmailCache
from worker.jobs.intake import run_cycle
from worker.routing.model import KnownEmail
from worker.routing_config import load_config
from worker.store.models import JournalRow

pytestmark = pytest.mark.integration


class Clock:
    t = 1_000.0

    def __call__(self) -> float:
        return self.t


def _sorted(found: dict[str, list[KnownEmail]]) -> dict[str, list[KnownEmail]]:
    return {e: sorted(v, key=lambda k: k.record_id) for e, v in found.items() if v}


def _both(app: App, mirror: ContactMirror, emails: set[str], now: datetime) -> tuple[Any, Any]:
    deps = app.deps
    active = deps.directory.active()
    from_mirror = mirror.known_emails(deps.engine, deps.gateway, emails, active, lambda: now)
    assert from_mirror is not None, "the loaded mirror answers"
    queried = EmailCache(ttl=0).fetch(deps.gateway, emails, active)
    return _sorted(from_mirror), _sorted(queried)


def test_the_mirror_answers_as_the_contact_query_does_before_and_after_changes(
    sandbox: SandboxHandle, sf_client: Any, mirror_app: App, clock: list[datetime]
) -> None:
    app, org_clock = mirror_app, clock
    admin = sandbox.admin()
    owner, other = admin.user_ids()[REPS[1]], admin.user_ids()[REPS[2]]
    account = sf_client.Account.create({"Name": "Globex Corp", "OwnerId": owner})["id"]
    mixed = sf_client.Contact.create({"LastName": "Lopez", "Email": "Ana.Lopez@Globex.example",
                                      "AccountId": account, "OwnerId": owner})["id"]  # fmt: skip
    twin = sf_client.Contact.create({"LastName": "Lopez", "Email": "ana.lopez@globex.example",
                                     "OwnerId": other})["id"]  # fmt: skip
    gone = sf_client.Contact.create({"LastName": "Ng", "Email": "bo@initech.example",
                                     "OwnerId": owner})["id"]  # fmt: skip
    seeded = {str(r["Email"]).lower() for r in admin.org.store.rows("Contact") if r.get("Email")}
    emails = seeded | {"nobody@nowhere.example"}
    assert len(seeded) > 50, "the sandbox seeds contacts"

    ticks, config = Clock(), load_config(app.settings.routing_config)
    mirror = ContactMirror(sync=ContactSync(delta_every=float("inf"), clock=ticks), clock=ticks)
    while mirror.step(app.deps.engine, app.deps.gateway, org_clock[0], config) is not None:
        pass  # the full pass, a cycle's share at a time
    got, want = _both(app, mirror, emails, org_clock[0])
    assert got == want and len(got["ana.lopez@globex.example"]) == 2

    org_clock[0] += timedelta(seconds=30)
    sf_client.Contact.update(mixed, {"Email": "ana@globex-new.example"})
    sf_client.Contact.update(twin, {"Email": None})
    sf_client.Contact.delete(gone)
    sf_client.Contact.create({"LastName": "Kim", "Email": "kim@hooli.example", "OwnerId": other})
    org_clock[0] += DELETIONS_EVERY + timedelta(minutes=6)
    ticks.t += 61  # past max_age: the next lookup refreshes first
    emails |= {"ana@globex-new.example", "kim@hooli.example"}
    got, want = _both(app, mirror, emails, org_clock[0])
    assert got == want
    assert "ana.lopez@globex.example" not in got and "bo@initech.example" not in got
    assert [k.record_id for k in got["ana@globex-new.example"]] == [mixed]
    assert "kim@hooli.example" in got


def test_the_worker_routes_a_known_e_mail_from_the_mirror_without_a_contact_query(
    sandbox: SandboxHandle, sf_client: Any, mirror_app: App
) -> None:
    app = mirror_app
    admin = sandbox.admin()
    owner = admin.user_ids()[REPS[3]]
    sf_client.Contact.create({"LastName": "Vance", "Email": "Jo.Vance@umbrella.example",
                              "OwnerId": owner})  # fmt: skip
    run_cycle(app.deps)  # the first cycle loads the mirror
    assert app.deps.caches.contacts.ready(app.deps.engine)
    queue = admin.intake_queue_id()
    lead = sf_client.Lead.create({"LastName": "Vance", "Company": "Umbrella", "OwnerId": queue,
                                  "Email": "jo.vance@umbrella.example"})["id"]  # fmt: skip
    asked: list[object] = []
    real = app.deps.gateway.known_emails
    app.deps.gateway.known_emails = lambda *a: asked.append(a) or real(*a)  # type: ignore[method-assign]
    run_cycle(app.deps)
    with Session(app.deps.engine) as s:
        row = s.exec(select(JournalRow).where(JournalRow.lead_id == lead)).one()
    assert (row.owner_id, row.method) == (owner, "account_owner"), row.reason
    assert "same e-mail" in row.trace
    assert asked == []  # no Contact query: the mirror answered
