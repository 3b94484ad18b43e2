"""Field paths (``Owner.Name``) resolved against the schema, and record rendering.

A polymorphic lookup (``Lead.Owner`` is a User or a Queue) resolves to Salesforce's
``Name`` pseudo-object, which offers only a few fields; its JSON ``attributes.type`` is
``"Name"`` while the url names the real object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Protocol

from devkit.sandbox.schema import Field, SObject, sobject
from devkit.sandbox.soql.ast import FieldPath, SoqlError

Row = dict[str, Any]

NAME = SObject(
    "Name",
    (
        Field("Id", "id"),
        Field("Name", "string"),
        Field("FirstName", "string"),
        Field("LastName", "string"),
        Field("Email", "email"),
        Field("Username", "string"),
        Field("Alias", "string"),
        Field("Title", "string"),
        Field("IsActive", "boolean"),
        Field("Type", "string"),
    ),
)


class Source(Protocol):
    """What the engine needs from the org's data."""

    def rows(self, sobject: str, *, include_deleted: bool) -> list[Row]: ...

    def get_row(self, record_id: str) -> Row | None: ...


@dataclass(frozen=True)
class Step:
    lookup: Field  # the reference field on the current object (OwnerId)
    target: SObject  # the parent object, or NAME for a polymorphic lookup


@dataclass(frozen=True)
class Resolved:
    path: FieldPath
    steps: tuple[Step, ...]
    field: Field
    key: str  # canonical dotted path, for GROUP BY matching

    def getter(self, source: Source) -> Callable[[Row], Any]:
        name = self.field.name
        if not self.steps:
            return lambda row: row.get(name)
        steps = self.steps
        polymorphic = steps[-1].target is NAME

        def get(row: Row) -> Any:
            current: Row | None = row
            for step in steps:
                ref = current.get(step.lookup.name) if current else None
                current = source.get_row(ref) if ref else None
                if current is None:
                    return None
            if current is None:
                return None
            if polymorphic:
                return name_field(current, name)
            return current.get(name)

        return get


def object_of(row: Row) -> str:
    from worker.sfdc.ids import object_of as prefix_object

    return prefix_object(row["Id"]) or "Name"


def name_field(row: Row, name: str) -> Any:
    """A ``Name`` pseudo-object field read from a User or Group row."""
    if name == "Type":
        return "User" if object_of(row) == "User" else row.get("Type")
    if name == "IsActive" and object_of(row) != "User":
        # Undocumented for queues; the most conservative answer is null (not "true").
        return None
    return row.get(name)


def resolve(obj: SObject, path: FieldPath) -> Resolved:
    steps: list[Step] = []
    current = obj
    for rel in path.parts[:-1]:
        lookup = current.relationship(rel)
        if lookup is None:
            raise SoqlError(
                "INVALID_FIELD",
                f"Didn't understand relationship '{rel}' in field path. If you are attempting "
                "to use a custom relationship, be sure to append the '__r' after the custom "
                "relationship name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            )
        target = NAME if len(lookup.refs) > 1 else sobject(lookup.refs[0])
        assert target is not None
        steps.append(Step(lookup, target))
        current = target
    field = current.field(path.parts[-1])
    if field is None:
        raise SoqlError(
            "INVALID_FIELD",
            f"No such column '{path.parts[-1]}' on entity '{current.name}'. If you are attempting "
            "to use a custom field, be sure to append the '__c' after the custom field name. "
            "Please reference your WSDL or the describe call for the appropriate names.",
        )
    key = ".".join([s.lookup.relationship or "" for s in steps] + [field.name]).lower()
    return Resolved(path, tuple(steps), field, key)


def format_value(field_type: str, value: Any) -> Any:
    """A stored value as Salesforce writes it in JSON."""
    if value is None:
        return None
    if field_type == "datetime" and isinstance(value, datetime):
        return format_datetime(value)
    if field_type == "date" and isinstance(value, date):
        return value.isoformat()
    if field_type in ("double", "currency", "percent"):
        return float(value)
    return value


@lru_cache(maxsize=65536)
def format_datetime(value: datetime) -> str:
    # Cached: rows written in one request share a timestamp (dateTimes are whole seconds).
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def _identity(value: Any) -> Any:
    return value


def _formatter(field_type: str) -> Callable[[Any], Any]:
    if field_type == "datetime":
        return format_datetime
    if field_type == "date":
        return date.isoformat
    if field_type in ("double", "currency", "percent"):
        return float
    return _identity


def record_url(version: str, sobject_name: str, record_id: str) -> str:
    return f"/services/data/v{version}/sobjects/{sobject_name}/{record_id}"


class Renderer:
    """Turns rows into query-result JSON: selected fields in SELECT order, parents nested."""

    def __init__(self, obj: SObject, fields: list[Resolved], source: Source, version: str) -> None:
        self.obj = obj
        self.fields = fields
        self.source = source
        self.version = version

        # Fast path: a query of the object's own fields only (the worker's hot queries).
        self._flat = all(not f.steps for f in fields)
        self._plain = [(f.field.name, _formatter(f.field.type)) for f in fields]
        self._url = f"/services/data/v{version}/sobjects/{obj.name}/"

    def render(self, row: Row) -> Row:
        if self._flat:
            out: Row = {"attributes": {"type": self.obj.name, "url": self._url + row["Id"]}}
            for name, fmt in self._plain:
                value = row.get(name)
                out[name] = None if value is None else fmt(value)
            return out
        out = {"attributes": self._attributes(self.obj.name, row)}
        for res in self.fields:
            self._put(out, row, res, 0)
        return self.finish(out)

    def _attributes(self, type_name: str, row: Row) -> Row:
        return {"type": type_name, "url": record_url(self.version, object_of(row), row["Id"])}

    def _put(self, out: Row, row: Row, res: Resolved, depth: int) -> None:
        if depth == len(res.steps):
            target_is_name = depth > 0 and res.steps[-1].target is NAME
            value = name_field(row, res.field.name) if target_is_name else row.get(res.field.name)
            out[res.field.name] = format_value(res.field.type, value)
            return
        step = res.steps[depth]
        key = step.lookup.relationship or step.lookup.name
        if key in out and out[key] is None:
            return
        if key not in out:
            ref = row.get(step.lookup.name)
            parent = self.source.get_row(ref) if ref else None
            if parent is None:
                out[key] = None
                return
            out[key] = {"attributes": self._attributes(step.target.name, parent), "__row": parent}
        nested = out[key]
        self._put(nested, nested["__row"], res, depth + 1)

    def finish(self, rendered: Row) -> Row:
        """Drop the helper keys left by :meth:`render` on nested parents."""
        for value in rendered.values():
            if isinstance(value, dict) and "__row" in value:
                del value["__row"]
                self.finish(value)
        return rendered
