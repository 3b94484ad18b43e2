"""sObject rows: ``/sobjects/X`` (create) and ``/sobjects/X/{id}`` (get, update, delete)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime as http_date
from email.utils import parsedate_to_datetime
from typing import Any

from devkit.sandbox import access
from devkit.sandbox.org import Org
from devkit.sandbox.schema import SObject, sobject
from devkit.sandbox.soql.resolve import format_value, record_url
from devkit.sandbox.store import Row
from devkit.sandbox.values import DmlError
from devkit.sandbox.web import ApiError, Request, Response, not_found
from worker.sfdc.ids import MalformedId, normalise, object_of

_DML_STATUS = {"ENTITY_IS_DELETED": 404}


def object_or_404(name: str) -> SObject:
    obj = sobject(name)
    if obj is None:
        raise not_found()
    return obj


def assign_to(org: Org, req: Request, obj: SObject) -> str | None:
    """The owner the assignment rule imposes on this Lead write, if any.

    Salesforce runs active lead assignment rules on REST create *and update* unless the
    request says ``Sforce-Auto-Assign: FALSE``.
    """
    if obj.name != "Lead" or org.assignment_target is None:
        return None
    header = (req.header("Sforce-Auto-Assign") or "TRUE").strip().upper()
    return None if header == "FALSE" else org.assignment_target


def check_fields(obj: SObject, values: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    """Drop ``attributes``; refuse unknown fields and a create that names an Id."""
    out = {k: v for k, v in values.items() if k != "attributes"}
    for name in out:
        if obj.field(name) is None:
            raise ApiError(
                400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {obj.name}"
            )
        if creating and name.lower() == "id":
            raise ApiError(
                400, "INVALID_FIELD", "The Id field should not be specified in the sobject data."
            )
    return out


def render_record(obj: SObject, row: Row, version: str, fields: list[str] | None = None) -> Row:
    out: Row = {"attributes": {"type": obj.name, "url": record_url(version, obj.name, row["Id"])}}
    for f in obj.fields:
        if fields is None or f.name.lower() in fields:
            out[f.name] = format_value(f.type, row.get(f.name))
    return out


def _row_id(obj: SObject, record_id: str) -> str:
    try:
        rid = normalise(record_id)
    except MalformedId:
        raise ApiError(
            404,
            "NOT_FOUND",
            f"Provided external ID field does not exist or is not accessible: {record_id}",
        ) from None
    if object_of(rid) != obj.name:
        raise not_found()
    return rid


def _dml_error(err: DmlError) -> ApiError:
    return ApiError(_DML_STATUS.get(err.code, 400), err.code, err.message, err.fields)


# --- sObject rows --------------------------------------------------------------------------
def create_row(org: Org, req: Request, obj: SObject, version: str) -> Response:
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sobject from a non-object"
        )
    values = check_fields(obj, body, creating=True)
    _http_date(
        req.header("If-Unmodified-Since")
    )  # nothing to compare on a create; 400 if unreadable
    try:
        access.refuse_write(access.of(org.store.meta), obj.name, values)
        with org.txn(req.user_id) as txn:
            row = txn.create(obj, values, assign_to=assign_to(org, req, obj))
    except DmlError as err:
        raise _dml_error(err) from None
    # the new record's URL, as Composite shows in a create subrequest's httpHeaders
    location = f"/services/data/v{version}/sobjects/{obj.name}/{row['Id']}"
    return Response(201, {"id": row["Id"], "success": True, "errors": []}, {"Location": location})


def get_row(org: Org, req: Request, obj: SObject, record_id: str, version: str) -> Response:
    rid = _row_id(obj, record_id)
    row = org.store.get_any(rid)
    if row is None:
        raise not_found()
    if row.get("IsDeleted"):
        raise ApiError(404, "ENTITY_IS_DELETED", "entity is deleted", [])
    # on a GET an unreadable date is ignored, as HTTP 1.1 says (the 400 is for PATCH/POST)
    unmodified = _http_date(req.header("If-Unmodified-Since"), strict=False)
    if unmodified is not None and row["LastModifiedDate"] > unmodified:
        raise _precondition_failed()
    since = _http_date(req.header("If-Modified-Since"), strict=False)
    if since is not None and row["LastModifiedDate"] <= since:
        return Response(304)
    wanted = req.param("fields")
    fields = None
    if wanted:
        fields = [f.strip().lower() for f in wanted.split(",") if f.strip()]
        for f in fields:
            if obj.field(f) is None:
                raise ApiError(
                    400, "INVALID_FIELD", f"No such column '{f}' on entity '{obj.name}'."
                )
    headers = {"Last-Modified": http_date(row["LastModifiedDate"], usegmt=True)}
    return Response(200, render_record(obj, row, version, fields), headers)


def update_row(org: Org, req: Request, obj: SObject, record_id: str) -> Response:
    rid = _row_id(obj, record_id)
    body = req.json()
    if not isinstance(body, dict):
        raise ApiError(
            400, "JSON_PARSER_ERROR", "Cannot deserialize instance of sobject from a non-object"
        )
    values = check_fields(obj, body, creating=False)
    if org.store.get_any(rid) is None:
        raise not_found()
    try:
        access.refuse_write(access.of(org.store.meta), obj.name, values)
        with org.txn(req.user_id) as txn:
            current = txn.existing(obj, rid)
            since = _http_date(req.header("If-Unmodified-Since"))
            if since is not None and current["LastModifiedDate"] > since:
                raise _precondition_failed()
            txn.update(obj, rid, values, assign_to=assign_to(org, req, obj))
    except DmlError as err:
        raise _dml_error(err) from None
    return Response(204)


def delete_row(org: Org, req: Request, obj: SObject, record_id: str) -> Response:
    rid = _row_id(obj, record_id)
    if org.store.get_any(rid) is None:
        raise not_found()
    try:
        with org.txn(req.user_id) as txn:
            txn.delete(obj, rid)
    except DmlError as err:
        raise _dml_error(err) from None
    return Response(204)


def _precondition_failed() -> ApiError:
    return ApiError(
        412,
        "PRECONDITION_FAILED",
        "The requested resource has been modified since the If-Unmodified-Since date.",
    )


def _http_date(value: str | None, *, strict: bool = True) -> datetime | None:
    """A conditional header's date (whole seconds, like the record stamps it is compared
    with). Unreadable: 400 when ``strict`` (PATCH, POST: "Conditional Request Headers"),
    else ignored. DELETE does not support the headers: :func:`delete_row` ignores them."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        if not strict:
            return None
        raise ApiError(
            400, "INVALID_HEADER_TYPE", f"Invalid date in conditional header: {value}"
        ) from None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
