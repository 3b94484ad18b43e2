"""The sandbox through simple-salesforce: every call the worker makes, made as it makes it."""

from __future__ import annotations

import re

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
)

from worker.sfdc.ids import checksum

pytestmark = pytest.mark.integration
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")


def _lead_ids(sandbox, n):
    return sandbox.admin().create_leads(n)


def test_query_all_follows_next_records_url_page_by_page(sandbox, sf_client):
    _lead_ids(sandbox, 5000)
    first = sf_client.query("SELECT Id, SystemModstamp FROM Lead ORDER BY SystemModstamp, Id")
    assert first["totalSize"] == 5000 and not first["done"] and len(first["records"]) == 2000
    assert re.match(r"^/services/data/v59\.0/query/01g\w{15}-2000$", first["nextRecordsUrl"])
    second = sf_client.query_more(first["nextRecordsUrl"], identifier_is_url=True)
    assert second["totalSize"] == 5000 and len(second["records"]) == 2000
    every = sf_client.query_all("SELECT Id FROM Lead")
    assert len({r["Id"] for r in every["records"]}) == 5000


def test_batch_size_header_sets_the_page_size(sandbox, sf_client, sandbox_session):
    _lead_ids(sandbox, 450)
    sandbox_session.headers["Sforce-Query-Options"] = "batchSize=200"
    page = sf_client.query("SELECT Id FROM Lead")
    assert len(page["records"]) == 200 and page["nextRecordsUrl"].endswith("-200")


def _patch(sf, records, all_or_none=False, headers=None):
    body = {"allOrNone": all_or_none, "records": records}
    return sf.restful(
        "composite/sobjects",
        method="PATCH",
        json=body,
        headers=headers or {"Sforce-Auto-Assign": "FALSE"},
    )


def _owner_records(ids, owner):
    return [{"attributes": {"type": "Lead"}, "id": i, "OwnerId": owner} for i in ids]


def test_collection_patch_reports_inactive_owners_per_record(sandbox, sf_client):
    admin = sandbox.admin()
    users = admin.user_ids()
    ids = _lead_ids(sandbox, 200)
    records = _owner_records(ids, users["sarah.johnson@acme-sales.example"])
    for i in (5, 77, 150):
        records[i]["OwnerId"] = users["kevin.harris@acme-sales.example"]  # inactive
    results = _patch(sf_client, records)
    assert sum(r["success"] for r in results) == 197
    failed = [i for i, r in enumerate(results) if not r["success"]]
    assert failed == [5, 77, 150]
    assert {r["errors"][0]["statusCode"] for r in results if not r["success"]} == {
        "INACTIVE_OWNER_OR_USER"
    }
    assert admin.get_lead(ids[0])["OwnerId"] == users["sarah.johnson@acme-sales.example"]
    assert admin.get_lead(ids[5])["OwnerId"] == admin.intake_queue_id()


