"""The worker's only door to Salesforce: a Protocol and its simple-salesforce adapter.

Every method is one bulk operation (a query with its pages, or one collections call per
200 records); nothing here loops per lead. Calls go through
:meth:`SalesforceConnection.call` (token refresh on 401) inside the tenacity policy of
:mod:`worker.sfdc.retry` (transient errors). Results are typed (:mod:`mapping`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import quote_plus

from simple_salesforce.api import Salesforce
from tenacity import Retrying

from worker.routing.model import KnownEmail
from worker.sfdc import mapping, probe, soql
from worker.sfdc.connection import SalesforceConnection, on_answer
from worker.sfdc.errors import SfdcPermanentError, replication_refusal
from worker.sfdc.mapping import (
    AccountRow,
    ContactRow,
    DeletedRecords,
    GuardedUpdate,
    LeadRow,
    OwnerRow,
    OwnerUpdate,
    UserChange,
    UserRow,
    WriteResult,
)
from worker.sfdc.outcomes import GUARD_FAILED, NO_RESULT
from worker.sfdc.probe import ApiLimits, Identity, ObjectAccess, TopicAccess
from worker.sfdc.retry import retrying, with_retry

T = TypeVar("T")
COLLECTION_MAX = 200
PARALLEL_READS = 4  # independent read queries in flight at once
RETRIEVE_MAX = 2_000  # ids per sObject Collections retrieve (POST body)
OWNER_FIELDS = [
    "Id", "OwnerId", "IsConverted", "LastModifiedById", "LastModifiedDate", "SystemModstamp",
]  # fmt: skip
COMPOSITE_MAX = 25  # subrequests per Composite call (one API call)
# guarded owner writes per Composite call: each is a query and a PATCH, and a Composite
# call carries at most 5 query (or sObject Collections) subrequests
GUARDED_MAX = 5
NO_AUTO_ASSIGN = {"Sforce-Auto-Assign": "FALSE"}


class SalesforceGateway(Protocol):
    """What the jobs need from Salesforce."""

    def intake_pages(
        self, owner_ids: Sequence[str], since: datetime | None, fields: Sequence[str]
    ) -> Iterator[list[LeadRow]]: ...
    def leads_by_id(self, lead_ids: Iterable[str], fields: Sequence[str]) -> list[LeadRow]: ...
    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, OwnerRow]: ...
    def when_answered(self, callback: Callable[[], object]) -> AbstractContextManager[None]:
        """Within the block, ``callback`` runs as soon as an answer starts arriving
        (before its body is read); a gateway that cannot tell never calls it."""
        ...

    def queue_ids(self, developer_names: Sequence[str]) -> dict[str, str]: ...
    def users_by_email(self, emails: Iterable[str]) -> list[UserRow]: ...
    def users_by_id(self, user_ids: Iterable[str]) -> list[UserRow]: ...
    def users_active(self, user_ids: Iterable[str]) -> dict[str, bool]: ...
    def open_leads_by_owner(
        self, owner_ids: Sequence[str], closed_statuses: Sequence[str]
    ) -> dict[str, int]: ...
    def known_emails(
        self, emails: Iterable[str], active: Mapping[str, bool]
    ) -> list[KnownEmail]: ...
    def task_activity(self, lead_ids: Iterable[str]) -> dict[str, datetime]: ...
    def count_accounts(self) -> int: ...
    def accounts_page(self, after_id: str | None, limit: int) -> list[AccountRow]: ...
    def accounts_changed(self, at: datetime, after_id: str, limit: int) -> list[AccountRow]: ...
    def deleted_accounts(self, start: datetime, end: datetime) -> DeletedRecords: ...
    def users_changed(self, since: datetime) -> list[UserChange]: ...
    def count_contacts(self) -> int: ...
    def contacts_page(self, after_id: str | None, limit: int) -> list[ContactRow]: ...
    def contacts_changed(self, at: datetime, after_id: str, limit: int) -> list[ContactRow]: ...
    def deleted_contacts(self, start: datetime, end: datetime) -> DeletedRecords: ...
    def update_owners(
        self,
        updates: Sequence[OwnerUpdate],
        *,
        unmodified_since: Mapping[str, datetime] | None = None,
    ) -> list[WriteResult]: ...
    def update_owners_guarded(self, updates: Sequence[GuardedUpdate]) -> list[WriteResult]: ...
    def server_time(self) -> datetime | None:
        """A time Salesforce's clock has certainly reached (None: not known yet)."""
        ...

    def api_usage(self) -> tuple[int, int] | None: ...
    def api_calls(self) -> int: ...
    def describe_object(self, sobject: str) -> ObjectAccess | None:
        """sObject Describe (field types: a subscribed worker asks once for Lead)."""
        ...


