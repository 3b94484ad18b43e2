"""Field names from the bitmaps of a change event's header (pure: no network).

In Pub/Sub API change events, ``ChangeEventHeader.changedFields``, ``nulledFields`` and
``diffFields`` are lists of bitmaps, not names. Salesforce's guide ("Event
Deserialization Considerations", Pub/Sub API developer guide) says a bit set to 1 stands
for "the field at the corresponding position in the Avro schema"; the first element is
the bitmap of the top-level fields, and an element ``"<parentPos>-0x<hex>"`` is a bitmap
over the child fields of the compound field (Name, Address) at top-level position
``parentPos``, e.g. ``['0x650004E0', '4-0x10', '7-0x06']``.

Bit order: the hex string is one big-endian number and bit *i* (the bit worth ``2**i``)
is schema field *i*, so the lowest bit is position 0. The guide's wording leaves the
order open; Salesforce's own decoders settle it: the Python sample
(``ChangeEventHeaderUtility.py``) reverses the bit string before indexing it, the Go
sample reverses the bytes to little-endian. Bitmaps can be longer than 64 bits (an
object with more fields): Python's integers have no width, so nothing is cut.

A compound field's children are reported as ``Parent.Child`` (``Name.FirstName``), the
form the Change Data Capture guide uses for ``changedFields`` ("Get Compound Fields in
Change Events").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Schema = Mapping[str, Any]  # an Avro record schema, as parsed from its JSON


class BitmapError(ValueError):
    """A bitmap that does not fit the schema (a bad value or a position past its end)."""


def set_positions(bitmap: str) -> list[int]:
    """Positions of the set bits of ``"0x..."``, lowest first (bit *i* = position *i*)."""
    if not bitmap.lower().startswith("0x"):
        raise BitmapError(f"not a hex bitmap: {bitmap!r}")
    try:
        value = int(bitmap[2:] or "0", 16)
    except ValueError:
        raise BitmapError(f"not a hex bitmap: {bitmap!r}") from None
    return [i for i in range(value.bit_length()) if value >> i & 1]


def field_names(schema: Schema, bitmaps: Iterable[str]) -> list[str]:
    """The names a header bitmap list stands for, top-level fields first, in schema order,
    then each compound entry's children as ``Parent.Child``."""
    top = record_fields(schema)
    named = _named_records(schema)
    names: list[str] = []
    for entry in bitmaps:
        parent, sep, child_bitmap = entry.partition("-")
        if not sep:
            names.extend(_pick(top, set_positions(entry), entry))
            continue
        try:
            position = int(parent)
        except ValueError:
            raise BitmapError(f"bad compound bitmap entry: {entry!r}") from None
        field = _pick(top, [position], entry)[0]
        children = _compound_fields(_field_type(top, position), named)
        if children is None:
            raise BitmapError(f"{entry!r}: field {field} is not a compound field")
        for name in _pick(children, set_positions(child_bitmap), entry):
            names.append(f"{field}.{name}")
    return names


def record_fields(schema: Schema) -> list[Mapping[str, Any]]:
    """The fields of a record schema, in order (the positions bitmaps refer to)."""
    fields = schema.get("fields")
    if schema.get("type") != "record" or not isinstance(fields, list):
        raise BitmapError("the schema is not an Avro record")
    return fields


def _pick(fields: Sequence[Mapping[str, Any]], positions: list[int], entry: str) -> list[str]:
    if positions and positions[-1] >= len(fields):
        raise BitmapError(
            f"{entry!r}: bit {positions[-1]} is past the schema's {len(fields)} fields"
        )
    return [str(fields[i]["name"]) for i in positions]


def _field_type(fields: Sequence[Mapping[str, Any]], position: int) -> Any:
    return fields[position]["type"]


def _compound_fields(
    type_: Any, named: Mapping[str, Mapping[str, Any]]
) -> list[Mapping[str, Any]] | None:
    """The child fields when ``type_`` is a record, a named record, or a union holding one
    (``["null", {record}]``, the shape of every nillable field)."""
    if isinstance(type_, list):
        for branch in type_:
            found = _compound_fields(branch, named)
            if found is not None:
                return found
        return None
    if isinstance(type_, str):
        record = named.get(type_) or named.get(type_.rsplit(".", 1)[-1])
        return record_fields(record) if record is not None else None
    if isinstance(type_, Mapping) and type_.get("type") == "record":
        return record_fields(type_)
    return None


def _named_records(schema: Schema) -> dict[str, Mapping[str, Any]]:
    """Every record type defined in the schema, by full and short name: a record type
    is written out once and later fields refer to it by name (Account's BillingAddress
    and ShippingAddress share one Address type)."""
    found: dict[str, Mapping[str, Any]] = {}

    def walk(node: Any, namespace: str | None) -> None:
        if isinstance(node, list):
            for branch in node:
                walk(branch, namespace)
        elif isinstance(node, Mapping):
            if node.get("type") == "record":
                name = str(node.get("name", ""))
                space = node.get("namespace", namespace)
                found[name] = node
                if space and "." not in name:
                    found[f"{space}.{name}"] = node
                for field in node.get("fields") or []:
                    walk(field.get("type"), space)
            elif node.get("type") in ("array", "map"):
                walk(node.get("items") or node.get("values"), namespace)

    walk(schema, schema.get("namespace"))
    return found


def layout(schema: Schema) -> list[tuple[str, tuple[str, ...] | None]]:
    """Each top-level field (the header included) with its children's names when it is a
    compound field (a record, named or not), else None: what an event can carry."""
    named = _named_records(schema)
    out: list[tuple[str, tuple[str, ...] | None]] = []
    for f in record_fields(schema):
        children = _compound_fields(f.get("type"), named)
        names = tuple(str(c["name"]) for c in children) if children is not None else None
        out.append((str(f["name"]), names))
    return out