def test_all_or_none_rolls_every_record_back(sandbox, sf_client):
    admin = sandbox.admin()
    users = admin.user_ids()
    ids = _lead_ids(sandbox, 10)
    records = _owner_records(ids, users["anna.schmidt@acme-sales.example"])
    records[3]["OwnerId"] = users["marc.lefevre@acme-sales.example"]  # inactive
    results = _patch(sf_client, records, all_or_none=True)
    assert results[3]["errors"][0]["statusCode"] == "INACTIVE_OWNER_OR_USER"
    assert all(
        r["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        for i, r in enumerate(results)
        if i != 3
    )
    assert {admin.get_lead(i)["OwnerId"] for i in ids} == {admin.intake_queue_id()}


def test_more_than_200_records_are_refused(sandbox, sf_client):
    ids = _lead_ids(sandbox, 201)
    with pytest.raises(SalesforceMalformedRequest) as info:
        _patch(sf_client, _owner_records(ids, sandbox.admin().intake_queue_id()))
    assert info.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"


def test_group_by_owner_counts_sum_to_the_lead_count(sandbox, sf_client):
    admin = sandbox.admin()
    ids = _lead_ids(sandbox, 30)
    for lead_id in ids[:7]:
        admin.change_owner(lead_id, admin.user_ids()["ben.carter@acme-sales.example"])
    rows = sf_client.query(
        "SELECT OwnerId, COUNT(Id) FROM Lead WHERE IsConverted = false GROUP BY OwnerId"
    )["records"]
    assert all(r["attributes"] == {"type": "AggregateResult"} for r in rows)
    assert sorted(r["expr0"] for r in rows) == [7, 23]
    assert sf_client.query("SELECT COUNT() FROM Lead")["totalSize"] == 30


def test_expired_session_answers_401_and_a_new_token_works(sandbox, sf_client, sandbox_session):
    sandbox.admin().expire_sessions()
    with pytest.raises(SalesforceExpiredSession) as info:
        sf_client.query("SELECT Id FROM Lead")
    assert info.value.content[0]["errorCode"] == "INVALID_SESSION_ID"
    token = sandbox_session.post(
        sandbox.token_url,
        data={"grant_type": "client_credentials"},
        auth=(sandbox.client_id, sandbox.client_secret),
    ).json()["access_token"]
    fresh = Salesforce(session_id=token, instance_url=sandbox.instance_url, session=sandbox_session)
    assert fresh.query("SELECT COUNT() FROM User")["totalSize"] == 40


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Lead WHERE Status = 'a' AND Email = 'b' OR Company = 'c'",
            "MALFORMED_QUERY",
        ),
        ("SELECT Nope__c FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Leed", "INVALID_TYPE"),
        ("SELECT Id FROM Lead WHERE CreatedDate > 2026-01-01", "INVALID_QUERY_FILTER_OPERATOR"),
    ],
)
def test_bad_soql_gets_a_400_with_the_salesforce_error_code(sf_client, soql, code):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf_client.query(soql)
    assert info.value.status == 400
    assert info.value.content[0]["errorCode"] == code


def test_3000_nested_parentheses_get_a_400_not_a_500(sandbox, sandbox_session):
    """Parentheses need no escaping in a query string, so 3,000 levels fit in the URI
    limit; they overflowed the parser's stack (a 500 from a RecursionError)."""
    soql = "SELECT+Id+FROM+Lead+WHERE+" + "(" * 3000 + "Name+%3D+%27x%27" + ")" * 3000
    response = sandbox_session.get(
        f"{sandbox.instance_url}/services/data/v59.0/query/?q={soql}",
        headers={"Authorization": f"Bearer {sandbox.access_token()}"},
    )
    assert response.status_code == 400
    assert response.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_datetimes_and_ids_come_back_in_salesforce_format(sandbox, sf_client):
    _lead_ids(sandbox, 3)
    record = sf_client.query("SELECT Id, OwnerId, CreatedDate, SystemModstamp FROM Lead LIMIT 1")[
        "records"
    ][0]
    assert SF_DATETIME.match(record["CreatedDate"]) and SF_DATETIME.match(record["SystemModstamp"])
    for value in (record["Id"], record["OwnerId"]):
        assert len(value) == 18 and value[15:] == checksum(value[:15])
    assert record["Id"].startswith("00Q") and record["OwnerId"].startswith("00G")