class OrgProbe(Protocol):
    """What ``leadrouter doctor`` (and the worker's start-up check) asks of an org:
    reads only, never a write."""

    def api_versions(self) -> list[str]: ...
    def identity(self) -> Identity: ...
    def describe_object(self, sobject: str) -> ObjectAccess | None: ...
    def org_limits(self) -> ApiLimits: ...
    def active_assignment_rules(self, sobject: str) -> list[str]: ...
    def queue_ids(self, developer_names: Sequence[str]) -> dict[str, str]: ...
    def queue_sobjects(self, queue_ids: Sequence[str]) -> dict[str, set[str]]: ...
    def users_by_email(self, emails: Iterable[str]) -> list[UserRow]: ...
    def next_leads(
        self, owner_ids: Sequence[str], fields: Sequence[str], limit: int
    ) -> list[LeadRow]: ...
    def change_events_topic(self, endpoint: str, topic: str, org_id: str) -> TopicAccess: ...


class SimpleSalesforceGateway:
    """:class:`SalesforceGateway` over a :class:`SalesforceConnection`."""

    def __init__(self, connection: SalesforceConnection, policy: Retrying | None = None):
        self.connection = connection
        self.policy = policy or retrying()

    # --- plumbing -----------------------------------------------------------------
    def _call(self, fn: Callable[[Salesforce], T]) -> T:
        return with_retry(lambda: self.connection.call(fn), self.policy)

    def _pages(self, query: str) -> Iterator[list[dict[str, Any]]]:
        result: dict[str, Any] = self._call(lambda sf: sf.query(query))
        while True:
            yield list(result.get("records") or [])
            next_url = result.get("nextRecordsUrl")
            if result.get("done", True) or not next_url:
                return
            result = self._call(
                lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True)  # type: ignore[misc]
            )

    def _records(self, queries: Iterable[str]) -> Iterator[dict[str, Any]]:
        for query in queries:
            for page in self._pages(query):
                yield from page

    # --- reads --------------------------------------------------------------------
    def intake_pages(
        self, owner_ids: Sequence[str], since: datetime | None, fields: Sequence[str]
    ) -> Iterator[list[LeadRow]]:
        for page in self._pages(soql.intake_query(owner_ids, since, fields)):
            yield [mapping.lead_row(r) for r in page if r.get("Id")]  # Salesforce always sends Id

    def leads_by_id(self, lead_ids: Iterable[str], fields: Sequence[str]) -> list[LeadRow]:
        """Leads by Id (held leads, reconcile, SLA sweep): one retrieve per 2,000 ids."""
        wanted = ["Id", *(f for f in fields if f.lower() != "id")]
        return [mapping.lead_row(r) for r in self._retrieve("Lead", list(lead_ids), wanted)]

    def when_answered(self, callback: Callable[[], object]) -> AbstractContextManager[None]:
        return on_answer(callback)

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, OwnerRow]:
        """The pre-write re-read: ONE retrieve per 2,000 ids; deleted leads are absent.
        Each row carries a time Salesforce's clock had certainly reached before it read
        the record (``read_at``: the bound at the moment the request left, which only
        this answer's own ``Date`` may have tightened)."""
        out: dict[str, OwnerRow] = {}
        clock = self.connection.server_clock
        for start in range(0, len(lead_ids), RETRIEVE_MAX):
            sent = time.monotonic()  # before the first try: a retry is served later still
            records = list(
                self._retrieve("Lead", lead_ids[start : start + RETRIEVE_MAX], OWNER_FIELDS)
            )
            read_at = clock.lower(sent)
            writer = self.connection.user_id  # known once the calls above have signed in
            for record in records:
                row = mapping.owner_row(record, writer, read_at)
                out[row.id] = row
        return out

    def _retrieve(
        self, sobject: str, ids: Sequence[str], fields: Sequence[str]
    ) -> Iterator[dict[str, Any]]:
        """sObject Collections retrieve by POST (the ids go in the body: no URI limit);
        ids not found (deleted) come back as ``null`` and are skipped."""
        for start in range(0, len(ids), RETRIEVE_MAX):
            body = {"ids": list(ids[start : start + RETRIEVE_MAX]), "fields": list(fields)}
            answer = self._call(
                lambda sf, body=body: sf.restful(  # type: ignore[misc]
                    f"composite/sobjects/{sobject}", method="POST", json=body
                )
            )
            for record in answer if isinstance(answer, list) else []:
                if isinstance(record, dict) and record.get("Id"):
                    yield record

    def queue_ids(self, developer_names: Sequence[str]) -> dict[str, str]:
        records = self._records([soql.queue_ids_query(developer_names)])
        return {str(r["DeveloperName"]): str(r["Id"]) for r in records}

    def users_by_email(self, emails: Iterable[str]) -> list[UserRow]:
        return [mapping.user_row(r) for r in self._records(soql.users_by_email_queries(emails))]

    def users_by_id(self, user_ids: Iterable[str]) -> list[UserRow]:
        return [mapping.user_row(r) for r in self._records(soql.users_by_id_queries(user_ids))]

    def users_active(self, user_ids: Iterable[str]) -> dict[str, bool]:
        records = self._records(soql.users_active_queries(user_ids))
        return {str(r["Id"]): bool(r.get("IsActive")) for r in records}

    def open_leads_by_owner(
        self, owner_ids: Sequence[str], closed_statuses: Sequence[str]
    ) -> dict[str, int]:
        if not owner_ids:
            return {}
        query = soql.open_leads_by_owner_query(owner_ids, closed_statuses)
        return {
            str(r["OwnerId"]): int(r.get("n", r.get("expr0", 0)) or 0)
            for r in self._records([query])
        }

    def known_emails(self, emails: Iterable[str], active: Mapping[str, bool]) -> list[KnownEmail]:
        """Contacts by e-mail: one query per IN chunk (the URI limit), a few side by side."""
        queries = soql.contacts_queries(emails)
        if len(queries) > 1:
            with ThreadPoolExecutor(max_workers=PARALLEL_READS, thread_name_prefix="read") as pool:
                pages = list(pool.map(lambda q: list(self._records([q])), queries))
        else:
            pages = [list(self._records(queries))]
        found = (mapping.known_email(r, "contact", active) for page in pages for r in page)
        return [k for k in found if k is not None]

    def task_activity(self, lead_ids: Iterable[str]) -> dict[str, datetime]:
        first: dict[str, datetime] = {}
        for record in self._records(soql.tasks_for_leads_queries(lead_ids)):
            at = mapping.parse_datetime(record.get("CreatedDate"))
            who = str(record.get("WhoId") or "")
            if at is not None and who and (who not in first or at < first[who]):
                first[who] = at
        return first

    def count_accounts(self) -> int:
        result: dict[str, Any] = self._call(lambda sf: sf.query(soql.accounts_count_query()))
        return int(result.get("totalSize") or 0)

    def accounts_page(self, after_id: str | None, limit: int) -> list[AccountRow]:
        """The account mirror's full pass: the next ``limit`` accounts after ``after_id``."""
        records = self._records([soql.accounts_by_id_query(after_id, limit)])
        return [mapping.account_row(r) for r in records]

    def accounts_changed(self, at: datetime, after_id: str, limit: int) -> list[AccountRow]:
        """Accounts changed after the keyset position (``SystemModstamp``, Id)."""
        records = self._records([soql.accounts_changed_query(at, after_id, limit)])
        return [mapping.account_row(r) for r in records]

    def deleted_accounts(self, start: datetime, end: datetime) -> DeletedRecords:
        return self._deleted("Account", start, end)

    def count_contacts(self) -> int:
        result: dict[str, Any] = self._call(lambda sf: sf.query(soql.contacts_count_query()))
        return int(result.get("totalSize") or 0)

    def contacts_page(self, after_id: str | None, limit: int) -> list[ContactRow]:
        """The contact mirror's full pass: the next ``limit`` contacts with an address."""
        records = self._records([soql.contacts_by_id_query(after_id, limit)])
        return [mapping.contact_row(r) for r in records]

    def contacts_changed(self, at: datetime, after_id: str, limit: int) -> list[ContactRow]:
        """Contacts changed after the keyset position (``SystemModstamp``, Id)."""
        records = self._records([soql.contacts_changed_query(at, after_id, limit)])
        return [mapping.contact_row(r) for r in records]

    def deleted_contacts(self, start: datetime, end: datetime) -> DeletedRecords:
        return self._deleted("Contact", start, end)

    def _deleted(self, sobject: str, start: datetime, end: datetime) -> DeletedRecords:
        """sObject Get Deleted: ``INVALID_REPLICATION_DATE`` (the span reaches past what
        Salesforce keeps) and ``EXCEEDED_ID_LIMIT`` raise
        :class:`~worker.sfdc.errors.ReplicationWindowExceeded` with that ``error_code``."""
        params = {"start": _iso(start), "end": _iso(end)}
        path = f"sobjects/{sobject}/deleted/"
        try:
            answer = self._call(lambda sf: sf.restful(path, params=params))
        except SfdcPermanentError as exc:
            raise replication_refusal(exc) from exc
        return mapping.deleted_records(answer)

    def users_changed(self, since: datetime) -> list[UserChange]:
        return [mapping.user_change(r) for r in self._records([soql.users_changed_query(since)])]

    # --- the org's set-up (doctor) -------------------------------------------------
    def api_versions(self) -> list[str]:
        """``GET /services/data/``: the API versions the org serves."""

        def get(sf: Salesforce) -> object:
            root = sf.base_url.rstrip("/").rsplit("/", 1)[0] + "/"
            return sf._call_salesforce("GET", root).json()  # noqa: SLF001 - no public call

        return probe.versions(self._call(get))

    def identity(self) -> Identity:
        """Who the token signs us in as: the identity URL the REST root lists."""

        def get(sf: Salesforce) -> Any:
            listed = sf.restful("") or {}
            url = str(listed.get("identity") or "")
            return sf._call_salesforce("GET", url).json()  # noqa: SLF001 - absolute URL

        return probe.identity(self._call(get))

    def describe_object(self, sobject: str) -> ObjectAccess | None:
        """sObject Describe as the integration user sees it; None when the object is
        not there for it (404 ``NOT_FOUND``: no read access, or no such object)."""
        try:
            answer = self._call(lambda sf: sf.restful(f"sobjects/{sobject}/describe"))
        except SfdcPermanentError as exc:
            if exc.status == 404:
                return None
            raise
        return probe.object_access(answer or {})

    def org_limits(self) -> ApiLimits:
        """``/limits`` (its ``DailyApiRequests``) and the answer's ``Date`` header."""

        def get(sf: Salesforce) -> ApiLimits:
            response = sf._call_salesforce("GET", sf.base_url + "limits/")  # noqa: SLF001
            return probe.api_limits(response.json(), response.headers.get("Date"))

        return self._call(get)

    def active_assignment_rules(self, sobject: str) -> list[str]:
        records = self._records([probe.assignment_rules_query(sobject)])
        return [str(r.get("Name") or r.get("Id")) for r in records]

    def queue_sobjects(self, queue_ids: Sequence[str]) -> dict[str, set[str]]:
        """Queue Id -> the sObject types it may own (``QueueSobject``)."""
        out: dict[str, set[str]] = {q: set() for q in queue_ids}
        for r in self._records(probe.queue_sobjects_queries(queue_ids)):
            out.setdefault(str(r["QueueId"]), set()).add(str(r.get("SobjectType") or ""))
        return out

    def next_leads(
        self, owner_ids: Sequence[str], fields: Sequence[str], limit: int
    ) -> list[LeadRow]:
        """The next ``limit`` leads the intake would read (one query, no paging)."""
        answer: dict[str, Any] = self._call(
            lambda sf: sf.query(probe.next_leads_query(owner_ids, fields, limit))
        )
        return [mapping.lead_row(r) for r in answer.get("records") or [] if r.get("Id")]

    def change_events_topic(
        self, endpoint: str, topic: str, org_id: str, *, timeout: float = 10.0
    ) -> TopicAccess:
        """Pub/Sub API ``GetTopic`` for ``topic`` (``/data/LeadChangeEvent``) at
        ``endpoint`` (``host:port``, TLS; the configured CA bundle, else the system's),
        authenticated as every Pub/Sub call is (``accesstoken``, ``instanceurl``,
        ``tenantid``). A topic that is not there (Change Data Capture not selected for the
        object) is ``not_found``; an endpoint that does not answer is ``unreachable``."""
        import grpc

        from worker.sfdc.pubsub import pubsub_api_pb2 as pb
        from worker.sfdc.pubsub import pubsub_api_pb2_grpc as pb_grpc

        ca = self.connection.settings.sf_ca_bundle
        credentials = grpc.ssl_channel_credentials(ca.read_bytes() if ca is not None else None)
        metadata = (
            ("accesstoken", str(self.connection.sf.session_id)),
            ("instanceurl", self.connection.instance_url),
            ("tenantid", org_id),
        )
        with grpc.secure_channel(endpoint, credentials) as channel:
            stub = pb_grpc.PubSubStub(channel)  # type: ignore[no-untyped-call]
            try:
                info = stub.GetTopic(
                    pb.TopicRequest(topic_name=topic), metadata=metadata, timeout=timeout
                )
            except grpc.RpcError as exc:
                code = exc.code() if hasattr(exc, "code") else None
                detail = str(exc.details() if hasattr(exc, "details") else exc)
                problem = {
                    grpc.StatusCode.NOT_FOUND: "not_found",
                    grpc.StatusCode.UNAUTHENTICATED: "unauthenticated",
                    grpc.StatusCode.PERMISSION_DENIED: "permission_denied",
                    grpc.StatusCode.UNAVAILABLE: "unreachable",
                    grpc.StatusCode.DEADLINE_EXCEEDED: "unreachable",
                }.get(code, "error")  # type: ignore[arg-type]
                return TopicAccess(False, problem=problem, detail=detail)
        return TopicAccess(True, can_subscribe=bool(info.can_subscribe))

    # --- writes -------------------------------------------------------------------
    def update_owners(
        self,
        updates: Sequence[OwnerUpdate],
        *,
        unmodified_since: Mapping[str, datetime] | None = None,
    ) -> list[WriteResult]:
        """One sObject Collections PATCH per 200 records, ``allOrNone=false``; transient
        failures raise (:class:`SfdcTransientError`) for the caller to re-check and resend.

        With ``unmodified_since`` (lead id -> its last change as re-read): conditional
        writes instead, see :meth:`_update_if_unmodified`."""
        if unmodified_since is not None:
            return self._update_if_unmodified(updates, unmodified_since)
        results: list[WriteResult] = []
        for start in range(0, len(updates), COLLECTION_MAX):
            chunk = updates[start : start + COLLECTION_MAX]
            body = {"allOrNone": False, "records": [_record(u) for u in chunk]}
            # NOT retried here: a PATCH whose answer was lost may have landed, and a blind
            # resend could overwrite an owner a person set meanwhile; the caller re-reads
            # the owners first (a 401 is still refreshed and resent: nothing was applied)
            answer = self.connection.call(
                lambda sf, body=body: sf.restful(  # type: ignore[misc]
                    "composite/sobjects", method="PATCH", json=body, headers=NO_AUTO_ASSIGN
                )
            )
            entries = answer if isinstance(answer, list) else []
            for update, entry in zip(chunk, entries, strict=False):
                results.append(mapping.write_result(update.lead_id, entry))
            for update in chunk[len(entries) :]:
                results.append(WriteResult(update.lead_id, False, NO_RESULT, "missing"))
        return results

    def _update_if_unmodified(
        self, updates: Sequence[OwnerUpdate], since: Mapping[str, datetime]
    ) -> list[WriteResult]:
        """sObject Collections have no precondition; sObject Rows honour
        ``If-Unmodified-Since`` (412 when the record changed since). One Composite call
        (one API call) per 25 such PATCHes, each with its own headers, ``allOrNone=false``;
        the calls go one after another (the caller sends chunks side by side). A lead
        missing from ``since`` is written without the precondition. Not retried here,
        like the collections PATCH."""
        results: list[WriteResult] = []
        for start in range(0, len(updates), COMPOSITE_MAX):
            chunk = updates[start : start + COMPOSITE_MAX]
            answer = self.connection.call(
                lambda sf, chunk=chunk: sf.restful(  # type: ignore[misc]
                    "composite", method="POST", json=_composite_body(sf.sf_version, chunk, since)
                )
            )
            entries = answer.get("compositeResponse") if isinstance(answer, dict) else None
            by_ref = {str(e.get("referenceId")): e for e in entries or [] if isinstance(e, dict)}
            for i, update in enumerate(chunk):
                entry = by_ref.get(f"r{i}")
                if entry is None:
                    results.append(WriteResult(update.lead_id, False, NO_RESULT, "missing"))
                else:
                    results.append(mapping.subrequest_result(update.lead_id, entry))
        return results

    def update_owners_guarded(self, updates: Sequence[GuardedUpdate]) -> list[WriteResult]:
        """Owner writes each guarded by a query in the same Composite call (ONE API call
        per :data:`GUARDED_MAX` leads, no re-read before): per lead, a query selecting
        it only while it is unconverted and owned by one of ``owners``, then an sObject
        Rows PATCH of ``/sobjects/Lead/@{q<i>.records[0].Id}`` with
        ``If-Unmodified-Since``. Salesforce runs the PATCH only if the query found the
        lead: else it answers 400 ``PROCESSING_HALTED`` ("Invalid reference specified.
        No value for q0.records[0].Id found in q0.") without running it. References
        resolve in a subrequest's url and body ("Send Multiple Requests Using Composite",
        REST API guide); ``allOrNone=false`` leaves the other leads' pairs to run.

        The guard is the owner re-read of :meth:`current_owners` made by Salesforce
        itself, a few milliseconds before the PATCH, instead of a round trip before it:
        the caller must send it only once Salesforce's clock has left the second of the
        lead's last change (the precondition has second precision, see
        :mod:`worker.jobs.precondition`). Not retried here, like the other writes."""
        results: list[WriteResult] = []
        for start in range(0, len(updates), GUARDED_MAX):
            chunk = updates[start : start + GUARDED_MAX]
            answer = self.connection.call(
                lambda sf, chunk=chunk: sf.restful(  # type: ignore[misc]
                    "composite", method="POST", json=_guarded_body(sf.sf_version, chunk)
                )
            )
            entries = answer.get("compositeResponse") if isinstance(answer, dict) else None
            by_ref = {str(e.get("referenceId")): e for e in entries or [] if isinstance(e, dict)}
            for i, guarded in enumerate(chunk):
                lead_id = guarded.update.lead_id
                entry, query = by_ref.get(f"w{i}"), by_ref.get(f"q{i}")
                if entry is None:
                    results.append(WriteResult(lead_id, False, NO_RESULT, "missing"))
                elif query is not None and not _succeeded(query):
                    # the guard itself refused (not the lead's state): say so
                    refused = mapping.subrequest_result(lead_id, query)
                    results.append(WriteResult(lead_id, False, GUARD_FAILED, refused.reason))
                else:
                    results.append(mapping.subrequest_result(lead_id, entry))
        return results

    def server_time(self) -> datetime | None:
        return self.connection.server_clock.lower(time.monotonic())

    # --- accounting ---------------------------------------------------------------
    def api_usage(self) -> tuple[int, int] | None:
        return self.connection.api_usage

    def api_calls(self) -> int:
        return self.connection.http_calls


