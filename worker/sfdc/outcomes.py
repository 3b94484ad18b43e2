"""What an owner write came to, in the worker's words, and the one table that reads
Salesforce's per-record error codes into them.

The jobs act on a :class:`WriteKind` (retry a locked lead, re-read a lead that changed
under a conditional write, re-route away from an inactive owner, close out a deleted or
converted lead, fail the rest); only this module knows which Salesforce code means which.
"""

from __future__ import annotations

from enum import Enum


class WriteKind(Enum):
    WRITTEN = "written"
    LOCKED = "locked"  # another transaction held the record: worth another try
    OWNER_CHANGED = "owner_changed"  # a conditional write refused (412): changed since read
    OWNER_INACTIVE = "owner_inactive"  # the owner we wrote is an inactive user
    CONVERTED = "converted"
    DELETED = "deleted"
    REJECTED = "rejected"  # anything else: Salesforce's code and message say why


KIND_BY_CODE: dict[str, WriteKind] = {
    "UNABLE_TO_LOCK_ROW": WriteKind.LOCKED,
    "PRECONDITION_FAILED": WriteKind.OWNER_CHANGED,
    # a Composite subrequest not run because a value it referenced was not there: a
    # guarded write whose guard query found the lead no longer ours to write (owner
    # changed, converted, deleted): re-read and judged like a refused conditional write
    "PROCESSING_HALTED": WriteKind.OWNER_CHANGED,
    # the worker's own code for a guarded write whose guard query Salesforce refused
    # (not run: its PATCH did not either): re-read and judged the same way
    "GUARD_QUERY_FAILED": WriteKind.OWNER_CHANGED,  # GUARD_FAILED
    "INACTIVE_OWNER_OR_USER": WriteKind.OWNER_INACTIVE,
    "CANNOT_UPDATE_CONVERTED_LEAD": WriteKind.CONVERTED,
    "ENTITY_IS_DELETED": WriteKind.DELETED,
}
PRECONDITION_FAILED = "PRECONDITION_FAILED"  # the code a 412 answer is given
GUARD_FAILED = "GUARD_QUERY_FAILED"  # a guarded write whose guard query was refused
NO_RESULT = "NO_RESULT"  # a write Salesforce's answer says nothing of: it may have landed
UNKNOWN = "UNKNOWN"  # a refusal that named no code


def kind_of(code: str | None) -> WriteKind:
    """The kind of a refused write's error code (any code not in the table: rejected)."""
    return KIND_BY_CODE.get(code or UNKNOWN, WriteKind.REJECTED)


def code_of(kind: WriteKind) -> str:
    """Salesforce's code for a refusal of ``kind`` (the journal names it): the inverse of
    :data:`KIND_BY_CODE`; ``kind`` must be one of its values."""
    return next(code for code, k in KIND_BY_CODE.items() if k is kind)