def test_every_response_carries_the_limit_header_and_the_allocation_runs_out(
    sandbox, sf_client, sandbox_session
):
    admin = sandbox.admin()
    admin.set_api_limit(limit=admin.api_calls() + 2)
    sf_client.query("SELECT Id FROM User LIMIT 1")
    used = sf_client.api_usage["api-usage"]
    assert used.total == admin.api_calls() + 1
    sf_client.query("SELECT Id FROM User LIMIT 1")
    response = sandbox_session.get(
        f"{sandbox.instance_url}/services/data/v59.0/limits/",
        headers={"Authorization": f"Bearer {sandbox.access_token()}"},
    )
    assert response.status_code == 403
    assert response.json()[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
    assert response.headers["Sforce-Limit-Info"] == f"api-usage={used.total}/{used.total}"


def test_update_with_stale_if_unmodified_since_gets_412(sandbox, sf_client):
    lead_id = _lead_ids(sandbox, 1)[0]
    with pytest.raises(SalesforceGeneralError) as info:
        sf_client.Lead.update(
            lead_id,
            {"Routing_Reason__c": "x"},
            headers={"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"},
        )
    assert info.value.status == 412
    assert (
        sf_client.Lead.update(
            lead_id,
            {"Routing_Reason__c": "ok"},
            headers={"If-Unmodified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
        )
        == 204
    )


def test_assignment_rule_overrides_a_writer_that_forgets_the_header(sandbox, sf_client):
    admin = sandbox.admin()
    rep = admin.user_ids()["yuki.tanaka@acme-sales.example"]
    a, b = _lead_ids(sandbox, 2)
    admin.set_assignment_rule(on=True)
    sf_client.Lead.update(a, {"OwnerId": rep})
    sf_client.Lead.update(b, {"OwnerId": rep}, headers={"Sforce-Auto-Assign": "FALSE"})
    assert admin.get_lead(a)["OwnerId"] == admin.intake_queue_id()
    assert admin.get_lead(b)["OwnerId"] == rep


def test_converted_and_deleted_leads_refuse_updates(sandbox, sf_client):
    admin = sandbox.admin()
    converted, deleted = _lead_ids(sandbox, 2)
    admin.convert_lead(converted)
    admin.delete_lead(deleted)
    results = _patch(
        sf_client,
        _owner_records([converted, deleted], admin.user_ids()["wei.chen@acme-sales.example"]),
    )
    assert [r["errors"][0]["statusCode"] for r in results] == [
        "CANNOT_UPDATE_CONVERTED_LEAD",
        "ENTITY_IS_DELETED",
    ]
    assert sf_client.query("SELECT COUNT() FROM Lead")["totalSize"] == 1
    assert sf_client.query_all("SELECT Id FROM Lead", include_deleted=True)["totalSize"] == 2


def test_a_closed_task_sets_last_activity_date_and_moves_system_modstamp(sandbox, sf_client):
    admin = sandbox.admin()
    lead_id = _lead_ids(sandbox, 1)[0]
    admin.change_owner(lead_id, admin.user_ids()["mei.lin@acme-sales.example"])
    admin.log_task(lead_id, activity_date="2026-03-04")
    lead = sf_client.Lead.get(lead_id)
    assert lead["LastActivityDate"] == "2026-03-04"
    rows = sf_client.query(
        f"SELECT WhoId, MIN(ActivityDate) FROM Task WHERE WhoId = '{lead_id}' GROUP BY WhoId"
    )["records"]
    assert rows[0]["expr0"] == "2026-03-04"


def test_account_and_contact_lookups_used_by_the_router(sandbox, sf_client):
    account = sf_client.query("SELECT Id, Website FROM Account WHERE Website != null LIMIT 1")[
        "records"
    ][0]
    domain = account["Website"].split("://")[-1].removeprefix("www.").strip("/")
    hits = sf_client.query(
        f"SELECT Id, Name, Website, OwnerId, Owner.IsActive, NumberOfEmployees, BillingCountry, LastActivityDate FROM Account WHERE Website LIKE '%{domain}%' OR Name IN ('zzz')"
    )
    assert account["Id"] in {r["Id"] for r in hits["records"]}
    assert isinstance(hits["records"][0]["Owner"]["IsActive"], bool)
    contacts = sf_client.query(
        "SELECT Email, AccountId, Account.OwnerId FROM Contact WHERE Email != null LIMIT 5"
    )["records"]
    assert all(c["Account"]["OwnerId"].startswith("005") for c in contacts)
    queue = sf_client.query(
        "SELECT Id, DeveloperName, Name FROM Group WHERE Type = 'Queue' AND DeveloperName IN ('Lead_Intake')"
    )
    assert queue["records"][0]["Id"] == sandbox.admin().intake_queue_id()


def _sub(ref: str, lead_id: str, body: dict, **headers: str) -> dict:
    return {
        "method": "PATCH",
        "url": f"/services/data/v59.0/sobjects/Lead/{lead_id}",
        "referenceId": ref,
        "body": body,
        "httpHeaders": headers,
    }


def test_composite_runs_conditional_patches_each_with_its_own_headers(sandbox, sf_client):
    """POST /composite (via simple-salesforce's restful): one API call; each subrequest
    answers with its own status, a stale If-Unmodified-Since gets 412 and changes
    nothing, and Sforce-Auto-Assign in a subrequest keeps the assignment rule off."""
    admin = sandbox.admin()
    rep = admin.user_ids()["yuki.tanaka@acme-sales.example"]
    fresh, stale, gone = _lead_ids(sandbox, 3)
    sf_client.Lead.delete(gone)
    admin.set_assignment_rule(on=True)
    calls = admin.api_calls()
    answer = sf_client.restful(
        "composite",
        method="POST",
        json={
            "allOrNone": False,
            "compositeRequest": [
                _sub("a", fresh, {"OwnerId": rep}, **{
                    "If-Unmodified-Since": "Fri, 01 Jan 2100 00:00:00 GMT",
                    "Sforce-Auto-Assign": "FALSE"}),
                _sub("b", stale, {"OwnerId": rep},
                     **{"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}),
                _sub("c", gone, {"OwnerId": rep}),
            ],
        },
    )  # fmt: skip
    assert admin.api_calls() == calls + 1
    by_ref = {r["referenceId"]: r for r in answer["compositeResponse"]}
    assert [r["referenceId"] for r in answer["compositeResponse"]] == ["a", "b", "c"]
    assert by_ref["a"]["httpStatusCode"] == 204 and by_ref["a"]["body"] is None
    assert by_ref["b"]["httpStatusCode"] == 412
    assert by_ref["c"]["httpStatusCode"] == 404
    assert by_ref["c"]["body"][0]["errorCode"] == "ENTITY_IS_DELETED"
    assert admin.get_lead(fresh)["OwnerId"] == rep  # the rule did not override it
    assert admin.get_lead(stale)["OwnerId"] == admin.intake_queue_id()


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"compositeRequest": []}, "1 to 25"),
        ({"compositeRequest": [_sub(f"r{i}", "00Q000000000001AAA", {}) for i in range(26)]},
         "1 to 25"),
        ({"compositeRequest": [_sub("a", "x", {}), _sub("a", "y", {})]}, "unique"),
        ({"compositeRequest": [_sub("a", "x", {}, Authorization="Bearer z")]}, "top-level"),
        ({"allOrNone": True, "compositeRequest": [_sub("a", "x", {})]}, "allOrNone=false"),
        ({"compositeRequest": [{"method": "PATCH", "url": "/services/data/v59.0/composite/sobjects",
                                "referenceId": "a", "body": {"records": []}}]},
         "sObject Collections inside"),
    ],
)  # fmt: skip
def test_malformed_composite_requests_are_refused_whole(sf_client, body, needle):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf_client.restful("composite", method="POST", json=body)
    assert needle in info.value.content[0]["message"]


