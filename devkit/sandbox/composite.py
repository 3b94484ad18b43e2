"""sObject Collections: ``POST/PATCH/DELETE /composite/sobjects`` (up to 200 records,
``allOrNone`` with per-record results) and retrieve ``/composite/sobjects/{type}``; and
Composite: ``POST /composite`` (up to 25 subrequests, each with its own headers, e.g. a
conditional sObject Rows PATCH)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devkit.sandbox import access
from devkit.sandbox.dml import Txn
from devkit.sandbox.org import Org
from devkit.sandbox.schema import SObject, sobject
from devkit.sandbox.sobjects import assign_to, check_fields, render_record
from devkit.sandbox.store import Row
from devkit.sandbox.values import DmlError
from devkit.sandbox.web import ApiError, Request, Response
from worker.sfdc.ids import MalformedId, normalise, object_of

MAX_COLLECTION = 200
ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using AllOrNone header",
    "fields": [],
}


def collection_write(org: Org, req: Request, *, creating: bool) -> Response:
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        raise ApiError(
            400, "JSON_PARSER_ERROR", "The request body must be an object with a records list"
        )
    records: list[Any] = body["records"]
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
    _check_size(len(records))
    prepared = [_prepare(r, creating) for r in records]
    results: list[dict[str, Any] | None] = [None] * len(records)
    with org.txn(req.user_id, commit=False) as txn:
        seen: set[str] = set()
        for i, (obj, values, rid) in enumerate(prepared):
            results[i] = _write_one(org, req, txn, obj, values, rid, seen)
        failed = any(not r["success"] for r in results if r)
        if all_or_none and failed:
            txn.pending.clear()
            results = [
                r if r and not r["success"] else {"success": False, "errors": [ROLLED_BACK]}
                for r in results
            ]
        else:
            txn.commit()
    return Response(200, results)


def _check_size(count: int) -> None:
    if count > MAX_COLLECTION:
        raise ApiError(
            400,
            "EXCEEDED_ID_LIMIT",
            f"record limit reached. cannot submit more than {MAX_COLLECTION} records into this call",
        )


def _prepare(record: Any, creating: bool) -> tuple[SObject, dict[str, Any], str | None]:
    if not isinstance(record, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", "Each record must be a JSON object")
    type_name = (record.get("attributes") or {}).get("type")
    obj = sobject(type_name) if isinstance(type_name, str) else None
    if obj is None:
        raise ApiError(400, "INVALID_TYPE", f"sObject type '{type_name}' is not supported.")
    values = {k: v for k, v in record.items() if k not in ("attributes", "id", "Id")}
    check_fields(obj, values, creating=creating)
    rid = record.get("id") or record.get("Id")
    return obj, values, str(rid) if rid else None


def _write_one(
    org: Org,
    req: Request,
    txn: Txn,
    obj: SObject,
    values: dict[str, Any],
    rid: str | None,
    seen: set[str],
) -> dict[str, Any]:
    creating = "POST" == req.method
    try:
        if creating and rid:
            raise DmlError("INVALID_FIELD", "cannot specify Id in an insert call", ["Id"])
        if not creating and not rid:
            raise DmlError("MISSING_ARGUMENT", "Id not specified in an update call", [])
        if rid and org.faults.lock_row():
            raise DmlError(
                "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {rid}",
                [],
            )
        access.refuse_write(access.of(org.store.meta), obj.name, values)
        if creating:
            row = txn.create(obj, values, assign_to=assign_to(org, req, obj))
        else:
            assert rid is not None
            key = txn.existing(obj, rid)["Id"]
            # Undocumented for collections; refusing a repeated Id is the conservative choice.
            if key in seen:
                raise DmlError("DUPLICATE_VALUE", f"duplicate id in list: {rid}", ["Id"])
            seen.add(key)
            row = txn.update(obj, key, values, assign_to=assign_to(org, req, obj))
        return {"id": row["Id"], "success": True, "errors": []}
    except DmlError as err:
        return {"success": False, "errors": [err.as_result()]}


def collection_delete(org: Org, req: Request) -> Response:
    ids = [i for i in (req.param("ids") or "").split(",") if i]
    all_or_none = (req.param("allOrNone") or "false").lower() == "true"
    _check_size(len(ids))
    results: list[dict[str, Any]] = []
    with org.txn(req.user_id, commit=False) as txn:
        for rid in ids:
            kind = object_of(rid)
            obj = sobject(kind) if kind else None
            try:
                if obj is None:
                    raise DmlError("MALFORMED_ID", f"malformed id {rid}", [])
                row = txn.delete(obj, rid)
                results.append({"id": row["Id"], "success": True, "errors": []})
            except DmlError as err:
                results.append({"success": False, "errors": [err.as_result()]})
        if all_or_none and any(not r["success"] for r in results):
            txn.pending.clear()
            results = [
                r if not r["success"] else {"success": False, "errors": [ROLLED_BACK]}
                for r in results
            ]
        else:
            txn.commit()
    return Response(200, results)


def collection_retrieve(org: Org, req: Request, obj: SObject, version: str) -> Response:
    if req.method == "POST":
        body = req.json() or {}
        ids, fields = list(body.get("ids") or []), list(body.get("fields") or [])
    else:
        ids = [i for i in (req.param("ids") or "").split(",") if i]
        fields = [f for f in (req.param("fields") or "").split(",") if f]
    if not fields:
        raise ApiError(400, "MALFORMED_QUERY", "fields is required")
    if len(ids) > 2000:
        raise ApiError(400, "EXCEEDED_ID_LIMIT", "cannot retrieve more than 2000 records")
    for f in fields:
        if obj.field(f) is None:
            raise ApiError(400, "INVALID_FIELD", f"No such column '{f}' on entity '{obj.name}'.")
    wanted = [f.lower() for f in fields]
    out: list[Row | None] = []
    for rid in ids:
        try:
            row = org.store.get_row(normalise(rid))
        except MalformedId:
            row = None
        out.append(
            render_record(obj, row, version, wanted)
            if row and object_of(row["Id"]) == obj.name
            else None
        )
    return Response(200, out)


# --- Composite: POST /composite ------------------------------------------------------
MAX_SUBREQUESTS = 25  # "up to 25 subrequests in a single request" (Composite resource)
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
_INHERITED = ("accept", "authorization", "content-type")  # subrequests may not set these
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_]{1,80}$")
Dispatch = Callable[[Org, Request], Response]


def composite_request(org: Org, req: Request, dispatch: Dispatch) -> Response:
    """Run each subrequest as its own REST request, in order, as the same user; answer
    ``{"compositeResponse": [{body, httpHeaders, httpStatusCode, referenceId}]}`` with
    HTTP 200 whatever the subrequests' statuses. The whole call counts as ONE API call.

    Beyond what the sandbox needs it refuses, with a 400 that says so, rather than
    pretending: ``allOrNone: true`` (a roll-back across subrequests) and ``@{ref}``
    references between subrequests."""
    body = req.json()
    if not isinstance(body, dict) or not isinstance(body.get("compositeRequest"), list):
        raise ApiError(
            400, "JSON_PARSER_ERROR",
            "The request body must be an object with a compositeRequest list",
        )  # fmt: skip
    all_or_none = body.get("allOrNone", False)
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
    if all_or_none:
        raise ApiError(
            400, "INVALID_API_INPUT", "the sandbox org runs Composite requests with allOrNone=false only"
        )  # fmt: skip
    subs: list[Any] = body["compositeRequest"]
    if not subs or len(subs) > MAX_SUBREQUESTS:
        raise ApiError(
            400, "INVALID_API_INPUT",
            f"a Composite request carries 1 to {MAX_SUBREQUESTS} subrequests, got {len(subs)}",
        )  # fmt: skip
    parsed = [_subrequest(req, sub, i) for i, sub in enumerate(subs)]
    refs = [ref for ref, _ in parsed]
    if len(set(refs)) != len(refs):
        raise ApiError(400, "INVALID_API_INPUT", "referenceId values must be unique")
    with org.store.deferred():  # each subrequest applied (and visible) in turn, one file write
        answers = [_run(org, dispatch, r, s) for r, s in parsed]
    return Response(200, {"compositeResponse": answers})


def _subrequest(req: Request, sub: Any, i: int) -> tuple[str, Request]:
    where = f"compositeRequest[{i}]"
    if not isinstance(sub, dict):
        raise ApiError(400, "JSON_PARSER_ERROR", f"{where} must be an object")
    method, url, ref = sub.get("method"), sub.get("url"), sub.get("referenceId")
    if method not in _METHODS:
        raise ApiError(
            400, "INVALID_API_INPUT", f"{where}.method must be one of {sorted(_METHODS)}"
        )
    if not isinstance(ref, str) or not _REFERENCE_ID.match(ref):
        raise ApiError(400, "INVALID_API_INPUT", f"{where}.referenceId must be alphanumeric")
    if not isinstance(url, str) or not url.startswith("/services/data/v"):
        raise ApiError(400, "INVALID_API_INPUT", f"{where}.url must start with /services/data/v")
    raw_headers = sub.get("httpHeaders") or {}
    if not isinstance(raw_headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw_headers.items()
    ):
        raise ApiError(400, "JSON_PARSER_ERROR", f"{where}.httpHeaders must map names to strings")
    headers = {k.lower(): v for k, v in raw_headers.items()}
    if any(h in headers for h in _INHERITED):
        raise ApiError(
            400, "INVALID_API_INPUT",
            f"{where}: Accept, Authorization and Content-Type come from the top-level request",
        )  # fmt: skip
    text = json.dumps(sub.get("body")) if "body" in sub else ""
    if "@{" in url or "@{" in text:
        raise ApiError(
            400, "INVALID_API_INPUT", "the sandbox org does not resolve @{reference} expressions"
        )  # fmt: skip
    split = urlsplit(url)
    if split.path.rstrip("/").split("/")[4:5] == ["composite"]:
        raise ApiError(400, "INVALID_API_INPUT", f"{where}: Composite requests do not nest")
    inherited = {h: v for h, v in req.headers.items() if h in _INHERITED}
    return ref, Request(
        method=method, path=split.path, query=parse_qs(split.query),
        headers=inherited | headers, body=text.encode(), user_id=req.user_id,
    )  # fmt: skip


def _run(org: Org, dispatch: Dispatch, ref: str, sub: Request) -> dict[str, Any]:
    try:
        if sub.method == "PATCH" and "/sobjects/" in sub.path and org.faults.lock_row():
            raise ApiError(
                400, "UNABLE_TO_LOCK_ROW",
                f"unable to obtain exclusive access to this record or 1 records: {sub.path.rsplit('/', 1)[-1]}",
            )  # fmt: skip
        response = dispatch(org, sub)
    except ApiError as err:
        response = err.response()
    body = json.loads(response.raw) if response.raw is not None else response.body
    return {
        "body": body,
        "httpHeaders": dict(response.headers),
        "httpStatusCode": response.status,
        "referenceId": ref,
    }