def _iso(at: datetime) -> str:
    """A UTC date-time as Get Deleted takes it (``2013-05-05T00:00:00+00:00``)."""
    return at.astimezone(UTC).replace(microsecond=0).isoformat()


def _record(update: OwnerUpdate) -> dict[str, object]:
    record: dict[str, object] = {
        "attributes": {"type": "Lead"},
        "id": update.lead_id,
        "OwnerId": update.owner_id,
    }
    record.update(update.extra or {})
    return record


def _succeeded(entry: Mapping[str, Any]) -> bool:
    status = entry.get("httpStatusCode")
    return isinstance(status, int) and 200 <= status < 300


def _guarded_body(version: str, chunk: Sequence[GuardedUpdate]) -> dict[str, object]:
    subrequests: list[dict[str, object]] = []
    for i, guarded in enumerate(chunk):
        update = guarded.update
        query = soql.guard_query(update.lead_id, guarded.owners)
        body: dict[str, object] = {"OwnerId": update.owner_id}
        body.update(update.extra or {})
        headers = dict(NO_AUTO_ASSIGN)
        headers["If-Unmodified-Since"] = format_datetime(
            guarded.unmodified_since.astimezone(UTC), usegmt=True
        )
        subrequests += [
            {"method": "GET", "referenceId": f"q{i}",
             "url": f"/services/data/v{version}/query?q={quote_plus(query)}"},
            {"method": "PATCH", "referenceId": f"w{i}",
             "url": f"/services/data/v{version}/sobjects/Lead/@{{q{i}.records[0].Id}}",
             "body": body, "httpHeaders": headers},
        ]  # fmt: skip
    return {"allOrNone": False, "compositeRequest": subrequests}


def _composite_body(
    version: str, chunk: Sequence[OwnerUpdate], since: Mapping[str, datetime]
) -> dict[str, object]:
    subrequests = []
    for i, update in enumerate(chunk):
        headers = dict(NO_AUTO_ASSIGN)
        at = since.get(update.lead_id)
        if at is not None:
            headers["If-Unmodified-Since"] = format_datetime(at.astimezone(UTC), usegmt=True)
        body: dict[str, object] = {"OwnerId": update.owner_id}
        body.update(update.extra or {})
        subrequests.append({
            "method": "PATCH",
            "url": f"/services/data/v{version}/sobjects/Lead/{update.lead_id}",
            "referenceId": f"r{i}",
            "body": body,
            "httpHeaders": headers,
        })  # fmt: skip
    return {"allOrNone": False, "compositeRequest": subrequests}
