"""sObject rows, describe, cursors and sessions through simple-salesforce."""

from __future__ import annotations

import time

import pytest
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
    SalesforceResourceNotFound,
)

from devkit.sandbox.harness import start_sandbox

pytestmark = pytest.mark.integration


def test_create_get_update_delete_a_lead(sf_client, sandbox):
    created = sf_client.Lead.create(
        {"LastName": "Ng", "Company": "Umbrella", "Email": "ng@umbrella.example"}
    )
    assert created["success"] and created["id"].startswith("00Q")
    lead = sf_client.Lead.get(created["id"])
    assert (
        lead["Name"] == "Ng"
        and lead["Status"] == "Open - Not Contacted"
        and lead["IsConverted"] is False
    )
    assert (
        lead["OwnerId"] == sandbox.admin().user_ids()["leadrouter.integration@acme-sales.example"]
    )
    assert sf_client.Lead.update(created["id"], {"Routing_Reason__c": "territory EMEA"}) == 204
    assert sf_client.Lead.get(created["id"])["Routing_Reason__c"] == "territory EMEA"
    assert sf_client.Lead.delete(created["id"]) == 204
    with pytest.raises(SalesforceResourceNotFound) as info:
        sf_client.Lead.get(created["id"])
    assert info.value.content[0]["errorCode"] == "ENTITY_IS_DELETED"


@pytest.mark.parametrize(
    ("values", "code"),
    [
        ({"LastName": "x"}, "REQUIRED_FIELD_MISSING"),
        ({"LastName": "x", "Company": "y", "Bogus__c": 1}, "INVALID_FIELD"),
        ({"LastName": "x", "Company": "y", "IsConverted": True}, "INVALID_FIELD_FOR_INSERT_UPDATE"),
        (
            {"LastName": "x", "Company": "y", "Status": "Nope"},
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        ),
        ({"LastName": "x", "Company": "y", "OwnerId": "005notanid"}, "MALFORMED_ID"),
        (
            {"LastName": "x", "Company": "y", "NumberOfEmployees": "many"},
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
        ),
    ],
)
def test_invalid_creates_are_refused_with_salesforce_codes(sf_client, values, code):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf_client.Lead.create(values)
    assert info.value.content[0]["errorCode"] == code


def test_describe_lists_the_custom_routing_field(sf_client):
    fields = {f["name"]: f for f in sf_client.Lead.describe()["fields"]}
    assert (
        fields["Routing_Reason__c"]["custom"] is True
        and fields["Routing_Reason__c"]["updateable"] is True
    )
    assert (
        fields["OwnerId"]["referenceTo"] == ["Group", "User"]
        and fields["OwnerId"]["polymorphicForeignKey"]
    )
    assert "Lead" in {o["name"] for o in sf_client.describe()["sobjects"]}


def test_unknown_query_locator_is_refused(sf_client):
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf_client.query_more("01gHs0000000001AAA-2000")
    assert info.value.content[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_auto_assign_applies_to_creates_without_the_header(sandbox, sf_client):
    admin = sandbox.admin()
    admin.set_assignment_rule(on=True)
    rep = admin.user_ids()["ben.carter@acme-sales.example"]
    trapped = sf_client.Lead.create({"LastName": "a", "Company": "b", "OwnerId": rep})
    kept = sf_client.Lead.create(
        {"LastName": "a", "Company": "b", "OwnerId": rep}, headers={"Sforce-Auto-Assign": "FALSE"}
    )
    assert admin.get_lead(trapped["id"])["OwnerId"] == admin.intake_queue_id()
    assert admin.get_lead(kept["id"])["OwnerId"] == rep


def test_idle_sessions_time_out(tmp_path, sandbox_template):
    import shutil

    import requests
    from simple_salesforce import Salesforce

    shutil.copytree(sandbox_template, tmp_path / "org")
    with start_sandbox(tmp_path / "org", session_ttl_s=0.3) as handle:
        session = requests.Session()
        session.verify, session.trust_env = str(handle.ca_path), False
        sf = Salesforce(
            session_id=handle.access_token(), instance_url=handle.instance_url, session=session
        )
        assert sf.query("SELECT COUNT() FROM User")["totalSize"] == 40
        time.sleep(0.5)
        with pytest.raises(SalesforceExpiredSession):
            sf.query("SELECT COUNT() FROM User")


def test_a_uri_over_16k_is_refused_so_in_lists_must_be_chunked(sf_client, sandbox):
    from simple_salesforce.exceptions import SalesforceGeneralError

    queue = sandbox.admin().intake_queue_id()
    with pytest.raises(SalesforceGeneralError) as info:
        sf_client.query(f"SELECT Id FROM Lead WHERE OwnerId IN ({','.join([repr(queue)] * 700)})")
    assert info.value.status == 414
    chunk = f"SELECT Id FROM Lead WHERE OwnerId IN ({','.join([repr(queue)] * 200)})"
    assert sf_client.query(chunk)["totalSize"] == 0


def test_uri_plus_headers_over_16k_is_refused_with_431(sandbox, sandbox_session):
    url = f"{sandbox.instance_url}/services/data/v59.0/query/"
    query = {"q": "SELECT Id FROM Lead LIMIT 1"}
    auth = {"Authorization": f"Bearer {sandbox.access_token()}"}
    assert sandbox_session.get(url, params=query, headers=auth).status_code == 200
    padded = auth | {"X-Padding": "p" * 16_400}
    answer = sandbox_session.get(url, params=query, headers=padded)
    assert answer.status_code == 431


def test_the_largest_email_chunks_we_send_fit_the_uri_and_header_limits(sf_client):
    from worker.sfdc import soql

    # long addresses: the chunker must keep each GET under both limits (no 414, no 431)
    long_ones = [
        f"firstname.lastname{i:05d}@subsidiary-{i}.example-company.co.uk" for i in range(2_000)
    ]
    for query in soql.contacts_queries(long_ones):
        assert sf_client.query(query)["totalSize"] == 0
    # typical addresses: a 2,000-lead page needs fewer queries than one per 200-lead batch
    typical = [f"jane.doe{i}@company{i}.com" for i in range(2_000)]
    assert len(soql.contacts_queries(typical)) <= 7