def _http_date(sf_datetime: str, shift_seconds: int = 0, zone: str = "GMT") -> str:
    """An HTTP date ("EEE, dd MMM yyyy HH:mm:ss z") for an API dateTime, shifted."""
    from datetime import UTC, datetime, timedelta, timezone

    at = datetime.strptime(sf_datetime, "%Y-%m-%dT%H:%M:%S.%f%z") + timedelta(seconds=shift_seconds)
    if zone == "MST":
        return at.astimezone(timezone(timedelta(hours=-7))).strftime("%a, %d %b %Y %H:%M:%S MST")
    return at.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def test_if_unmodified_since_compares_whole_seconds_in_any_zone(sandbox, sf_client):
    """ "Conditional Request Headers": the request runs only if the record is unmodified
    since the date. Dates are whole seconds: the lead's own LastModifiedDate passes (in
    GMT or MST), a second earlier is 412 and changes nothing."""
    lead_id = _lead_ids(sandbox, 1)[0]
    for zone in ("GMT", "MST"):
        stamp = sf_client.Lead.get(lead_id)["LastModifiedDate"]
        header = {"If-Unmodified-Since": _http_date(stamp, zone=zone)}
        assert sf_client.Lead.update(lead_id, {"Routing_Reason__c": "same second"},
                                     headers=header) == 204  # fmt: skip
    stamp = sf_client.Lead.get(lead_id)["LastModifiedDate"]
    with pytest.raises(SalesforceGeneralError) as info:
        sf_client.Lead.update(lead_id, {"Routing_Reason__c": "stale"},
                              headers={"If-Unmodified-Since": _http_date(stamp, -1)})  # fmt: skip
    assert info.value.status == 412
    assert info.value.content[0]["errorCode"] == "PRECONDITION_FAILED"
    assert sf_client.Lead.get(lead_id)["Routing_Reason__c"] == "same second"


