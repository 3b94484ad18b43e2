"""Avro payloads decoded with a cached schema, and change headers decoded to names."""

from __future__ import annotations

import io
import json
from typing import Any

import fastavro
import pytest

from worker.sfdc.pubsub.events import SchemaCache, change_header, decode_payload

HEADER = {
    "type": "record",
    "name": "ChangeEventHeader",
    "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": {"type": "array", "items": "string"}},
        {"name": "changeType", "type": {"type": "enum", "name": "ChangeType", "symbols": ["CREATE", "UPDATE", "GAP_UPDATE"]}},
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
        {"name": "diffFields", "type": {"type": "array", "items": "string"}},
        {"name": "changedFields", "type": {"type": "array", "items": "string"}},
    ],
}  # fmt: skip
NAME = {
    "type": "record",
    "name": "Name",
    "fields": [
        {"name": n, "type": ["null", "string"], "default": None}
        for n in ("Salutation", "FirstName", "LastName")
    ],
}
SCHEMA = {
    "type": "record",
    "name": "LeadChangeEvent",
    "fields": [
        {"name": "ChangeEventHeader", "type": HEADER},
        {"name": "Name", "type": ["null", NAME], "default": None},
        {"name": "Title", "type": ["null", "string"], "default": None},
        {"name": "LastModifiedDate", "type": ["null", "long"], "default": None},
    ],
}


def _encode(record: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(SCHEMA), record)
    return buffer.getvalue()


def _header(**changes: Any) -> dict[str, Any]:
    return {
        "entityName": "Lead", "recordIds": ["00Q000000000001AAA"], "changeType": "UPDATE",
        "changeOrigin": "com/salesforce/api/rest/62.0;client=leadrouter", "transactionKey": "t-1",
        "sequenceNumber": 1, "commitTimestamp": 1_700_000_000_000, "commitNumber": 42,
        "commitUser": "005000000000001AAA", "nulledFields": [], "diffFields": [],
        "changedFields": [],
    } | changes  # fmt: skip


def test_schema_fetched_once_per_id() -> None:
    asked: list[str] = []

    def fetch(schema_id: str) -> str:
        asked.append(schema_id)
        return json.dumps(SCHEMA)

    cache = SchemaCache(fetch)
    assert cache.get("abc") is cache.get("abc")
    cache.get("def")
    assert asked == ["abc", "def"]
    assert len(cache) == 2


def test_payload_and_header_decoded() -> None:
    schema = SchemaCache(lambda _id: json.dumps(SCHEMA)).get("s1")
    header = _header(changedFields=["0x0C", "1-0x02"], nulledFields=["0x04"])
    record = decode_payload(
        schema,
        _encode({"ChangeEventHeader": header, "Name": {"FirstName": "Ada"}, "LastModifiedDate": 5}),
    )
    assert record["Name"] == {"Salutation": None, "FirstName": "Ada", "LastName": None}
    assert record["Title"] is None
    decoded = change_header(schema, record)
    assert decoded.changed == ("Title", "LastModifiedDate", "Name.FirstName")
    assert decoded.nulled == ("Title",)
    assert decoded.diff == ()
    assert decoded.record_ids == ("00Q000000000001AAA",)
    assert decoded.change_origin.endswith(";client=leadrouter")
    assert not decoded.is_gap


def test_gap_event() -> None:
    schema = SchemaCache(lambda _id: json.dumps(SCHEMA)).get("s1")
    record = decode_payload(
        schema, _encode({"ChangeEventHeader": _header(changeType="GAP_UPDATE")})
    )
    assert change_header(schema, record).is_gap


def test_payload_that_is_not_avro_for_the_schema() -> None:
    schema = SchemaCache(lambda _id: json.dumps(SCHEMA)).get("s1")
    with pytest.raises((EOFError, ValueError, IndexError)):
        decode_payload(schema, b"\x02")
