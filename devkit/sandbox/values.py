"""Checking and converting field values written through the API (JSON in, Python out)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from devkit.sandbox.schema import TEXT_TYPES, Field

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DmlError(Exception):
    """A record-level failure: reported as ``{"statusCode","message","fields"}``."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields or []

    def as_result(self) -> dict[str, Any]:
        return {"statusCode": self.code, "message": self.message, "fields": self.fields}


def parse_datetime(text: str) -> datetime:
    """Accept what Salesforce accepts on input: ISO 8601 with Z, +hh:mm or +hhmm."""
    fixed = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text.replace("Z", "+00:00"))
    value = datetime.fromisoformat(fixed)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0)


def coerce(field: Field, value: Any) -> Any:
    """The stored form of ``value`` for ``field``, or :class:`DmlError`."""
    if value is None or (value == "" and field.type in TEXT_TYPES):
        if not field.nillable:
            raise DmlError(
                "REQUIRED_FIELD_MISSING",
                f"Required fields are missing: [{field.name}]",
                [field.name],
            )
        return None
    kind = field.type
    if kind in TEXT_TYPES:
        return _text(field, value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if (
        kind == "int"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and float(value).is_integer()
    ):
        return int(value)
    if (
        kind in ("double", "currency", "percent")
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        return float(value)
    try:
        if kind == "date" and isinstance(value, str):
            return date.fromisoformat(value[:10])
        if kind == "datetime" and isinstance(value, str):
            return parse_datetime(value)
    except ValueError:
        pass
    if kind in ("reference", "id") and isinstance(value, str):
        return value  # checked by the caller, which knows the org
    raise DmlError(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        f"{field.name}: value not of required type: {value}",
        [field.name],
    )


def _text(field: Field, value: Any) -> str:
    if not isinstance(value, str):
        raise DmlError(
            "INVALID_TYPE_ON_FIELD_IN_RECORD",
            f"{field.name}: value not of required type: {value}",
            [field.name],
        )
    if len(value) > field.length:
        raise DmlError(
            "STRING_TOO_LONG",
            f"{field.name}: data value too large: {value[:40]} (max length={field.length})",
            [field.name],
        )
    if field.type == "email" and not _EMAIL.match(value):
        raise DmlError(
            "INVALID_EMAIL_ADDRESS", f"{field.name}: invalid email address: {value}", [field.name]
        )
    if field.restricted and value not in field.picklist:
        raise DmlError(
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            f"{field.name}: bad value for restricted picklist field: {value}",
            [field.name],
        )
    return value
