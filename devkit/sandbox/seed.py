"""Seeding: the roster's users and the intake queue (always), then a realistic book of
accounts, contacts, open opportunities and leads (reproducible from a seed number)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tqdm import tqdm

from devkit.sandbox.leadgen import DataFactory
from devkit.sandbox.org import Org
from devkit.sandbox.roster import INTAKE_QUEUE, INTAKE_QUEUE_NAME, ROSTER, Person
from devkit.sandbox.schema import ACCOUNT, CONTACT, GROUP, LEAD, OPPORTUNITY, QUEUE_SOBJECT, USER

CHUNK = 500


@dataclass(frozen=True)
class SeedSummary:
    users: int
    accounts: int
    contacts: int
    opportunities: int
    leads: int


def seed_base(org: Org) -> None:
    """Create the roster's Users and the intake queue once (idempotent)."""
    if not org.integration_user_id:
        _seed_users_and_queue(org)
    ensure_queue_holds_leads(org)


def ensure_queue_holds_leads(org: Org, *, again: bool = False) -> None:
    """The intake queue's ``QueueSobject`` for Lead (also for states seeded before the
    sandbox modelled it); once removed (admin ``set_queue_holds_leads``) only ``again``
    brings it back."""
    queue = org.intake_queue_id
    known = "intake_queue_sobject" in org.store.meta
    if queue is None or (known and not again) or org.store.meta.get("intake_queue_sobject"):
        return
    with org.txn() as txn:
        row = txn.create(QUEUE_SOBJECT, {"QueueId": queue, "SobjectType": "Lead"}, system=True)
    org.store.set_meta("intake_queue_sobject", row["Id"])


def _seed_users_and_queue(org: Org) -> None:
    with org.txn() as txn:
        ids: dict[str, str] = {}
        for person in ROSTER:
            row = txn.create(USER, _user_values(person), system=True)
            ids[person.email] = row["Id"]
            if person.role == "integration":
                txn.actor = row["Id"]
        for person in ROSTER:
            staged = txn.get(ids[person.email])
            assert staged is not None
            row = staged
            row["CreatedById"] = row["LastModifiedById"] = txn.actor
            if person.manager:
                row["ManagerId"] = ids[person.manager]
        queue = txn.create(
            GROUP,
            {"Name": INTAKE_QUEUE_NAME, "DeveloperName": INTAKE_QUEUE, "Type": "Queue"},
            system=True,
        )
    org.store.set_meta("integration_user_id", txn.actor)
    org.store.set_meta("intake_queue_id", queue["Id"])


def _user_values(p: Person) -> dict[str, Any]:
    return {
        "Username": p.email,
        "FirstName": p.first,
        "LastName": p.last,
        "Alias": (p.first[:1] + p.last[:4]).lower(),
        "Email": p.email,
        "Title": {
            "ae": "Account Executive",
            "sdr": "Sales Development Rep",
            "manager": "Sales Manager",
        }.get(p.role, "Integration"),
        "Department": p.team,
        "IsActive": p.active,
        "UserType": "AutomatedProcess" if p.role == "integration" else "Standard",
        "TimeZoneSidKey": p.tz,
        "LanguageLocaleKey": "en_US",
        "Languages__c": ";".join(p.languages),
    }


def seed_data(
    org: Org, *, seed: int, accounts: int, leads: int, progress: bool = False
) -> SeedSummary:
    """Add ``accounts`` accounts (with contacts and some open opportunities) and ``leads``."""
    seed_base(org)
    factory = DataFactory(seed)
    owners = _owners_by_team(org)
    counts = {"accounts": 0, "contacts": 0, "opportunities": 0}
    book: list[tuple[str, str]] = []
    with _bar(accounts + leads, progress, f"seeding (seed {seed})") as bar:
        for start in range(0, accounts, CHUNK):
            with org.txn() as txn:
                for _ in range(min(CHUNK, accounts - start)):
                    region, values, domain = factory.account()
                    owner = _pick_owner(factory, owners, region.team)
                    acct = txn.create(ACCOUNT, values | {"OwnerId": owner}, system=True)
                    counts["accounts"] += 1
                    book.append((values["Name"], domain))
                    for _ in range(factory.rng.choice([0, 1, 1, 2, 3])):
                        txn.create(
                            CONTACT,
                            factory.contact(region, domain)
                            | {"AccountId": acct["Id"], "OwnerId": owner},
                            system=True,
                        )
                        counts["contacts"] += 1
                    if factory.rng.random() < 0.3:
                        close = txn.now.date() + timedelta(days=factory.rng.randint(10, 120))
                        opp = {"Name": f"{values['Name'][:80]} - New Business", "StageName": factory.rng.choice(["Prospecting", "Qualification", "Needs Analysis", "Proposal/Price Quote"]),
                               "CloseDate": close.isoformat(), "Amount": float(factory.rng.randint(5, 500) * 1000), "AccountId": acct["Id"], "OwnerId": owner}  # fmt: skip
                        txn.create(OPPORTUNITY, opp, system=True)
                        counts["opportunities"] += 1
                    bar.update(1)
        created = create_leads(org, factory, leads, book=book, bar=bar)
    users = len(org.store.rows("User"))
    return SeedSummary(
        users, counts["accounts"], counts["contacts"], counts["opportunities"], len(created)
    )


def create_leads(
    org: Org,
    factory: DataFactory,
    count: int,
    *,
    book: list[tuple[str, str]] | None = None,
    bar: Any = None,
) -> list[str]:
    """Create ``count`` new leads owned by the intake queue, as web-to-lead would."""
    if book is None:
        book = account_book(org)
    ids: list[str] = []
    for start in range(0, count, CHUNK):
        with org.txn() as txn:
            for _ in range(min(CHUNK, count - start)):
                values = factory.lead(book) | {"OwnerId": org.intake_queue_id}
                ids.append(txn.create(LEAD, values, system=True)["Id"])
                if bar is not None:
                    bar.update(1)
    return ids


def account_book(org: Org) -> list[tuple[str, str]]:
    from devkit.sandbox.leadgen import slug  # noqa: F401 - keeps the import local

    out = []
    for row in org.store.rows("Account"):
        website = str(row.get("Website") or "")
        domain = website.split("://")[-1].removeprefix("www.").strip("/")
        if domain:
            out.append((str(row["Name"]), domain))
    return out


def _owners_by_team(org: Org) -> dict[str, tuple[list[str], list[str]]]:
    """team -> (active rep ids, inactive rep ids)."""
    ids = org.user_ids_by_email()
    out: dict[str, tuple[list[str], list[str]]] = {}
    for p in ROSTER:
        if p.role in ("ae", "sdr"):
            active, inactive = out.setdefault(p.team, ([], []))
            (active if p.active else inactive).append(ids[p.email.lower()])
    return out


def _pick_owner(
    factory: DataFactory, owners: dict[str, tuple[list[str], list[str]]], team: str
) -> str:
    active, inactive = owners[team]
    # A few accounts still belong to reps who have left: routing must notice.
    if inactive and factory.rng.random() < 0.03:
        return factory.rng.choice(inactive)
    return factory.rng.choice(active)


@contextmanager
def _bar(total: int, enabled: bool, label: str) -> Iterator[Any]:
    with tqdm(total=total, desc=label, unit="rec", disable=not enabled, leave=True) as bar:
        yield bar
