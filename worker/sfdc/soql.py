"""SOQL builders. Every value that reaches a query goes through ``format_soql``.

Nothing here talks to Salesforce: each function returns query text (or a list of query
texts when an ``IN`` list had to be split). ``IN`` lists are chunked so that a GET URI
stays well under Salesforce's 16,384-byte limit (an 18-character Id costs about 26
URL-encoded bytes; an e-mail or company name can cost far more, so string lists are
chunked by their encoded size as well as by count).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from urllib.parse import quote

from simple_salesforce.format import format_soql, quote_soql_value

MAX_IN_ITEMS = 200
MAX_IN_BYTES = 12_000  # URI (and URI + headers) limit is 16,384 bytes: ~4 kB to spare
MAX_EMAILS_PER_QUERY = 500  # e-mail IN lists are bounded by MAX_IN_BYTES (~300 a query)
MAX_VALUE_CHARS = 255  # longer strings cannot match a standard text field anyway


def chunked_in(values: Iterable[str], max_items: int = MAX_IN_ITEMS) -> Iterator[list[str]]:
    """Split distinct, non-empty values into IN lists small enough for a GET URI."""
    chunk: list[str] = []
    size = 0
    for value in dict.fromkeys(v[:MAX_VALUE_CHARS] for v in values if v):
        cost = len(quote(quote_soql_value(value))) + 3
        if chunk and (len(chunk) >= max_items or size + cost > MAX_IN_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(value)
        size += cost
    if chunk:
        yield chunk


def _select(fields: Sequence[str]) -> str:
    for field in fields:  # field names are ours (code/config), never user data
        if not field.replace("_", "").replace(".", "").isalnum():
            raise ValueError(f"not a field name: {field!r}")
    return ", ".join(dict.fromkeys(fields))


def intake_query(owner_ids: Sequence[str], since: datetime | None, fields: Sequence[str]) -> str:
    """New leads waiting in the intake owners, oldest change first (pages via queryMore)."""
    where = format_soql("OwnerId IN {} AND IsConverted = false", list(owner_ids))
    if since is not None:
        where += format_soql(" AND SystemModstamp >= {}", since)
    return f"SELECT {_select(fields)} FROM Lead WHERE {where} ORDER BY SystemModstamp, Id"


def leads_by_id_queries(lead_ids: Iterable[str], fields: Sequence[str]) -> list[str]:
    """Leads by Id (held leads, reconcile, SLA sweep), one query per IN chunk."""
    return [
        format_soql(f"SELECT {_select(fields)} FROM Lead WHERE Id IN {{}}", chunk)
        for chunk in chunked_in(lead_ids)
    ]


def guard_query(lead_id: str, owner_ids: Iterable[str]) -> str:
    """The query a guarded owner write references (:meth:`~worker.sfdc.gateway.
    SimpleSalesforceGateway.update_owners_guarded`): the lead, only while it is not
    converted and still owned by one of ``owner_ids`` (those our decision may replace)."""
    return format_soql(
        "SELECT Id FROM Lead WHERE Id = {} AND IsConverted = false AND OwnerId IN {}",
        lead_id,
        sorted(owner_ids),
    )


def queue_ids_query(developer_names: Sequence[str]) -> str:
    return format_soql(
        "SELECT Id, DeveloperName FROM Group WHERE Type = 'Queue' AND DeveloperName IN {}",
        list(developer_names),
    )


def users_by_email_queries(emails: Iterable[str]) -> list[str]:
    return [
        format_soql(
            "SELECT Id, Email, Username, Name, IsActive, Manager.Email FROM User "
            "WHERE Email IN {} OR Username IN {}",
            chunk,
            chunk,
        )
        for chunk in chunked_in(e.lower() for e in emails)
    ]


def users_by_id_queries(user_ids: Iterable[str]) -> list[str]:
    return [
        format_soql(
            "SELECT Id, Email, Username, Name, IsActive, Manager.Email FROM User WHERE Id IN {}",
            chunk,
        )
        for chunk in chunked_in(user_ids)
    ]


def users_active_queries(user_ids: Iterable[str]) -> list[str]:
    return [
        format_soql("SELECT Id, IsActive FROM User WHERE Id IN {}", chunk)
        for chunk in chunked_in(user_ids)
    ]


def open_leads_by_owner_query(owner_ids: Sequence[str], closed_statuses: Sequence[str]) -> str:
    """One aggregate: open (unconverted, not closed) leads per owner."""
    where = format_soql("OwnerId IN {} AND IsConverted = false", list(owner_ids))
    if closed_statuses:
        where += format_soql(" AND Status NOT IN {}", list(closed_statuses))
    return f"SELECT OwnerId, COUNT(Id) n FROM Lead WHERE {where} GROUP BY OwnerId"


ACCOUNT_FIELDS = (
    "Id, Name, Website, OwnerId, Owner.IsActive, NumberOfEmployees, BillingCountry, Phone, "
    "LastActivityDate, SystemModstamp"
)
ACCOUNT_PAGE = 2_000  # accounts per mirror query: one page of results, one API call


def accounts_count_query() -> str:
    return "SELECT COUNT() FROM Account"


def accounts_by_id_query(after_id: str | None, limit: int = ACCOUNT_PAGE) -> str:
    """The account mirror's full pass: the next ``limit`` accounts in Id order (keyset
    paging: each page is a fresh query, so a pass can stop and resume at any page)."""
    return by_id_query("Account", ACCOUNT_FIELDS, after_id, limit)


def accounts_changed_query(at: datetime, after_id: str, limit: int = ACCOUNT_PAGE) -> str:
    """Accounts changed after the keyset position (``SystemModstamp``, Id)."""
    return changed_query("Account", ACCOUNT_FIELDS, at, after_id, limit)


CONTACT_FIELDS = "Id, Email, AccountId, OwnerId, SystemModstamp"


def contacts_count_query() -> str:
    return "SELECT COUNT() FROM Contact WHERE Email != null"


def contacts_by_id_query(after_id: str | None, limit: int = ACCOUNT_PAGE) -> str:
    """The contact mirror's full pass: contacts with an e-mail address, in Id order."""
    return by_id_query("Contact", CONTACT_FIELDS, after_id, limit, "Email != null")


