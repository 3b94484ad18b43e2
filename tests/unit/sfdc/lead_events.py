"""Hand-built Lead change events for tests: a schema shaped like Salesforce's (the
header, then every field nillable, Name and Address as compound records) and events
written from a record as a read returns it (JSON values in, Avro values out)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

import fastavro

from worker.sfdc.pubsub.events import ChangeHeader, EventSchema, decode_payload
from worker.sfdc.pubsub.subscriber import ChangeEvent

COMPOUND = {
    "Name": ("Salutation", "FirstName", "LastName"),
    "Address": ("Street", "City", "State", "PostalCode", "Country", "StateCode",
                "CountryCode", "Latitude", "Longitude", "GeocodeAccuracy"),
}  # fmt: skip
AVRO = {"boolean": "boolean", "int": "int", "double": "double", "currency": "double",
        "percent": "double", "datetime": "long", "date": "int"}  # fmt: skip
LEFT_OUT = frozenset({"Id", "SystemModstamp", "IsDeleted", "Name"})
HEADER: dict[str, Any] = {
    "name": "ChangeEventHeader",
    "type": {"type": "record", "name": "ChangeEventHeader", "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": {"type": "array", "items": "string"}},
        {"name": "changeType", "type": "string"},
    ]},
}  # fmt: skip


def _nillable(name: str, type_: Any) -> dict[str, Any]:
    return {"name": name, "type": ["null", type_], "default": None}


def lead_schema(types: Mapping[str, str], left_out: Iterable[str] = ()) -> EventSchema:
    """The change event schema of a Lead with these fields (name -> describe type);
    ``left_out``: fields never in events (formulas)."""
    skip = LEFT_OUT | set(left_out)
    fields: list[dict[str, Any]] = [HEADER]
    placed: set[str] = set()
    for name, kind in types.items():
        if name in skip or name in placed:
            continue
        compound = next((c for c, parts in COMPOUND.items() if name in parts), None)
        if compound is None:
            fields.append(_nillable(name, AVRO.get(kind, "string")))
            continue
        parts = [p for p in COMPOUND[compound] if p in types and p not in skip]
        inner = [_nillable(p, AVRO.get(types[p], "string")) for p in parts]
        fields.append(_nillable(compound, {"type": "record", "name": compound, "fields": inner}))
        placed.update(parts)
    raw = {"type": "record", "name": "LeadChangeEvent", "namespace": "x", "fields": fields}
    return EventSchema("schema-1", raw, fastavro.parse_schema(raw))


def avro_value(kind: str, value: Any) -> Any:
    """A read's JSON value as a change event carries it."""
    if value is None:
        return None
    if kind == "datetime":
        moment = datetime.fromisoformat(value)
        return int(moment.astimezone(UTC).timestamp() * 1000)
    if kind == "date":
        return (date.fromisoformat(value) - date(1970, 1, 1)).days
    return value


def create_event(
    record: Mapping[str, Any],
    types: Mapping[str, str],
    schema: EventSchema,
    *,
    kind: str = "CREATE",
    ids: tuple[str, ...] | None = None,
    origin: str = "com/salesforce/api/rest/62.0",
    n: int = 1,
) -> ChangeEvent:
    """The event of ``record`` (keyed as a read keys it), written and read back in Avro."""
    body: dict[str, Any] = {"ChangeEventHeader": {
        "entityName": "Lead", "recordIds": list(ids or (record["Id"],)), "changeType": kind,
    }}  # fmt: skip
    for f in schema.json["fields"][1:]:
        name = f["name"]
        if name in COMPOUND:
            parts = {p: avro_value(types[p], record.get(p)) for p in _children(f)}
            body[name] = parts if any(v is not None for v in parts.values()) else None
        else:
            body[name] = avro_value(types[name], record.get(name))
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, schema.parsed, body)
    decoded = decode_payload(schema, buffer.getvalue())
    header = ChangeHeader(
        entity="Lead", record_ids=tuple(decoded["ChangeEventHeader"]["recordIds"]),
        change_type=kind, change_origin=origin, transaction_key=f"t{n}", sequence_number=1,
        commit_timestamp=0, commit_number=n, commit_user="005", changed=(), nulled=(), diff=(),
    )  # fmt: skip
    fields = {k: v for k, v in decoded.items() if k != "ChangeEventHeader"}
    return ChangeEvent(n.to_bytes(4, "big"), header, fields, schema)


def _children(field: Mapping[str, Any]) -> list[str]:
    record = next(t for t in field["type"] if isinstance(t, dict))
    return [c["name"] for c in record["fields"]]
