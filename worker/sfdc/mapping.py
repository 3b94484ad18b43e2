"""Salesforce JSON -> typed values. No raw record dict leaves :mod:`worker.sfdc`.

Salesforce datetimes look like ``2013-05-20T20:49:32.000+0000``; dates ``2013-05-20``.
Values that cannot be parsed (or dates outside Salesforce's years 1700-4000) become None
rather than failing a whole batch: one bad record must never stop a cycle. Booleans sent
as text mean what they say (``"false"`` is False).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from worker.routing.model import Account, KnownEmail, Lead
from worker.sfdc.outcomes import PRECONDITION_FAILED, UNKNOWN, WriteKind, kind_of


@dataclass(frozen=True, slots=True)
class LeadRow:
    """A lead as the worker needs it: the routing view plus the bookkeeping fields."""

    lead: Lead
    owner_id: str
    status: str | None
    is_converted: bool
    modstamp: datetime | None
    last_activity: date | None

    @property
    def id(self) -> str:
        return self.lead.id


@dataclass(frozen=True, slots=True)
class OwnerRow:
    id: str
    owner_id: str
    is_converted: bool
    # whether the lead was last modified by the user we write as (None: not known)
    modified_by_us: bool | None = None
    # LastModifiedById, 15-character form (None: not read)
    modified_by: str | None = None
    # LastModifiedDate as read (a person's or an integration's last change)
    modified_at: datetime | None = None
    # a time Salesforce's clock had certainly reached before it read the record (a lower
    # bound, below a second; see worker.sfdc.clock); None when no answer told its clock
    read_at: datetime | None = None
    # SystemModstamp as read: the last change of any kind, automated ones included
    modstamp: datetime | None = None

    @property
    def modified_by_owner(self) -> bool:
        """Whether its last modifier is its owner (a rep working the lead we gave them)."""
        return bool(self.owner_id) and self.modified_by == self.owner_id[:15]

    @property
    def changed_at(self) -> datetime | None:
        """The lead's last change as re-read: the later of ``LastModifiedDate`` and
        ``SystemModstamp``. The precondition of a conditional write: Salesforce compares
        ``If-Unmodified-Since`` with "the last modified date of the record" without
        saying which of the two; neither is ever later than this, so a lead unchanged
        since the re-read passes whichever it is, and a change after it is later."""
        stamps = [at for at in (self.modified_at, self.modstamp) if at is not None]
        return max(stamps) if stamps else None


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    email: str
    username: str
    name: str
    is_active: bool
    manager_email: str | None = None


@dataclass(frozen=True, slots=True)
class AccountRow:
    """An account as the mirror stores it: the routing view and its ``SystemModstamp``."""

    account: Account
    modstamp: datetime | None


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A contact as the contact mirror stores it (known-e-mail matching)."""

    id: str
    email: str | None
    account_id: str | None
    owner_id: str | None
    modstamp: datetime | None


@dataclass(frozen=True, slots=True)
class DeletedRecords:
    """An sObject Get Deleted answer: Id -> when deleted, and the span it covers."""

    deleted: dict[str, datetime | None]
    earliest_available: datetime | None
    latest_covered: datetime | None


@dataclass(frozen=True, slots=True)
class UserChange:
    id: str
    is_active: bool
    modstamp: datetime | None


@dataclass(frozen=True, slots=True)
class OwnerUpdate:
    """One record of an sObject Collections PATCH."""

    lead_id: str
    owner_id: str
    extra: Mapping[str, str] | None = None  # audit fields, e.g. a routing reason


@dataclass(frozen=True, slots=True)
class GuardedUpdate:
    """An owner write guarded in its own call: applied only if the lead is still owned by
    one of ``owners`` and not converted when Salesforce runs it, and unmodified since
    ``unmodified_since`` (see :meth:`~worker.sfdc.gateway.SimpleSalesforceGateway.
    update_owners_guarded`)."""

    update: OwnerUpdate
    owners: frozenset[str]
    unmodified_since: datetime


