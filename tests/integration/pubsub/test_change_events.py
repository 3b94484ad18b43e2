"""Lead changes in the sandbox arrive as LeadChangeEvents whose decoded headers and
bitmaps name the right fields."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from devkit.sandbox.harness import SandboxHandle
from tests.integration.pubsub.client import PubSubClient
from tests.integration.pubsub.conftest import Rest, connection_to

pytestmark = pytest.mark.integration


def test_create_update_delete_undelete(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    sub = client.subscribe()
    lead = rest.create(
        FirstName="Ada", LastName="Lovelace", Company="Analytical", City="London", Title="Countess"
    )
    rest.update(lead, FirstName="Augusta", City=None, Title=None, Rating="Hot")
    rest.delete(lead)
    pubsub_sandbox.admin().undelete_lead(lead)
    decoded = [client.decode(e) for e in sub.events(4)]
    kinds = [h.change_type for h, _ in decoded]
    assert kinds == ["CREATE", "UPDATE", "DELETE", "UNDELETE"]
    assert all(h.record_ids == (lead,) and h.entity == "Lead" for h, _ in decoded)

    (created, body), (updated, changes), (deleted, gone), (undeleted, back) = decoded
    assert created.changed == created.nulled == created.diff == ()
    assert body["Name"] == {"Salutation": None, "FirstName": "Ada", "LastName": "Lovelace"}
    assert body["Address"]["City"] == "London" and body["Title"] == "Countess"

    assert set(updated.changed) == {
        "LastModifiedDate", "Title", "Rating", "Name.FirstName", "Address.City",
    }  # fmt: skip
    assert updated.nulled == ("Title", "Address.City")
    assert updated.diff == ()
    assert changes["Rating"] == "Hot" and changes["Name"]["FirstName"] == "Augusta"
    assert changes["Company"] is None  # unchanged fields are null in an update event
    assert changes["Name"]["LastName"] is None

    assert deleted.changed == () and gone["Company"] is None
    assert back["Company"] == "Analytical" and back["Name"]["FirstName"] == "Augusta"

    user = pubsub_sandbox.admin().org.integration_user_id
    assert created.commit_user == updated.commit_user == user
    stamps = [h.commit_timestamp for h, _ in decoded]
    numbers = [h.commit_number for h, _ in decoded]
    assert stamps == sorted(stamps) and numbers == sorted(set(numbers))
    assert len({h.transaction_key for h, _ in decoded}) == 4
    assert all(h.sequence_number == 1 for h, _ in decoded)


def test_change_origin_names_the_client(client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe()
    ours = rest.create(LastName="Ours", Company="C")
    theirs = rest.create(headers={"Sforce-Auto-Assign": "FALSE"}, LastName="Theirs", Company="C")
    (h1, _), (h2, _) = [client.decode(e) for e in sub.events(2)]
    assert h1.record_ids == (ours,) and h2.record_ids == (theirs,)
    assert h1.change_origin == "com/salesforce/api/rest/62.0;client=leadrouter"
    assert h2.change_origin == "com/salesforce/api/rest/62.0"


def test_the_workers_own_writes_carry_its_client_in_change_origin(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, tmp_path: Path
) -> None:
    """The worker's connection names itself on every call, so a subscriber can skip the
    events its own owner writes cause."""
    sub = client.subscribe()
    connection = connection_to(pubsub_sandbox, tmp_path)
    connection.call(lambda sf: sf.Lead.create({"LastName": "Ours", "Company": "C"}))
    ((header, _),) = [client.decode(e) for e in sub.events(1)]
    assert header.change_origin.endswith(";client=leadrouter"), header.change_origin


def test_one_transaction_shares_a_key_and_counts_sequence(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    sub = client.subscribe()
    url = rest.base.replace("/sobjects/Lead", "/composite/sobjects")
    records = [
        {"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "C"} for i in range(3)
    ]
    response = rest.session.post(url, json={"records": records})
    assert response.status_code == 200, response.text
    headers = [client.decode(e)[0] for e in sub.events(3)]
    assert len({h.transaction_key for h in headers}) == 1
    assert [h.sequence_number for h in headers] == [1, 2, 3]
    assert [h.record_ids[0] for h in headers] == [r["id"] for r in response.json()]


def test_other_objects_and_no_op_writes_publish_nothing(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    org = pubsub_sandbox.admin().org
    lead = rest.create(LastName="Still", Company="C")
    sub = client.subscribe()
    account = next(iter(org.store.rows("Account")))
    url = rest.base.replace("/Lead", f"/Account/{account['Id']}")
    assert rest.session.patch(url, json={"Industry": "Energy"}).status_code == 204
    clock, start = org.clock, org.clock()
    org.clock = lambda: start + timedelta(minutes=1)  # type: ignore[method-assign]
    try:  # a system stamp alone (SystemModstamp) is no field of the event
        with org.txn() as txn:
            txn.touch(lead, {})
    finally:
        org.clock = clock  # type: ignore[method-assign]
    assert sub.quiet(1.0) == []


def test_schema_and_topic(pubsub_sandbox: SandboxHandle, client: PubSubClient) -> None:
    from worker.sfdc.pubsub import pubsub_api_pb2 as pb

    for topic in ("/data/LeadChangeEvent", "/data/ChangeEvents"):
        info = client.stub.GetTopic(pb.TopicRequest(topic_name=topic), metadata=client.metadata)
        assert info.can_subscribe and not info.can_publish
        assert info.tenant_guid == pubsub_sandbox.info()["org_id"]
    schema = client.schemas.get(info.schema_id)
    names = [f["name"] for f in schema.json["fields"]]
    assert names[0] == "ChangeEventHeader"
    assert {"Name", "Address", "OwnerId", "Status", "LastModifiedDate"} <= set(names)
    assert not {"Id", "IsDeleted", "SystemModstamp", "FirstName", "City"} & set(names)


def test_the_all_changes_channel_carries_lead_events(client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe("/data/ChangeEvents")
    lead = rest.create(LastName="Any", Company="C")
    ((header, _),) = [client.decode(e) for e in sub.events(1)]
    assert header.record_ids == (lead,)