def contacts_changed_query(at: datetime, after_id: str, limit: int = ACCOUNT_PAGE) -> str:
    """Contacts changed after the keyset position, with or without an address (one
    whose address was removed leaves the mirror)."""
    return changed_query("Contact", CONTACT_FIELDS, at, after_id, limit)


def by_id_query(
    sobject: str, fields: str, after_id: str | None, limit: int, where: str = ""
) -> str:
    """A mirror's full pass: the next ``limit`` records in Id order (keyset paging)."""
    conditions = [c for c in (where, format_soql("Id > {}", after_id) if after_id else "") if c]
    clause = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return f"SELECT {fields} FROM {sobject}{clause} ORDER BY Id LIMIT {int(limit)}"


def changed_query(sobject: str, fields: str, at: datetime, after_id: str, limit: int) -> str:
    """Records changed after the keyset position (``SystemModstamp``, Id): those changed
    at ``at`` with a greater Id (all of them when ``after_id`` is ""), then later ones."""
    at = at.replace(microsecond=0)
    if after_id:
        where = format_soql(
            "SystemModstamp > {} OR (SystemModstamp = {} AND Id > {})", at, at, after_id
        )
    else:
        where = format_soql("SystemModstamp >= {}", at)
    return (
        f"SELECT {fields} FROM {sobject} WHERE {where} "
        f"ORDER BY SystemModstamp, Id LIMIT {int(limit)}"
    )


def users_changed_query(since: datetime) -> str:
    """Users changed since ``since`` (an owner deactivated: its accounts' owner is inactive)."""
    return format_soql(
        "SELECT Id, IsActive, SystemModstamp FROM User WHERE SystemModstamp >= {}",
        since.replace(microsecond=0),
    )


def contacts_queries(emails: Iterable[str]) -> list[str]:
    return [
        format_soql("SELECT Id, Email, AccountId, OwnerId FROM Contact WHERE Email IN {}", chunk)
        for chunk in chunked_in((e.lower() for e in emails), MAX_EMAILS_PER_QUERY)
    ]


def tasks_for_leads_queries(lead_ids: Iterable[str]) -> list[str]:
    """Activity on leads (SLA "touched" check): Tasks whose WhoId is one of the leads."""
    return [
        format_soql("SELECT WhoId, CreatedDate FROM Task WHERE WhoId IN {}", chunk)
        for chunk in chunked_in(lead_ids)
    ]