def test_an_unreadable_if_unmodified_since_is_400_on_patch_and_post_and_ignored_on_get(
    sandbox, sf_client
):
    """ "When you include an invalid header value for ... If-Unmodified-Since on a PATCH or
    POST request, a 400 Bad Request status code is returned"; a GET ignores it, as
    HTTP 1.1 does."""
    lead_id = _lead_ids(sandbox, 1)[0]
    bad = {"If-Unmodified-Since": "yesterday, around noon"}
    with pytest.raises(SalesforceMalformedRequest) as patched:
        sf_client.Lead.update(lead_id, {"Routing_Reason__c": "x"}, headers=bad)
    with pytest.raises(SalesforceMalformedRequest) as posted:
        sf_client.Lead.create({"LastName": "L", "Company": "C"}, headers=bad)
    assert patched.value.status == posted.value.status == 400
    assert sf_client.Lead.get(lead_id, headers=bad)["Id"] == lead_id


def test_a_get_or_delete_with_a_stale_date(sandbox, sf_client):
    """GET with a stale If-Unmodified-Since: 412 (the record changed since); DELETE does
    not support conditional headers: it ignores them."""
    lead_id = _lead_ids(sandbox, 1)[0]
    stale = {"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}
    with pytest.raises(SalesforceGeneralError) as info:
        sf_client.Lead.get(lead_id, headers=stale)
    assert info.value.status == 412
    assert sf_client.Lead.delete(lead_id, headers=stale) == 204


def test_composite_subrequests_get_the_same_412_and_400_one_by_one(sandbox, sf_client):
    """Conditional headers in Composite subrequests behave as on sObject Rows, each
    subrequest on its own: a stale date 412, an unreadable one 400, the rest applied."""
    admin = sandbox.admin()
    rep = admin.user_ids()["yuki.tanaka@acme-sales.example"]
    same, stale, bad = _lead_ids(sandbox, 3)
    stamp = sf_client.Lead.get(same)["LastModifiedDate"]
    answer = sf_client.restful("composite", method="POST", json={
        "allOrNone": False,
        "compositeRequest": [
            _sub("same", same, {"OwnerId": rep}, **{"If-Unmodified-Since": _http_date(stamp)}),
            _sub("stale", stale, {"OwnerId": rep},
                 **{"If-Unmodified-Since": _http_date(stamp, -60)}),
            _sub("bad", bad, {"OwnerId": rep}, **{"If-Unmodified-Since": "soon"}),
        ],
    })  # fmt: skip
    status = {r["referenceId"]: r["httpStatusCode"] for r in answer["compositeResponse"]}
    assert status == {"same": 204, "stale": 412, "bad": 400}
    owners = {i: admin.get_lead(i)["OwnerId"] for i in (same, stale, bad)}
    assert owners == {same: rep, stale: admin.intake_queue_id(), bad: admin.intake_queue_id()}


# --- Composite references: @{referenceId.field[n]...} ----------------------------------
def _owner_query(ref: str, lead_id: str, owner_ids: list[str]) -> dict:
    """The worker's guard: the lead, only while unconverted and still owned as it saw it."""
    from urllib.parse import quote_plus

    owners = ",".join(f"'{o}'" for o in owner_ids)
    soql = (f"SELECT Id FROM Lead WHERE Id = '{lead_id}' AND IsConverted = false "
            f"AND OwnerId IN ({owners})")  # fmt: skip
    return {"method": "GET", "referenceId": ref,
            "url": f"/services/data/v59.0/query?q={quote_plus(soql)}"}  # fmt: skip


def _referencing_patch(ref: str, query_ref: str, body: dict, **headers: str) -> dict:
    return _sub(ref, f"@{{{query_ref}.records[0].Id}}", body,
                **({"Sforce-Auto-Assign": "FALSE"} | headers))  # fmt: skip


def _composite(sf, *subs: dict) -> dict[str, dict]:
    answer = sf.restful("composite", method="POST",
                        json={"allOrNone": False, "compositeRequest": list(subs)})  # fmt: skip
    return {r["referenceId"]: r for r in answer["compositeResponse"]}


def _halted(expression: str, ref: str) -> list[dict]:
    message = f"Invalid reference specified. No value for {expression} found in {ref}."
    return [{"message": message, "errorCode": "PROCESSING_HALTED"}]


def test_a_patch_referencing_a_query_runs_only_when_the_query_found_the_lead(sandbox, sf_client):
    """Composite, allOrNone=false: a PATCH whose url references ``@{q.records[0].Id}``
    writes the lead the query found; when the query found none the PATCH is not executed
    (400 PROCESSING_HALTED, the message real orgs give) and the pair after it still runs.
    Two queries and two PATCHes are ONE API call."""
    admin = sandbox.admin()
    users = admin.user_ids()
    rep, other = users["yuki.tanaka@acme-sales.example"], users["anna.schmidt@acme-sales.example"]
    queue = admin.intake_queue_id()
    (taken,) = admin.create_leads(1, owner_id=other)  # no longer in the queue: no row
    (open_,) = _lead_ids(sandbox, 1)
    calls = admin.api_calls()
    by_ref = _composite(
        sf_client,
        _owner_query("q0", taken, [queue]),
        _referencing_patch("w0", "q0", {"OwnerId": rep}),
        _owner_query("q1", open_, [queue]),
        _referencing_patch("w1", "q1", {"OwnerId": rep}),
    )
    assert admin.api_calls() == calls + 1
    assert list(by_ref) == ["q0", "w0", "q1", "w1"]
    assert by_ref["q0"]["httpStatusCode"] == 200 and by_ref["q0"]["body"]["totalSize"] == 0
    assert by_ref["w0"]["httpStatusCode"] == 400
    assert by_ref["w0"]["body"] == _halted("q0.records[0].Id", "q0")
    assert by_ref["q1"]["body"]["records"][0]["Id"] == open_
    assert by_ref["w1"]["httpStatusCode"] == 204
    assert admin.get_lead(taken)["OwnerId"] == other
    assert admin.get_lead(open_)["OwnerId"] == rep


def test_a_referencing_patch_still_honours_if_unmodified_since(sandbox, sf_client):
    admin = sandbox.admin()
    rep = admin.user_ids()["yuki.tanaka@acme-sales.example"]
    fresh, stale = _lead_ids(sandbox, 2)
    queue = admin.intake_queue_id()
    by_ref = _composite(
        sf_client,
        _owner_query("q0", stale, [queue]),
        _referencing_patch("w0", "q0", {"OwnerId": rep},
                           **{"If-Unmodified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}),
        _owner_query("q1", fresh, [queue]),
        _referencing_patch("w1", "q1", {"OwnerId": rep},
                           **{"If-Unmodified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}),
    )  # fmt: skip
    assert by_ref["w0"]["httpStatusCode"] == 412
    assert by_ref["w0"]["body"][0]["errorCode"] == "PRECONDITION_FAILED"
    assert by_ref["w1"]["httpStatusCode"] == 204
    assert admin.get_lead(stale)["OwnerId"] == queue
    assert admin.get_lead(fresh)["OwnerId"] == rep


def test_a_body_reference_takes_the_value_whole_or_as_text_inside_a_string(sandbox, sf_client):
    """``"OwnerId": "@{u.records[0].Id}"`` takes the referenced value; a reference inside
    a longer string is inserted as text; the url takes a created record's ``id``."""
    from urllib.parse import quote_plus

    admin = sandbox.admin()
    rep = admin.user_ids()["yuki.tanaka@acme-sales.example"]
    soql = "SELECT Id, Email FROM User WHERE Email = 'yuki.tanaka@acme-sales.example'"
    by_ref = _composite(
        sf_client,
        {"method": "GET", "referenceId": "u", "url": f"/services/data/v59.0/query?q={quote_plus(soql)}"},
        {"method": "POST", "referenceId": "newLead", "url": "/services/data/v59.0/sobjects/Lead",
         "body": {"LastName": "Referenced", "Company": "Refs Ltd"}},
        _sub("w", "@{newLead.id}", {"OwnerId": "@{u.records[0].Id}",
                                    "Routing_Reason__c": "to @{u.records[0].Email} by ref"},
             **{"Sforce-Auto-Assign": "FALSE"}),
    )  # fmt: skip
    assert by_ref["w"]["httpStatusCode"] == 204, by_ref["w"]
    lead = admin.get_lead(by_ref["newLead"]["body"]["id"])
    assert lead["OwnerId"] == rep
    assert lead["Routing_Reason__c"] == "to yuki.tanaka@acme-sales.example by ref"


def test_references_to_a_failed_a_later_or_an_unknown_subrequest_are_not_executed(
    sandbox, sf_client
):
    """A failed subrequest's dependents are not executed (nor theirs, in turn); neither is
    one referencing a referenceId that is not an earlier subrequest. An ``@{`` in a header
    is not a reference: it is sent as written (here an unreadable date, so a 400 of its own)."""
    admin = sandbox.admin()
    rep = admin.user_ids()["yuki.tanaka@acme-sales.example"]
    queue = admin.intake_queue_id()
    (lead,) = _lead_ids(sandbox, 1)
    bad = {"method": "GET", "referenceId": "bad",
           "url": "/services/data/v59.0/query?q=SELECT+Nope+FROM+Lead"}  # fmt: skip
    by_ref = _composite(
        sf_client,
        bad,
        _referencing_patch("w0", "bad", {"OwnerId": rep}),
        _referencing_patch("w1", "w0", {"OwnerId": rep}),
        _referencing_patch("early", "late", {"OwnerId": rep}),
        _owner_query("late", lead, [queue]),
        _referencing_patch("hdr", "late", {"OwnerId": rep},
                           **{"If-Unmodified-Since": "@{late.records[0].Id}"}),
    )  # fmt: skip
    assert by_ref["bad"]["httpStatusCode"] == 400
    assert by_ref["bad"]["body"][0]["errorCode"] != "PROCESSING_HALTED"
    assert by_ref["w0"]["body"] == _halted("bad.records[0].Id", "bad")
    assert by_ref["w1"]["body"] == _halted("w0.records[0].Id", "w0")
    assert by_ref["early"]["body"] == _halted("late.records[0].Id", "late")
    assert by_ref["late"]["httpStatusCode"] == 200
    assert by_ref["hdr"]["httpStatusCode"] == 400
    assert by_ref["hdr"]["body"][0]["errorCode"] != "PROCESSING_HALTED"
    assert admin.get_lead(lead)["OwnerId"] == queue


def test_at_most_five_query_subrequests_in_one_composite(sandbox, sf_client):
    """ "Up to 5 of these subrequests can be sObject Collections or query operations,
    including Query and QueryAll requests": five run, a sixth refuses the whole request."""
    admin = sandbox.admin()
    queue = admin.intake_queue_id()
    ids = _lead_ids(sandbox, 6)
    five = [_owner_query(f"q{i}", lead, [queue]) for i, lead in enumerate(ids[:5])]
    by_ref = _composite(sf_client, *five)
    assert [r["httpStatusCode"] for r in by_ref.values()] == [200] * 5
    six = [*five, _owner_query("q5", ids[5], [queue])]
    six[5]["url"] = six[5]["url"].replace("/query?", "/queryAll?")
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf_client.restful("composite", method="POST", json={"compositeRequest": six})
    assert info.value.content[0]["errorCode"] == "INVALID_API_INPUT"
    assert "at most 5 query" in info.value.content[0]["message"]
