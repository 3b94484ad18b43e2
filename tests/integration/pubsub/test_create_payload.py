"""Differential: for the sandbox's own leads, the record built from a lead's CREATE
event is, through ``lead_row``, the row a read by Id of the same fields returns."""

from __future__ import annotations

from pathlib import Path

import pytest

from devkit.sandbox.harness import SandboxHandle
from tests.integration.pubsub.client import PubSubClient
from tests.integration.pubsub.conftest import Rest, connection_to
from worker.jobs.fields import lead_fields
from worker.routing_config.loader import load_config
from worker.sfdc.gateway import SimpleSalesforceGateway
from worker.sfdc.mapping import lead_row
from worker.sfdc.pubsub.payload import created_record
from worker.sfdc.pubsub.subscriber import ChangeEvent

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
NOT_IN_EVENTS = {"name", "isdeleted"}  # the compound's whole; a live record is not deleted


def gateway_for(sandbox: SandboxHandle, tmp_path: Path) -> SimpleSalesforceGateway:
    return SimpleSalesforceGateway(connection_to(sandbox, tmp_path))


def test_a_create_event_gives_the_row_a_read_gives(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest, tmp_path: Path
) -> None:
    gateway = gateway_for(pubsub_sandbox, tmp_path)
    described = gateway.describe_object("Lead")
    assert described is not None
    sub = client.subscribe()
    ids = pubsub_sandbox.admin().create_leads(25)
    person = {"Sforce-Auto-Assign": "FALSE"}  # not naming our client: not our own write
    ids.append(rest.create(person, LastName="Sparse", Company="Only the required"))  # no Address
    events = []
    for consumer_event in sub.events(len(ids)):
        header, record = client.decode(consumer_event)
        schema = client.schemas.get(consumer_event.event.schema_id)
        body = {k: v for k, v in record.items() if k != "ChangeEventHeader"}
        events.append(ChangeEvent(consumer_event.replay_id, header, body, schema))
    assert [e.header.record_ids[0] for e in events] == ids

    routing = lead_fields(load_config(ROOT / "config" / "routing.yaml"))
    everything = ("Id", *(f for f in described.types if f not in NOT_IN_EVENTS | {"id"}))
    for fields in (routing, everything):
        read = {r.id: r for r in gateway.leads_by_id(ids, fields)}
        built = [created_record(e, described.types, fields) for e in events]
        assert all(b is not None for b in built)
        rows = {r.id: r for r in (lead_row(b) for b in built if b is not None)}
        assert rows == read
    # the sandbox's leads carry dates, dateTimes, numbers, booleans, compound parts
    values = [v for r in rows.values() for v in r.lead.fields.values()]
    assert {type(v) for v in values} >= {str, int, float, bool, type(None)}
