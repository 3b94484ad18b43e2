"""The org's data rules: system fields, owners, converted/deleted records, side effects.

All writes go through a :class:`Txn`, which validates against the state as changed so
far in the same request and commits every row at once (so ``allOrNone`` can roll back by
simply not committing). Callers hold ``store.lock`` for the life of a Txn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from devkit.sandbox.schema import SObject, sobject
from devkit.sandbox.store import OrgStore, Row
from devkit.sandbox.values import DmlError, coerce
from worker.sfdc.ids import MalformedId, normalise, object_of

Clock = Callable[[], datetime]


def system_now() -> datetime:
    # Salesforce keeps dateTime values to the second (the API always shows ".000"), so
    # many records share one SystemModstamp: pollers must use >= and de-duplicate.
    return datetime.now(UTC).replace(microsecond=0)


class Txn:
    def __init__(self, store: OrgStore, now: datetime, actor: str | None) -> None:
        self.store = store
        self.now = now
        self.actor = actor
        self.pending: dict[str, Row] = {}

    def get(self, record_id: str) -> Row | None:
        return self.pending.get(record_id) or self.store.get_any(record_id)

    def stage(self, row: Row) -> None:
        self.pending[row["Id"]] = row

    def commit(self) -> None:
        self.store.save(list(self.pending.values()))
        self.pending.clear()

    # --- operations ----------------------------------------------------------------------
    def create(
        self,
        obj: SObject,
        values: dict[str, Any],
        *,
        assign_to: str | None = None,
        system: bool = False,
    ) -> Row:
        """Stage a new record. ``system`` lets seeding set read-only fields (dates, flags)."""
        row = _defaults(obj, self.now, self.actor)
        row["Id"] = self.store.next_id(obj.name)
        row.update(self._checked(obj, values, creating=True, system=system))
        if obj.name == "Lead" and assign_to:
            row["OwnerId"] = assign_to
        missing = [f for f in obj.required if row.get(f) is None]
        if missing:
            raise DmlError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{', '.join(missing)}]",
                missing,
            )
        if "OwnerId" in row and row["OwnerId"] is None:
            row["OwnerId"] = self.actor
        self._derive(obj, row)
        self.stage(row)
        self._side_effects(obj, None, row)
        return row

    def update(
        self,
        obj: SObject,
        record_id: str,
        values: dict[str, Any],
        *,
        assign_to: str | None = None,
        system: bool = False,
    ) -> Row:
        current = self.existing(obj, record_id)
        if obj.name == "Lead" and current.get("IsConverted"):
            raise DmlError("CANNOT_UPDATE_CONVERTED_LEAD", "cannot reference converted lead", [])
        row = dict(current)
        row.update(self._checked(obj, values, creating=False, system=system))
        if obj.name == "Lead" and assign_to:
            row["OwnerId"] = assign_to
        if obj.name == "Lead" and row.get("OwnerId") != current.get("OwnerId"):
            row["IsUnreadByOwner"] = True  # a new owner has not seen the lead yet
        self._derive(obj, row)
        row["LastModifiedDate"] = row["SystemModstamp"] = self.now
        row["LastModifiedById"] = self.actor
        self.stage(row)
        self._side_effects(obj, current, row)
        return row

    def delete(self, obj: SObject, record_id: str) -> Row:
        row = dict(self.existing(obj, record_id))
        row["IsDeleted"] = True
        row["LastModifiedDate"] = row["SystemModstamp"] = self.now
        self.stage(row)
        return row

    def undelete(self, obj: SObject, record_id: str) -> Row:
        """Restore a deleted record from the Recycle Bin (Apex/SOAP ``undelete``)."""
        rid = _parsed(obj, record_id)
        current = self.get(rid)
        if current is None or object_of(rid) != obj.name:
            raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if not current.get("IsDeleted"):
            raise DmlError("UNDELETE_FAILED", "Entity is not in the recycle bin", [])
        row = dict(current)
        row["IsDeleted"] = False
        row["LastModifiedDate"] = row["SystemModstamp"] = self.now
        row["LastModifiedById"] = self.actor
        self.stage(row)
        return row

    def touch(self, record_id: str, changes: dict[str, Any]) -> None:
        """Set system-maintained fields (no validation, no LastModifiedDate)."""
        row = dict(self.get(record_id) or {})
        if row:
            row.update(changes)
            row["SystemModstamp"] = self.now
            self.stage(row)

    def existing(self, obj: SObject, record_id: str) -> Row:
        rid = _parsed(obj, record_id)
        if object_of(rid) != obj.name:
            raise _malformed(obj, record_id)
        row = self.get(rid)
        if row is None:
            raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        if row.get("IsDeleted"):
            raise DmlError("ENTITY_IS_DELETED", "entity is deleted", [])
        return row

    # --- validation ----------------------------------------------------------------------
    def _checked(
        self, obj: SObject, values: dict[str, Any], *, creating: bool, system: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            field = obj.field(name)
            assert field is not None, "unknown fields are refused before a Txn sees them"
            if not system and not (field.createable if creating else field.updateable):
                raise DmlError(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {field.name}. Please check the security settings "
                    "of this field and verify that it is read/write for your profile or permission set.",
                    [field.name],
                )
            stored = coerce(field, value)
            if field.type in ("reference", "id") and stored is not None and field.name != "Id":
                stored = self._reference(obj, field.name, field.refs, stored, system=system)
            out[field.name] = stored
        return out

    def _reference(
        self, obj: SObject, name: str, refs: tuple[str, ...], value: str, *, system: bool = False
    ) -> str:
        label = name[:-2] if name.endswith("Id") else name
        try:
            rid = normalise(value)
        except MalformedId:
            raise DmlError(
                "MALFORMED_ID", f"{label} ID: id value of incorrect type: {value}", [name]
            ) from None
        target = self.get(rid)
        kind = object_of(rid)
        if target is None or target.get("IsDeleted") or kind not in refs:
            raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])
        if name == "OwnerId":
            if kind == "Group" and target.get("Type") != "Queue":
                raise DmlError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [name])
            # system writes (seeding) may keep records owned by people who have since left
            if kind == "User" and not target.get("IsActive") and not system:
                raise DmlError(
                    "INACTIVE_OWNER_OR_USER",
                    f"operation performed with inactive user [{rid}] as owner of {obj.name.lower()}",
                    [],
                )
        return rid

    # --- derived fields and side effects -------------------------------------------------
    def _derive(self, obj: SObject, row: Row) -> None:
        if obj.field("Name") and obj.name in ("Lead", "Contact", "User"):
            row["Name"] = " ".join(p for p in (row.get("FirstName"), row.get("LastName")) if p)
        if obj.name == "Task":
            row["IsClosed"] = row.get("Status") == "Completed"
        if obj.name == "Opportunity":
            stage = row.get("StageName")
            row["IsClosed"] = stage in ("Closed Won", "Closed Lost")
            row["IsWon"] = stage == "Closed Won"

    def _side_effects(self, obj: SObject, before: Row | None, row: Row) -> None:
        """A closed Task sets LastActivityDate on the lead/contact/account it is logged against.

        Salesforce: LastActivityDate is the most recent due date of a closed task (or an
        event). Whether the parent's SystemModstamp moves is undocumented; we move it (the
        conservative choice for a poller: it sees the change rather than missing it).
        """
        if obj.name != "Task" or not row.get("IsClosed"):
            return
        when: date = row.get("ActivityDate") or self.now.date()
        for ref in (row.get("WhoId"), row.get("WhatId")):
            parent = self.get(ref) if ref else None
            if parent and "LastActivityDate" in _fields(parent):
                current = parent.get("LastActivityDate")
                if current is None or current < when:
                    self.touch(ref, {"LastActivityDate": when})  # type: ignore[arg-type]


def _fields(row: Row) -> set[str]:
    kind = object_of(row["Id"])
    obj = sobject(kind) if kind else None
    return {f.name for f in obj.fields} if obj else set()


def _defaults(obj: SObject, now: datetime, actor: str | None) -> Row:
    row: Row = {f.name: None for f in obj.fields}
    row.update(
        IsDeleted=False, CreatedDate=now, LastModifiedDate=now, SystemModstamp=now,
        CreatedById=actor, LastModifiedById=actor,
    )  # fmt: skip
    extra: dict[str, dict[str, Any]] = {
        "Lead": {"Status": "Open - Not Contacted", "IsConverted": False, "IsUnreadByOwner": True},
        "User": {"IsActive": True, "UserType": "Standard"},
        "Task": {"Status": "Not Started", "Priority": "Normal", "IsClosed": False},
        "Opportunity": {"IsClosed": False, "IsWon": False},
    }
    row.update(extra.get(obj.name, {}))
    return row


def _malformed(obj: SObject, record_id: str) -> DmlError:
    return DmlError(
        "MALFORMED_ID", f"{obj.name} ID: id value of incorrect type: {record_id}", ["Id"]
    )


def _parsed(obj: SObject, record_id: str) -> str:
    """The 18-character form of ``record_id``; MALFORMED_ID when it is not an Id."""
    try:
        return normalise(record_id)
    except MalformedId:
        raise _malformed(obj, record_id) from None
