"""The sandbox's LeadChangeEvent schema and the bitmaps it writes."""

from __future__ import annotations

import json

from devkit.sandbox.pubsub.schema import bitmap, change_event_schema
from devkit.sandbox.schema import LEAD
from worker.sfdc.pubsub.bitmaps import field_names


def test_bitmaps_are_written_as_salesforce_shows_them() -> None:
    assert bitmap({0}) == "0x01"
    assert bitmap(set()) == "0x00"
    assert bitmap({8}) == "0x0100"
    # the example in the Pub/Sub API guide's "Event Deserialization Considerations"
    assert bitmap({5, 6, 7, 10, 24, 26, 29, 30}) == "0x650004E0"


def test_lead_schema_shape() -> None:
    schema = change_event_schema(LEAD)
    parsed = json.loads(schema.schema_json)
    names = [f["name"] for f in parsed["fields"]]
    assert parsed["name"] == "LeadChangeEvent" and names[0] == "ChangeEventHeader"
    assert names.index("Name") < names.index("Title") < names.index("Address")
    assert [s.parts for s in schema.slots if s.name == "Name"] == [
        ("Salutation", "FirstName", "LastName")
    ]
    assert not {"Id", "IsDeleted", "SystemModstamp", "FirstName", "Street"} & set(names)
    # positions are what the worker's decoder reads back
    title, address = names.index("Title"), names.index("Address")
    assert field_names(parsed, [bitmap({title}), f"{address}-{bitmap({1})}"]) == [
        "Title",
        "Address.City",
    ]
    assert change_event_schema(LEAD).schema_id == schema.schema_id  # a fingerprint
