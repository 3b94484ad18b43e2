"""An in-memory Salesforce org behind the gateway Protocol, for job tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from worker.routing.model import Account, KnownEmail
from worker.sfdc.errors import SfdcTransientError
from worker.sfdc.mapping import (
    AccountRow,
    DeletedRecords,
    GuardedUpdate,
    LeadRow,
    OwnerRow,
    OwnerUpdate,
    UserChange,
    UserRow,
    WriteResult,
    lead_row,
    owner_row,
    parse_datetime,
)
from worker.sfdc.probe import ObjectAccess

QUEUE_ID = "00G000000000001AAA"
WORKER_USER_ID = "005000000000INTAAA"  # the user the worker writes as
PERSON_ID = "005000000000PERSON"  # someone in the org
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
LEAD_TYPES = {  # the fake org's Lead, as sObject Describe types it
    "Id": "id", "OwnerId": "reference", "Status": "picklist", "IsConverted": "boolean",
    "CreatedDate": "datetime", "LastModifiedDate": "datetime", "SystemModstamp": "datetime",
    "LastActivityDate": "date", "Salutation": "picklist", "FirstName": "string",
    "LastName": "string", "Email": "email", "Company": "string", "Website": "url",
    "Phone": "phone", "Street": "textarea", "City": "string", "State": "string",
    "PostalCode": "string", "Country": "string", "Industry": "picklist",
    "NumberOfEmployees": "int", "AnnualRevenue": "currency", "LeadSource": "picklist",
    "Rating": "picklist",
}  # fmt: skip


def sf_time(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


@dataclass
class FakeGateway:
    users: list[UserRow] = field(default_factory=list)
    queues: dict[str, str] = field(default_factory=lambda: {"Lead_Intake": QUEUE_ID})
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, datetime] = field(default_factory=dict)
    page_size: int = 2000
    calls: dict[str, int] = field(default_factory=dict)
    usage: tuple[int, int] | None = None
    write_errors: dict[str, list[str]] = field(default_factory=dict)  # lead -> codes in turn
    before_write: Callable[[], None] | None = None  # runs after the guard read
    fail_writes: int = 0  # next N collection calls raise a transient error
    clock: datetime = T0
    account_rows: list[Account] = field(default_factory=list)
    lead_types: dict[str, str] | None = field(default_factory=lambda: dict(LEAD_TYPES))

    # --- test helpers ---------------------------------------------------------------
    def add_lead(
        self, lead_id: str, *, owner: str = QUEUE_ID, at: datetime | None = None, **fields: Any
    ) -> None:
        stamp = sf_time(at or self.clock)
        record = {"Id": lead_id, "OwnerId": owner, "Status": "Open - Not Contacted",
                  "IsConverted": False, "CreatedDate": stamp, "SystemModstamp": stamp,
                  "LastModifiedDate": stamp, "LastName": "Lead", "Company": "Acme"}  # fmt: skip
        record.update(fields)
        self.leads[lead_id] = record

    def set_owner(self, lead_id: str, owner: str) -> None:
        """A person (not the worker's user) sets the owner."""
        self.leads[lead_id]["OwnerId"] = owner
        self.leads[lead_id]["SystemModstamp"] = sf_time(self.clock)
        self.leads[lead_id]["LastModifiedDate"] = sf_time(self.clock)
        self.leads[lead_id]["LastModifiedById"] = PERSON_ID

    def owner(self, lead_id: str) -> str:
        return str(self.leads[lead_id]["OwnerId"])

    def _count(self, name: str) -> None:
        self.calls[name] = self.calls.get(name, 0) + 1

    # --- Protocol ---------------------------------------------------------------------
    def intake_pages(
        self, owner_ids: Sequence[str], since: datetime | None, fields: Sequence[str]
    ) -> Iterator[list[LeadRow]]:
        rows = [lead_row(r) for r in self.leads.values()
                if r["OwnerId"] in owner_ids and not r["IsConverted"]]  # fmt: skip
        rows = [
            r
            for r in rows
            if since is None or (r.modstamp and r.modstamp >= since.replace(microsecond=0))
        ]
        rows.sort(key=lambda r: (r.modstamp or T0, r.id))
        self._count("query")
        for start in range(0, max(len(rows), 1), self.page_size):
            if start:
                self._count("query")
            yield rows[start : start + self.page_size]

    def leads_by_id(self, lead_ids: Iterable[str], fields: Sequence[str]) -> list[LeadRow]:
        self._count("query")
        return [lead_row(self.leads[i]) for i in lead_ids if i in self.leads]

    def when_answered(self, callback: Callable[[], object]) -> AbstractContextManager[None]:
        return nullcontext()  # no HTTP here: the caller takes its own turn

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, OwnerRow]:
        self._count("owners")
        return {
            i: owner_row(self.leads[i], WORKER_USER_ID, read_at=self.clock)
            for i in lead_ids
            if i in self.leads
        }

    def queue_ids(self, developer_names: Sequence[str]) -> dict[str, str]:
        self._count("query")
        return {n: self.queues[n] for n in developer_names if n in self.queues}

    def users_by_email(self, emails: Iterable[str]) -> list[UserRow]:
        self._count("query")
        wanted = set(emails)
        return [u for u in self.users if u.email in wanted or u.username in wanted]

    def users_by_id(self, user_ids: Iterable[str]) -> list[UserRow]:
        self._count("query")
        ids = set(user_ids)
        return [u for u in self.users if u.id in ids]

    def users_active(self, user_ids: Iterable[str]) -> dict[str, bool]:
        self._count("query")
        ids = set(user_ids)
        return {u.id: u.is_active for u in self.users if u.id in ids}

    def open_leads_by_owner(
        self, owner_ids: Sequence[str], closed_statuses: Sequence[str]
    ) -> dict[str, int]:
        self._count("aggregate")
        out: dict[str, int] = {}
        for r in self.leads.values():
            if (
                r["OwnerId"] in owner_ids
                and not r["IsConverted"]
                and r["Status"] not in closed_statuses
            ):
                out[r["OwnerId"]] = out.get(r["OwnerId"], 0) + 1
        return out

    def known_emails(self, emails: Iterable[str], active: Mapping[str, bool]) -> list[KnownEmail]:
        self._count("contacts")
        return []

    def task_activity(self, lead_ids: Iterable[str]) -> dict[str, datetime]:
        self._count("query")
        return {i: self.tasks[i] for i in lead_ids if i in self.tasks}

    def count_accounts(self) -> int:
        self._count("query")
        return len(self.account_rows)

    def accounts_page(self, after_id: str | None, limit: int) -> list[AccountRow]:
        self._count("query")
        rows = sorted(self.account_rows, key=lambda a: a.id)
        return [AccountRow(a, self.clock) for a in rows if after_id is None or a.id > after_id][
            :limit
        ]

    def accounts_changed(self, at: datetime, after_id: str, limit: int) -> list[AccountRow]:
        self._count("query")
        return []

    def deleted_accounts(self, start: datetime, end: datetime) -> DeletedRecords:
        self._count("deleted")
        return DeletedRecords({}, None, end)

    def users_changed(self, since: datetime) -> list[UserChange]:
        self._count("query")
        return []

    def update_owners(
        self,
        updates: Sequence[OwnerUpdate],
        *,
        unmodified_since: Mapping[str, datetime] | None = None,
    ) -> list[WriteResult]:
        if self.before_write is not None:
            hook, self.before_write = self.before_write, None
            hook()
        self._count("collections" if unmodified_since is None else "composite")
        if self.fail_writes:
            self.fail_writes -= 1
            raise SfdcTransientError("Salesforce answered 503", status=503)
        return [self._apply(u, (unmodified_since or {}).get(u.lead_id)) for u in updates]

    def update_owners_guarded(self, updates: Sequence[GuardedUpdate]) -> list[WriteResult]:
        """As Salesforce runs a guard query and the PATCH that references it."""
        if self.before_write is not None:
            hook, self.before_write = self.before_write, None
            hook()
        self._count("guarded")
        if self.fail_writes:
            self.fail_writes -= 1
            raise SfdcTransientError("Salesforce answered 503", status=503)
        results = []
        for g in updates:
            record = self.leads.get(g.update.lead_id)
            if record is None or record["IsConverted"] or record["OwnerId"] not in g.owners:
                message = "Invalid reference specified. No value for q0.records[0].Id found in q0."
                results.append(WriteResult(g.update.lead_id, False, "PROCESSING_HALTED", message))
            else:
                results.append(self._apply(g.update, g.unmodified_since))
        return results

    def _apply(self, u: OwnerUpdate, since: datetime | None) -> WriteResult:
        codes = self.write_errors.get(u.lead_id)
        if codes:
            return WriteResult(u.lead_id, False, codes.pop(0), "injected")
        record = self.leads.get(u.lead_id)
        if record is None:
            return WriteResult(u.lead_id, False, "ENTITY_IS_DELETED", "deleted")
        modified = parse_datetime(record.get("LastModifiedDate"))
        if since is not None and modified is not None and modified > since.replace(microsecond=0):
            # second precision, as Salesforce (LastModifiedDate: "the last modified date")
            return WriteResult(u.lead_id, False, "PRECONDITION_FAILED", "412")
        record["OwnerId"] = u.owner_id
        record.update(u.extra or {})
        record["SystemModstamp"] = record["LastModifiedDate"] = sf_time(self.clock)
        record["LastModifiedById"] = WORKER_USER_ID
        return WriteResult(u.lead_id, True)

    def server_time(self) -> datetime | None:
        return self.clock

    def api_usage(self) -> tuple[int, int] | None:
        return self.usage

    def api_calls(self) -> int:
        return sum(self.calls.values())

    def describe_object(self, sobject: str) -> ObjectAccess | None:
        self._count("describe")
        if self.lead_types is None or sobject != "Lead":
            return None
        types = {k.lower(): v for k, v in self.lead_types.items()}
        return ObjectAccess(sobject, True, True, dict.fromkeys(types, True), types)

    def tick(self, seconds: float) -> None:
        self.clock += timedelta(seconds=seconds)

    def clock_ports(self) -> dict[str, Callable[..., Any]]:
        """``Deps`` ports on this org's clock: a back-off moves it on (nothing really
        sleeps) and is timed on it."""
        return {"sleep": self.tick, "monotonic": lambda: self.clock.timestamp()}
