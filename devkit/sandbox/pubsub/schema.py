"""The Avro schema of ``LeadChangeEvent`` and how a lead row becomes an event body.

Shaped like Salesforce's change event schemas ("Change Event Message Structure",
"Get Compound Fields in Change Events"): the first field is ``ChangeEventHeader``, then
the object's fields in order, every one nillable with a null default. Left out, as in
Salesforce: ``Id`` (the header's ``recordIds`` carries it), ``IsDeleted`` and
``SystemModstamp``. Compound fields are nested records: ``Name`` (Salutation, FirstName,
LastName) stands where its first part stands and replaces the read-only full name, and
``Address`` (Street, City, State, PostalCode, Country) likewise. dateTimes are epoch
milliseconds and dates epoch days, as the Pub/Sub API delivers them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from devkit.sandbox.schema import SObject

NAMESPACE = "com.sforce.eventbus"
CHANGE_TYPES = (
    "CREATE", "UPDATE", "DELETE", "UNDELETE",
    "GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW",
)  # fmt: skip
COMPOUND = {
    "Name": ("Salutation", "FirstName", "LastName"),
    "Address": ("Street", "City", "State", "PostalCode", "Country"),
}
LEFT_OUT = frozenset({"Id", "IsDeleted", "SystemModstamp", "Name"})  # Name: the compound instead

_AVRO_TYPES = {
    "boolean": "boolean", "int": "int", "double": "double", "currency": "double",
    "percent": "double", "datetime": "long", "date": "int",
}  # fmt: skip

HEADER = {
    "name": "ChangeEventHeader",
    "type": {
        "type": "record", "name": "ChangeEventHeader", "namespace": "com.salesforce.eventbus",
        "fields": [
            {"name": "entityName", "type": "string"},
            {"name": "recordIds", "type": {"type": "array", "items": "string"}},
            {"name": "changeType", "type": {"type": "enum", "name": "ChangeType", "symbols": list(CHANGE_TYPES)}},
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
    },
}  # fmt: skip


@dataclass(frozen=True)
class Slot:
    """One top-level field of the event: a plain field, or a compound of several."""

    name: str
    parts: tuple[str, ...]  # the row's fields it holds: (name,) for a plain field


@dataclass(frozen=True)
class ChangeEventSchema:
    entity: str
    schema_json: str
    schema_id: str
    slots: tuple[Slot, ...]  # position i+1 in the schema (position 0 is the header)
    types: dict[str, str]  # row field -> sandbox type

    @property
    def event_name(self) -> str:
        return f"{self.entity}ChangeEvent"


def change_event_schema(obj: SObject) -> ChangeEventSchema:
    slots: list[Slot] = []
    placed: set[str] = set()
    types = {f.name: f.type for f in obj.fields}
    for f in obj.fields:
        if f.name in LEFT_OUT or f.name in placed:
            continue
        compound = next((k for k, parts in COMPOUND.items() if f.name in parts), None)
        if compound is not None:
            parts = tuple(p for p in COMPOUND[compound] if p in types)
            slots.append(Slot(compound, parts))
            placed.update(parts)
        else:
            slots.append(Slot(f.name, (f.name,)))
    fields: list[dict[str, Any]] = [HEADER]
    for slot in slots:
        if slot.parts == (slot.name,):
            fields.append(_nillable(slot.name, _AVRO_TYPES.get(types[slot.name], "string")))
        else:
            inner = [_nillable(p, _AVRO_TYPES.get(types[p], "string")) for p in slot.parts]
            record = {"type": "record", "name": slot.name, "fields": inner}
            fields.append(_nillable(slot.name, record))
    schema = {
        "type": "record", "name": f"{obj.name}ChangeEvent", "namespace": NAMESPACE,
        "fields": fields,
    }  # fmt: skip
    text = json.dumps(schema, separators=(",", ":"))
    return ChangeEventSchema(obj.name, text, fingerprint(text), tuple(slots), types)


def fingerprint(schema_json: str) -> str:
    """A schema id shaped like Salesforce's (22 base64url characters): a hash of the
    schema, so the same schema always has the same id."""
    digest = hashlib.sha256(schema_json.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _nillable(name: str, type_: Any) -> dict[str, Any]:
    return {"name": name, "type": ["null", type_], "default": None}


def avro_value(kind: str, value: Any) -> Any:
    """A row value as the event carries it."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int(moment.timestamp() * 1000)
    if kind == "date" and isinstance(value, date):
        return (value - date(1970, 1, 1)).days
    if kind in ("int",):
        return int(value)
    if kind in ("double", "currency", "percent"):
        return float(value)
    if kind == "boolean":
        return bool(value)
    return str(value)


def bitmap(positions: set[int]) -> str:
    """``"0x..."``: bit i set for each position i, whole bytes, upper-case hex."""
    value = sum(1 << p for p in positions)
    width = max(1, (value.bit_length() + 7) // 8)
    return "0x" + value.to_bytes(width, "big").hex().upper()
