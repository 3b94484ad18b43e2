"""The calls ``leadrouter doctor`` makes, pinned at the HTTP seam with ``responses``: the
documented shapes of the versions list, sObject Describe (404 for an object the user
cannot read), ``/limits`` with its ``Date`` header, and ``QueueSobject``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from worker.settings import load_settings
from worker.sfdc.connection import SalesforceConnection
from worker.sfdc.gateway import SimpleSalesforceGateway

INSTANCE = "https://acme.my.salesforce.com"
DATA = f"{INSTANCE}/services/data/v59.0"
TOKEN_OK = {
    "access_token": "00Dxx!token",
    "instance_url": INSTANCE,
    "id": f"{INSTANCE}/id/00Dxx0000000001EAA/005xx0000000001AAA",
    "token_type": "Bearer",
    "issued_at": "1763884800000",
    "signature": "c2lnbmF0dXJl",
}
NOT_FOUND = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.post(f"{INSTANCE}/services/oauth2/token", json=TOKEN_OK)
        yield rsps


def gateway() -> SimpleSalesforceGateway:
    settings = load_settings(
        sf_instance_url=INSTANCE, sf_consumer_key="ck-123", sf_consumer_secret="cs-456"
    )
    return SimpleSalesforceGateway(SalesforceConnection(settings))


def test_versions_list_is_read_from_the_unversioned_root(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{INSTANCE}/services/data/",
        json=[
            {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"},
            {"label": "Spring '26", "url": "/services/data/v66.0", "version": "66.0"},
        ],
    )
    assert gateway().api_versions() == ["59.0", "66.0"]


def test_describe_hides_what_field_level_security_hides(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{DATA}/sobjects/Lead/describe",
        json={
            "name": "Lead", "queryable": True, "retrieveable": True, "updateable": True,
            "fields": [{"name": "Id", "updateable": False}, {"name": "OwnerId", "updateable": False}],
        },
    )  # fmt: skip
    mocked.get(f"{DATA}/sobjects/Task/describe", status=404, json=NOT_FOUND)
    gw = gateway()
    lead = gw.describe_object("Lead")
    assert lead is not None and lead.readable and lead.updateable
    assert lead.has("ownerid") and not lead.can_update("OwnerId") and not lead.has("Industry")
    assert gw.describe_object("Task") is None  # no read access: Salesforce answers 404


def test_describe_keeps_each_fields_type(mocked: responses.RequestsMock) -> None:
    mocked.get(
        f"{DATA}/sobjects/Lead/describe",
        json={"name": "Lead", "queryable": True, "fields": [
            {"name": "CreatedDate", "type": "datetime", "updateable": False},
            {"name": "ConvertedDate", "type": "date", "updateable": False},
            {"name": "NumberOfEmployees", "type": "int", "updateable": True},
            {"name": "Region__c", "type": "string", "calculated": True},
        ]},
    )  # fmt: skip
    lead = gateway().describe_object("Lead")
    assert lead is not None
    assert lead.types == {"createddate": "datetime", "converteddate": "date",
                          "numberofemployees": "int", "region__c": "string"}  # fmt: skip
    assert lead.can_update("NumberOfEmployees") and not lead.can_update("CreatedDate")


def test_limits_give_the_daily_allocation_and_salesforces_clock(
    mocked: responses.RequestsMock,
) -> None:
    mocked.get(
        f"{DATA}/limits/",
        json={
            "DailyApiRequests": {"Max": 15000, "Remaining": 14998},
            "DailyBulkApiRequests": {"Max": 10000, "Remaining": 10000},
        },
        headers={"Date": "Sun, 06 Dec 2026 23:40:05 GMT"},
    )
    limits = gateway().org_limits()
    assert (limits.daily_max, limits.daily_remaining) == (15000, 14998)
    assert limits.server_date == datetime(2026, 12, 6, 23, 40, 5, tzinfo=UTC)


def test_queue_objects_and_assignment_rules_are_two_soql_reads(
    mocked: responses.RequestsMock,
) -> None:
    queue = "00G5e000000AbCdEAK"
    asked: list[str] = []

    def answer(request: object) -> tuple[int, dict[str, str], str]:
        soql = parse_qs(urlsplit(request.url).query)["q"][0]  # type: ignore[attr-defined]
        asked.append(soql)
        if "FROM QueueSobject" in soql:
            rows = [
                {"attributes": {"type": "QueueSobject"}, "QueueId": queue, "SobjectType": "Lead"}
            ]
        else:
            rows = [
                {
                    "attributes": {"type": "AssignmentRule"},
                    "Id": "01Q5e0000000001EAA",
                    "Name": "Standard",
                }
            ]
        return 200, {}, json.dumps({"totalSize": len(rows), "done": True, "records": rows})

    mocked.add_callback(responses.GET, f"{DATA}/query/", callback=answer)
    gw = gateway()
    assert gw.queue_sobjects([queue]) == {queue: {"Lead"}}
    assert gw.active_assignment_rules("Lead") == ["Standard"]
    assert asked == [
        f"SELECT QueueId, SobjectType FROM QueueSobject WHERE QueueId IN ('{queue}')",
        "SELECT Id, Name FROM AssignmentRule WHERE SobjectType = 'Lead' AND Active = true",
    ]
