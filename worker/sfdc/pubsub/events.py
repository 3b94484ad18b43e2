"""Decoding delivered events (pure: no network).

A Pub/Sub API event's payload is Avro binary written with the schema its ``schema_id``
names; the schema is fetched once per id (``GetSchema``) and kept: a schema id is a
fingerprint of the schema, so what it names never changes. Change events then carry a
``ChangeEventHeader`` whose field lists are bitmaps (see :mod:`.bitmaps`).
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastavro

from worker.sfdc.pubsub.bitmaps import Schema, field_names

SchemaFetcher = Callable[[str], str]  # schema id -> the schema's JSON (GetSchema)


@dataclass(frozen=True)
class EventSchema:
    schema_id: str
    json: Schema  # the schema as written, for field positions
    parsed: Any  # fastavro's parsed form, for decoding


class SchemaCache:
    """Schemas by id, each fetched once (thread-safe)."""

    def __init__(self, fetch: SchemaFetcher) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._schemas: dict[str, EventSchema] = {}

    def get(self, schema_id: str) -> EventSchema:
        with self._lock:
            cached = self._schemas.get(schema_id)
        if cached is not None:
            return cached
        raw = json.loads(self._fetch(schema_id))
        schema = EventSchema(schema_id, raw, fastavro.parse_schema(raw))
        with self._lock:
            return self._schemas.setdefault(schema_id, schema)

    def __len__(self) -> int:
        with self._lock:
            return len(self._schemas)


def decode_payload(schema: EventSchema, payload: bytes) -> dict[str, Any]:
    """The record an event payload holds."""
    record = fastavro.schemaless_reader(io.BytesIO(payload), schema.parsed, None)
    if not isinstance(record, dict):
        raise ValueError(f"schema {schema.schema_id} does not describe a record")
    return record


@dataclass(frozen=True)
class ChangeHeader:
    """A ``ChangeEventHeader`` with its bitmaps turned into field names."""

    entity: str
    record_ids: tuple[str, ...]
    change_type: str  # CREATE UPDATE DELETE UNDELETE GAP_CREATE ... GAP_OVERFLOW
    change_origin: str
    transaction_key: str
    sequence_number: int
    commit_timestamp: int  # epoch milliseconds
    commit_number: int
    commit_user: str
    changed: tuple[str, ...]
    nulled: tuple[str, ...]
    diff: tuple[str, ...]

    @property
    def is_gap(self) -> bool:
        """Gap and overflow events carry no field values: re-read the records instead."""
        return self.change_type.startswith("GAP_")


def change_header(schema: EventSchema, record: dict[str, Any]) -> ChangeHeader:
    """The decoded header of a change event record (as :func:`decode_payload` gives it)."""
    header = record["ChangeEventHeader"]
    return ChangeHeader(
        entity=header["entityName"],
        record_ids=tuple(header["recordIds"]),
        change_type=str(header["changeType"]),
        change_origin=header.get("changeOrigin") or "",
        transaction_key=header.get("transactionKey") or "",
        sequence_number=int(header.get("sequenceNumber") or 0),
        commit_timestamp=int(header.get("commitTimestamp") or 0),
        commit_number=int(header.get("commitNumber") or 0),
        commit_user=header.get("commitUser") or "",
        changed=tuple(field_names(schema.json, header.get("changedFields") or [])),
        nulled=tuple(field_names(schema.json, header.get("nulledFields") or [])),
        diff=tuple(field_names(schema.json, header.get("diffFields") or [])),
    )
