"""The gateway's two write-path exchanges pinned at the HTTP seam with ``responses``: the
owner re-read (sObject Collections retrieve) and the owner write (collections PATCH)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

import pytest
import responses
from tenacity import Retrying

from worker.settings import load_settings
from worker.sfdc.connection import SalesforceConnection
from worker.sfdc.gateway import SimpleSalesforceGateway
from worker.sfdc.mapping import GuardedUpdate, OwnerUpdate
from worker.sfdc.retry import retrying

INSTANCE = "https://acme.my.salesforce.com"
TOKEN_URL = f"{INSTANCE}/services/oauth2/token"
COLLECTIONS = f"{INSTANCE}/services/data/v59.0/composite/sobjects"
TOKEN_OK = {
    "access_token": "00Dxx!token",
    "instance_url": INSTANCE,
    "id": f"{INSTANCE}/id/00Dxx0000000001EAA/005xx0000000001AAA",
    "token_type": "Bearer",
    "issued_at": "1763884800000",
    "signature": "c2lnbmF0dXJl",
}
LEAD_A, LEAD_B = "00Q5e00000AbCdEAAV", "00Q5e00000AbCdFAAV"
REP = "0055e000001XyZ1AAK"


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(TOKEN_URL, json=TOKEN_OK)
        yield rsps


def gateway(policy: Retrying | None = None) -> SimpleSalesforceGateway:
    settings = load_settings(
        sf_instance_url=INSTANCE, sf_consumer_key="ck-123", sf_consumer_secret="cs-456"
    )
    return SimpleSalesforceGateway(SalesforceConnection(settings), policy)


def test_owner_write_is_one_collections_patch_without_auto_assignment(
    mocked: responses.RequestsMock,
) -> None:
    mocked.patch(
        COLLECTIONS,
        json=[
            {"id": LEAD_A, "success": True, "errors": []},
            {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW",
                                           "message": "unable to obtain exclusive access"}]},
        ],
    )  # fmt: skip
    updates = [
        OwnerUpdate(LEAD_A, REP, {"Routing_Reason__c": "Round-robin in pool na"}),
        OwnerUpdate(LEAD_B, REP),
    ]

    results = gateway().update_owners(updates)

    request = mocked.calls[1].request
    assert (request.method, request.url) == ("PATCH", COLLECTIONS)
    assert request.headers["Sforce-Auto-Assign"] == "FALSE"
    assert request.headers["Authorization"] == "Bearer 00Dxx!token"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.body or b"") == {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Lead"}, "id": LEAD_A, "OwnerId": REP,
             "Routing_Reason__c": "Round-robin in pool na"},
            {"attributes": {"type": "Lead"}, "id": LEAD_B, "OwnerId": REP},
        ],
    }  # fmt: skip
    assert [(r.lead_id, r.success, r.error_code) for r in results] == [
        (LEAD_A, True, None),
        (LEAD_B, False, "UNABLE_TO_LOCK_ROW"),
    ]


def test_owner_reread_of_2000_leads_is_one_retrieve_and_deleted_leads_are_absent(
    mocked: responses.RequestsMock,
) -> None:
    ids = [f"00Q5e0000{i:06d}AAA" for i in range(2_000)]
    records: list[object] = [
        {"attributes": {"type": "Lead"}, "Id": i, "OwnerId": "00G5e000000QueUEAA",
         "IsConverted": False, "LastModifiedById": "005xx0000000001AAA",
         "LastModifiedDate": "2026-11-23T10:00:05.000+0000",
         "SystemModstamp": "2026-11-23T10:00:06.000+0000"}
        for i in ids
    ]  # fmt: skip
    records[7] = None  # deleted meanwhile
    records[8] = dict(records[8], LastModifiedById=REP)  # type: ignore[call-overload]
    mocked.post(f"{COLLECTIONS}/Lead", json=records,
                headers={"Date": "Mon, 23 Nov 2026 10:00:07 GMT"})  # fmt: skip

    owners = gateway().current_owners(ids)

    request = mocked.calls[1].request
    assert json.loads(request.body or b"") == {
        "ids": ids,
        "fields": ["Id", "OwnerId", "IsConverted", "LastModifiedById", "LastModifiedDate",
                   "SystemModstamp"],
    }  # fmt: skip
    assert len(mocked.calls) == 2  # the token, then ONE retrieve
    assert len(owners) == 1_999 and ids[7] not in owners
    assert owners[ids[0]].owner_id == "00G5e000000QueUEAA"
    # last modified by the user of the token's identity URL (us), or by someone else
    assert (owners[ids[0]].modified_by_us, owners[ids[8]].modified_by_us) == (True, False)
    assert owners[ids[0]].modified_at == datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)
    # the precondition: the later of LastModifiedDate and SystemModstamp
    assert owners[ids[0]].changed_at == datetime(2026, 11, 23, 10, 0, 6, tzinfo=UTC)
    # Salesforce's clock before it read them, from below: its answer was dated 10:00:07,
    # so at the moment the request left it read at least 10:00:07 less the round trip
    read_at = owners[ids[0]].read_at
    assert read_at is not None
    assert (
        timedelta(0)
        <= datetime(2026, 11, 23, 10, 0, 7, tzinfo=UTC) - read_at
        < timedelta(seconds=1)
    )


def test_a_conditional_owner_write_is_composite_of_25_sobject_rows_patches(
    mocked: responses.RequestsMock,
) -> None:
    """Each subrequest: sObject Rows PATCH with If-Unmodified-Since (the re-read's
    LastModifiedDate as an HTTP date) and Sforce-Auto-Assign: FALSE; 412 = refused."""
    ids = [f"00Q5e0000{i:06d}AAA" for i in range(30)]
    since = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)

    def answer(request):  # type: ignore[no-untyped-def]
        subs = json.loads(request.body)["compositeRequest"]
        out = [{"body": None, "httpHeaders": {}, "httpStatusCode": 204, "referenceId": s["referenceId"]}
               for s in subs]  # fmt: skip
        if len(subs) == 25:
            out[1] = {"body": [{"errorCode": "PRECONDITION_FAILED", "message": "modified"}],
                      "httpHeaders": {}, "httpStatusCode": 412, "referenceId": "r1"}  # fmt: skip
            out[2] = {"body": [{"errorCode": "ENTITY_IS_DELETED", "message": "entity is deleted"}],
                      "httpHeaders": {}, "httpStatusCode": 404, "referenceId": "r2"}  # fmt: skip
            out.reverse()  # matched by referenceId, not position
        return 200, {}, json.dumps({"compositeResponse": out})

    composite = f"{INSTANCE}/services/data/v59.0/composite"
    mocked.add_callback(responses.POST, composite, callback=answer)
    updates = [OwnerUpdate(i, REP, {"Routing_Reason__c": "r"} if n == 0 else None)
               for n, i in enumerate(ids)]  # fmt: skip

    results = gateway().update_owners(updates, unmodified_since=dict.fromkeys(ids[1:], since))

    for call in mocked.calls[1:]:  # one API call per 25: POST /composite, JSON, our token
        assert (call.request.method, call.request.url) == ("POST", composite)
        assert call.request.headers["Authorization"] == "Bearer 00Dxx!token"
        assert call.request.headers["Content-Type"] == "application/json"
        assert "If-Unmodified-Since" not in call.request.headers  # per subrequest only
    first, second = (json.loads(c.request.body) for c in mocked.calls[1:])
    assert (len(first["compositeRequest"]), len(second["compositeRequest"])) == (25, 5)
    assert first["allOrNone"] is False
    assert first["compositeRequest"][0] == {
        "method": "PATCH",
        "url": f"/services/data/v59.0/sobjects/Lead/{ids[0]}",
        "referenceId": "r0",
        "body": {"OwnerId": REP, "Routing_Reason__c": "r"},
        "httpHeaders": {"Sforce-Auto-Assign": "FALSE"},  # no last change known
    }
    assert first["compositeRequest"][1]["httpHeaders"] == {
        "Sforce-Auto-Assign": "FALSE",
        "If-Unmodified-Since": "Mon, 23 Nov 2026 10:00:05 GMT",
    }
    assert [(r.lead_id, r.success, r.error_code) for r in results[:4]] == [
        (ids[0], True, None),
        (ids[1], False, "PRECONDITION_FAILED"),
        (ids[2], False, "ENTITY_IS_DELETED"),
        (ids[3], True, None),
    ]
    assert len(results) == 30 and all(r.success for r in results[25:])


def test_an_owner_write_answered_503_is_not_resent_blindly(
    mocked: responses.RequestsMock,
) -> None:
    """A PATCH may land even when its answer is an error or never comes: resending it
    without re-reading the owners could overwrite a person's choice, so the gateway
    raises and the write-back re-checks before any resend."""
    from worker.sfdc.errors import SfdcTransientError

    mocked.patch(COLLECTIONS, status=503, json=[{"errorCode": "SERVER_UNAVAILABLE",
                                                 "message": "try again"}])  # fmt: skip
    with pytest.raises(SfdcTransientError):
        gateway().update_owners([OwnerUpdate(LEAD_A, REP)])
    patches = [c for c in mocked.calls if c.request.method == "PATCH"]
    assert len(patches) == 1


@pytest.mark.parametrize(
    ("identity", "user"),
    [
        (f"{INSTANCE}/id/00Dxx0000000001EAA/005xx0000000001AAA", "005xx0000000001AAA"),
        ("https://login.salesforce.com/id/00D/005xx0000000001", "005xx0000000001"),
        (f"{INSTANCE}/id/00Dxx0000000001EAA/", None),  # no user at the end
        (f"{INSTANCE}/id/00Dxx0000000001EAA/00Gxx0000000001AAA", None),  # not a user
        (None, None),
        (42, None),
    ],
)
def test_the_user_we_write_as_comes_from_the_identity_url(
    identity: object, user: str | None
) -> None:
    from worker.sfdc.auth import identity_user

    assert identity_user(identity) == user


def test_an_owner_row_without_a_known_writer_says_so() -> None:
    from worker.sfdc.mapping import owner_row

    record = {"Id": LEAD_A, "OwnerId": REP, "IsConverted": False, "LastModifiedById": REP}
    assert owner_row(record).modified_by_us is None  # no token identity: unknown
    assert owner_row(record, REP[:15]).modified_by_us is True  # 15- vs 18-character Id
    assert owner_row({**record, "LastModifiedById": None}, REP).modified_by_us is None


def test_the_owner_answer_is_announced_when_it_arrives_not_for_a_failed_try(
    mocked: responses.RequestsMock,
) -> None:
    """``on_answer``: the write-back asks the cycle thread to stand aside only once the
    owners' answer is in (not while Salesforce works on the read, not for a 503 the
    retry policy sends again), and only for calls made inside the block."""
    from worker.sfdc.connection import on_answer

    record = {"attributes": {"type": "Lead"}, "Id": LEAD_A, "OwnerId": REP, "IsConverted": False}
    mocked.post(f"{COLLECTIONS}/Lead", status=503,
                json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "try again"}])  # fmt: skip
    mocked.post(f"{COLLECTIONS}/Lead", json=[record])
    mocked.post(f"{COLLECTIONS}/Lead", json=[record])
    naps: list[float] = []
    gw = gateway(retrying(sleep=naps.append))  # the retry's back-off: nothing really waits
    announced: list[int] = []

    def answered() -> None:
        announced.append(len(mocked.calls))  # how many exchanges had happened by then

    with on_answer(answered):
        owners = gw.current_owners([LEAD_A])
    gw.current_owners([LEAD_A])  # outside the block: not announced
    assert LEAD_A in owners
    assert announced == [3]  # the token, the 503, then the answer that came through
    assert len(naps) == 1 and 0.05 <= naps[0] <= 0.1  # one back-off, with its jitter


def test_the_precondition_is_an_http_date_in_gmt_whole_seconds(
    mocked: responses.RequestsMock,
) -> None:
    """``If-Unmodified-Since`` is an HTTP date (``EEE, dd MMM yyyy HH:mm:ss z``): GMT and
    whole seconds, whatever zone or fraction the stamp came in."""
    from datetime import timezone

    def answer(request):  # type: ignore[no-untyped-def]
        subs = json.loads(request.body)["compositeRequest"]
        out = [{"body": None, "httpHeaders": {}, "httpStatusCode": 204,
                "referenceId": s["referenceId"]} for s in subs]  # fmt: skip
        return 200, {}, json.dumps({"compositeResponse": out})

    composite = f"{INSTANCE}/services/data/v59.0/composite"
    mocked.add_callback(responses.POST, composite, callback=answer)
    berlin = timezone(timedelta(hours=1))
    since = {LEAD_A: datetime(2026, 11, 23, 11, 0, 5, 999_000, tzinfo=berlin)}

    gateway().update_owners([OwnerUpdate(LEAD_A, REP)], unmodified_since=since)

    (sub,) = json.loads(mocked.calls[1].request.body)["compositeRequest"]
    assert sub["httpHeaders"]["If-Unmodified-Since"] == "Mon, 23 Nov 2026 10:00:05 GMT"


@pytest.mark.parametrize("code", ["INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT"])
def test_get_deleted_refusing_the_span_raises_replication_window_exceeded(
    mocked: responses.RequestsMock, code: str
) -> None:
    from worker.sfdc.errors import ReplicationWindowExceeded

    mocked.get(f"{INSTANCE}/services/data/v59.0/sobjects/Account/deleted/", status=400,
               json=[{"errorCode": code, "message": "no"}])  # fmt: skip
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ReplicationWindowExceeded) as refused:
        gateway().deleted_accounts(start, start + timedelta(days=20))
    assert refused.value.error_code == code


def test_get_deleted_refused_for_another_reason_is_a_plain_permanent_error(
    mocked: responses.RequestsMock,
) -> None:
    from worker.sfdc.errors import ReplicationWindowExceeded, SfdcPermanentError

    mocked.get(f"{INSTANCE}/services/data/v59.0/sobjects/Account/deleted/", status=400,
               json=[{"errorCode": "INVALID_TYPE", "message": "no"}])  # fmt: skip
    start = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(SfdcPermanentError) as refused:
        gateway().deleted_accounts(start, start + timedelta(days=1))
    assert not isinstance(refused.value, ReplicationWindowExceeded)


def test_a_guarded_owner_write_pins_its_query_and_the_patch_that_references_it(
    mocked: responses.RequestsMock,
) -> None:
    """Per lead a query (the lead while unconverted and in one of the owners we may
    replace) and the PATCH of ``@{q<i>.records[0].Id}``, five pairs to a Composite call;
    a refused guard query is told apart from a guard that found no lead of ours."""
    ids = [f"00Q5e0000{i:06d}AAA" for i in range(7)]
    queue = "00G5e000000QUEUEAA"
    since = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)

    def answer(request):  # type: ignore[no-untyped-def]
        subs = json.loads(request.body)["compositeRequest"]
        ok = {"httpHeaders": {}, "body": None}
        out = [{**ok, "httpStatusCode": 200 if s["method"] == "GET" else 204,
                "referenceId": s["referenceId"]} for s in subs]  # fmt: skip
        if len(subs) == 10:
            halted = [{"errorCode": "PROCESSING_HALTED",
                       "message": "Invalid reference specified. No value for q1.records[0].Id found in q1."}]  # fmt: skip
            out[3] = {**ok, "body": halted, "httpStatusCode": 400, "referenceId": "w1"}
            out[4] = {**ok, "body": [{"errorCode": "MALFORMED_QUERY", "message": "no"}],
                      "httpStatusCode": 400, "referenceId": "q2"}  # fmt: skip
            out[5] = {**ok, "body": halted, "httpStatusCode": 400, "referenceId": "w2"}
        return 200, {}, json.dumps({"compositeResponse": out})

    composite = f"{INSTANCE}/services/data/v59.0/composite"
    mocked.add_callback(responses.POST, composite, callback=answer)
    guarded = [GuardedUpdate(OwnerUpdate(i, REP), frozenset({queue}), since) for i in ids]

    results = gateway().update_owners_guarded(guarded)

    first, second = (json.loads(c.request.body) for c in mocked.calls[1:])
    assert (len(first["compositeRequest"]), len(second["compositeRequest"])) == (10, 4)
    query, patch = first["compositeRequest"][:2]
    assert query == {
        "method": "GET",
        "referenceId": "q0",
        "url": "/services/data/v59.0/query?q=" + quote_plus(
            f"SELECT Id FROM Lead WHERE Id = '{ids[0]}' AND IsConverted = false "
            f"AND OwnerId IN ('{queue}')"
        ),
    }  # fmt: skip
    assert patch == {
        "method": "PATCH",
        "referenceId": "w0",
        "url": "/services/data/v59.0/sobjects/Lead/@{q0.records[0].Id}",
        "body": {"OwnerId": REP},
        "httpHeaders": {
            "Sforce-Auto-Assign": "FALSE",
            "If-Unmodified-Since": "Mon, 23 Nov 2026 10:00:05 GMT",
        },
    }
    assert [(r.success, r.error_code) for r in results] == [
        (True, None),
        (False, "PROCESSING_HALTED"),  # the guard found no lead of ours
        (False, "GUARD_QUERY_FAILED"),  # the guard itself was refused
        *[(True, None)] * 4,
    ]
    assert results[2].message.startswith("MALFORMED_QUERY")
