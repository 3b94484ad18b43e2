"""What the integration user may see and edit (its profile and permission sets), so that
``leadrouter doctor`` can be shown each way an org can be set up wrong.

Salesforce answers as the calling user sees the org: Describe of an object the user
cannot read is ``404 NOT_FOUND`` and a query on it ``INVALID_TYPE``; a field hidden by
field-level security is absent from Describe and a query naming it is ``INVALID_FIELD``;
Describe's ``updateable`` (object and field) says what the user may edit. Kept in the
org's meta (``access``), set through the admin operation ``set_access``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from devkit.sandbox.schema import sobject
from devkit.sandbox.values import DmlError

META_KEY = "access"


@dataclass(frozen=True)
class Access:
    hidden_objects: frozenset[str] = frozenset()  # canonical sObject names
    readonly_objects: frozenset[str] = frozenset()
    hidden_fields: Mapping[str, frozenset[str]] = field(default_factory=dict)  # lower names
    readonly_fields: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def can_read(self, obj: str) -> bool:
        return obj not in self.hidden_objects

    def can_edit(self, obj: str) -> bool:
        return obj not in self.readonly_objects and self.can_read(obj)

    def sees(self, obj: str, name: str) -> bool:
        return name.lower() not in self.hidden_fields.get(obj, frozenset())

    def edits(self, obj: str, name: str) -> bool:
        return self.sees(obj, name) and name.lower() not in self.readonly_fields.get(
            obj, frozenset()
        )


FULL = Access()


def _objects(names: Sequence[str]) -> frozenset[str]:
    out = set()
    for name in names:
        obj = sobject(name)
        if obj is None:
            raise ValueError(f"no sObject {name!r}")
        out.add(obj.name)
    return frozenset(out)


def _fields(spec: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    out: dict[str, frozenset[str]] = {}
    for name, fields in spec.items():
        obj = sobject(name)
        if obj is None:
            raise ValueError(f"no sObject {name!r}")
        for f in fields:
            if obj.field(f) is None:
                raise ValueError(f"no field {obj.name}.{f}")
        out[obj.name] = frozenset(f.lower() for f in fields)
    return out


def from_dict(data: Mapping[str, Any] | None) -> Access:
    data = data or {}
    unknown = set(data) - {"hidden_objects", "readonly_objects", "hidden_fields", "readonly_fields"}
    if unknown:
        raise ValueError(f"unknown access setting(s): {', '.join(sorted(unknown))}")
    return Access(
        hidden_objects=_objects(data.get("hidden_objects") or ()),
        readonly_objects=_objects(data.get("readonly_objects") or ()),
        hidden_fields=_fields(data.get("hidden_fields") or {}),
        readonly_fields=_fields(data.get("readonly_fields") or {}),
    )


def of(meta: Mapping[str, Any]) -> Access:
    return from_dict(meta.get(META_KEY)) if meta.get(META_KEY) else FULL


def refuse_write(seen: Access, obj: str, values: Mapping[str, Any]) -> None:
    """Raise the error Salesforce gives a create or update the user may not make: on an
    object it may not edit, ``INSUFFICIENT_ACCESS_OR_READONLY``; naming fields it may not
    edit (field-level security), ``INVALID_FIELD_FOR_INSERT_UPDATE``."""
    if seen is FULL:
        return
    if not seen.can_edit(obj):
        raise DmlError("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id")
    refused = [name for name in values if not seen.edits(obj, name)]
    if refused:
        raise DmlError(
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            f"Unable to create/update fields: {', '.join(refused)}. Please check the security "
            "settings of this field and verify that it is read/write for your profile or "
            "permission set.",
            refused,
        )