@dataclass(frozen=True, slots=True)
class WriteResult:
    """One lead's answer to an owner write: :attr:`kind` says what it came to."""

    lead_id: str
    success: bool
    error_code: str | None = None
    message: str = ""

    @property
    def kind(self) -> WriteKind:
        return WriteKind.WRITTEN if self.success else kind_of(self.error_code)

    @property
    def code(self) -> str:
        """Salesforce's error code (a metric label); ``UNKNOWN`` when it gave none."""
        return self.error_code or UNKNOWN

    @property
    def reason(self) -> str:
        """Why Salesforce refused it, as the journal records it: code and message."""
        return f"{self.code}: {self.message}"


def parse_datetime(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:  # Python 3.11+ reads Salesforce's "Z" and "+0000" itself (10x faster than fixing up)
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if not _plausible(parsed):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = date.fromisoformat(value[:10])
    except ValueError:
        return None
    return parsed if _plausible(parsed) else None


def _plausible(value: date) -> bool:
    """Salesforce stores dates from 1700 to 4000. Anything else is garbage, and a year-1
    stamp taken as the intake watermark would overflow ``watermark - overlap`` (every
    later cycle would fail) while a year-9999 one would hide every later lead."""
    return 1700 <= value.year <= 4000


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _flag(value: object) -> bool:
    """A Salesforce boolean; text means what it says (``bool("false")`` is True)."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def lead_row(record: Mapping[str, Any]) -> LeadRow:
    fields = dict(record)  # a C-level copy: a page maps 2,000 of these
    fields.pop("attributes", None)
    if dict in map(type, fields.values()):  # a relationship's sub-record: not a lead field
        fields = {k: v for k, v in fields.items() if not isinstance(v, dict)}
    lead = Lead(
        id=str(record["Id"]), fields=fields, created_at=parse_datetime(record.get("CreatedDate"))
    )
    return LeadRow(
        lead=lead,
        owner_id=str(record.get("OwnerId") or ""),
        status=_str(record.get("Status")),
        is_converted=_flag(record.get("IsConverted")),
        modstamp=parse_datetime(record.get("SystemModstamp")),
        last_activity=parse_date(record.get("LastActivityDate")),
    )


def owner_row(
    record: Mapping[str, Any], writer_id: str | None = None, read_at: datetime | None = None
) -> OwnerRow:
    """``writer_id``: the user our writes are made as; with ``LastModifiedById`` in the
    record it tells our own last write from anyone else's (Ids compared on their
    case-sensitive 15-character form: the 18-character one only adds a suffix)."""
    modified_by = record.get("LastModifiedById")
    ours = None
    if writer_id and isinstance(modified_by, str) and modified_by:
        ours = modified_by[:15] == writer_id[:15]
    owner = str(record.get("OwnerId") or "")
    return OwnerRow(
        id=str(record["Id"]),
        owner_id=owner,
        is_converted=_flag(record.get("IsConverted")),
        modified_by_us=ours,
        modified_at=parse_datetime(record.get("LastModifiedDate")),
        read_at=read_at,
        modstamp=parse_datetime(record.get("SystemModstamp")),
        modified_by=modified_by[:15] if isinstance(modified_by, str) and modified_by else None,
    )


def user_row(record: Mapping[str, Any]) -> UserRow:
    return UserRow(
        id=str(record["Id"]),
        email=str(record.get("Email") or "").lower(),
        username=str(record.get("Username") or "").lower(),
        name=str(record.get("Name") or ""),
        is_active=_flag(record.get("IsActive", True)),
        manager_email=_manager_email(record.get("Manager")),
    )


def _manager_email(manager: object) -> str | None:
    """``Manager.Email`` of a User record (None: no manager, or not selected)."""
    if isinstance(manager, Mapping) and manager.get("Email"):
        return str(manager["Email"]).lower()
    return None


def account(record: Mapping[str, Any], active_owners: Mapping[str, bool]) -> Account:
    owner = _str(record.get("OwnerId"))
    rel = record.get("Owner")
    active = rel.get("IsActive") if isinstance(rel, dict) else None
    employees = record.get("NumberOfEmployees")
    return Account(
        id=str(record["Id"]),
        name=str(record.get("Name") or ""),
        website=_str(record.get("Website")),
        owner_id=owner,
        owner_active=(bool(active) if active is not None else active_owners.get(owner, True))
        if owner
        else False,
        employees=employees if isinstance(employees, int) else None,
        country=_str(record.get("BillingCountry")),
        phone=_str(record.get("Phone")),
        last_activity=parse_date(record.get("LastActivityDate")),
    )


def account_row(record: Mapping[str, Any]) -> AccountRow:
    return AccountRow(account(record, {}), parse_datetime(record.get("SystemModstamp")))


def contact_row(record: Mapping[str, Any]) -> ContactRow:
    return ContactRow(
        str(record["Id"]), _str(record.get("Email")), _str(record.get("AccountId")),
        _str(record.get("OwnerId")), parse_datetime(record.get("SystemModstamp")),
    )  # fmt: skip


def deleted_records(answer: object) -> DeletedRecords:
    """``{"deletedRecords": [{"id", "deletedDate"}], "earliestDateAvailable",
    "latestDateCovered"}``; entries without an id are skipped."""
    body = answer if isinstance(answer, Mapping) else {}
    entries = body.get("deletedRecords")
    deleted = {
        str(e["id"]): parse_datetime(e.get("deletedDate"))
        for e in (entries if isinstance(entries, list) else [])
        if isinstance(e, Mapping) and e.get("id")
    }
    return DeletedRecords(
        deleted,
        parse_datetime(body.get("earliestDateAvailable")),
        parse_datetime(body.get("latestDateCovered")),
    )


def user_change(record: Mapping[str, Any]) -> UserChange:
    return UserChange(
        str(record["Id"]),
        _flag(record.get("IsActive")),
        parse_datetime(record.get("SystemModstamp")),
    )


def known_email(
    record: Mapping[str, Any], kind: str, active_owners: Mapping[str, bool]
) -> KnownEmail | None:
    email = _str(record.get("Email"))
    owner = _str(record.get("OwnerId"))
    if email is None or owner is None:
        return None
    return KnownEmail(
        email=email.lower(),
        kind="contact" if kind == "contact" else "lead",
        record_id=str(record["Id"]),
        account_id=_str(record.get("AccountId")),
        owner_id=owner,
        owner_active=active_owners.get(owner, True),
    )


def subrequest_result(lead_id: str, entry: Mapping[str, Any]) -> WriteResult:
    """A Composite subrequest's answer (``httpStatusCode`` + ``body``; errors in the body
    as ``[{"errorCode", "message"}]``). 412 is PRECONDITION_FAILED whatever the body."""
    status = entry.get("httpStatusCode")
    if isinstance(status, int) and 200 <= status < 300:
        return WriteResult(lead_id, True)
    body = entry.get("body")
    first = body[0] if isinstance(body, list) and body and isinstance(body[0], dict) else {}
    code = PRECONDITION_FAILED if status == 412 else first.get("errorCode") or UNKNOWN
    return WriteResult(lead_id, False, str(code), str(first.get("message", ""))[:500])


def write_result(lead_id: str, entry: Mapping[str, Any]) -> WriteResult:
    """A per-record sObject Collections result (errors carry ``statusCode``)."""
    if _flag(entry.get("success")):
        return WriteResult(lead_id, True)
    errors = entry.get("errors")
    first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = first.get("statusCode") or first.get("errorCode") or UNKNOWN
    return WriteResult(lead_id, False, str(code), str(first.get("message", ""))[:500])
