"""sObject Collections: ``POST/PATCH/DELETE /composite/sobjects`` (up to 200 records,
``allOrNone`` with per-record results) and retrieve ``/composite/sobjects/{type}``; and
Composite: ``POST /composite`` (up to 25 subrequests, each with its own headers, e.g. a
conditional sObject Rows PATCH)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
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
# "Up to 5 of these subrequests can be sObject Collections or query operations, including
# Query and QueryAll requests." (Composite resource)
MAX_QUERY_OR_COLLECTIONS = 5
_METHODS = frozenset({"GET", "POST", "PATCH", "PUT", "DELETE"})
_INHERITED = ("accept", "authorization", "content-type")  # subrequests may not set these
_REFERENCE_ID = re.compile(r"^[A-Za-z0-9_]{1,80}$")
_REFERENCE = re.compile(r"@\{([^{}]*)\}")  # @{referenceId.field[0].field}
_EXPRESSION = re.compile(r"^([A-Za-z0-9_]+)((?:\.[A-Za-z0-9_]+|\[\d+\])+)$")
_STEP = re.compile(r"\.([A-Za-z0-9_]+)|\[(\d+)\]")
Dispatch = Callable[[Org, Request], Response]


@dataclass(frozen=True)
class _Sub:
    """A subrequest as sent: its url and body may still hold ``@{...}`` references."""

    ref: str
    method: str
    url: str
    headers: dict[str, str]  # lower-cased, the inherited ones included
    body: Any = None
    has_body: bool = False


class _Halted(Exception):
    """A subrequest that is not executed: a reference it holds has no value."""


def composite_request(org: Org, req: Request, dispatch: Dispatch) -> Response:
    """Run each subrequest as its own REST request, in order, as the same user; answer
    ``{"compositeResponse": [{body, httpHeaders, httpStatusCode, referenceId}]}`` with
    HTTP 200 whatever the subrequests' statuses. The whole call counts as ONE API call.

    Limits (Composite resource): 1 to 25 subrequests, of which at most 5 sObject
    Collections or query operations (Query and QueryAll, a next page included); beyond,
    the whole request is refused with a 400.

    References (``@{referenceId.Field}``, ``[n]`` to index a collection, both recursively)
    resolve in a subrequest's ``url`` and ``body`` against the responses of EARLIER
    subrequests, as :func:`_resolve` documents; ``httpHeaders`` are sent as written (an
    ``@{`` in a header stays literal text: the docs name only url and body).

    Beyond what the sandbox needs it refuses, with a 400 that says so, rather than
    pretending: ``allOrNone: true`` (a roll-back across subrequests)."""
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
    refs = [p.ref for p in parsed]
    if len(set(refs)) != len(refs):
        raise ApiError(400, "INVALID_API_INPUT", "referenceId values must be unique")
    heavy = sum(_is_query_or_collections(p.url) for p in parsed)
    if heavy > MAX_QUERY_OR_COLLECTIONS:
        raise ApiError(
            400, "INVALID_API_INPUT",
            f"a Composite request carries at most {MAX_QUERY_OR_COLLECTIONS} query or sObject "
            f"Collections subrequests (Query and QueryAll included), got {heavy}",
        )  # fmt: skip
    done: dict[str, dict[str, Any]] = {}  # referenceId -> its answer, in order
    with org.store.deferred():  # each subrequest applied (and visible) in turn, one file write
        for sub in parsed:
            try:
                resolved = _resolve(sub, done, req.user_id)
            except _Halted as halt:
                done[sub.ref] = _halted(sub.ref, str(halt))
            else:
                done[sub.ref] = _run(org, dispatch, sub.ref, resolved)
    return Response(200, {"compositeResponse": list(done.values())})


def _subrequest(req: Request, sub: Any, i: int) -> _Sub:
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
    head = _segments(url)[:2]
    if head == ["composite", "sobjects"]:
        raise ApiError(
            400, "INVALID_API_INPUT",
            f"{where}: the sandbox org does not run sObject Collections inside a Composite request",
        )  # fmt: skip
    if head[:1] == ["composite"]:
        raise ApiError(400, "INVALID_API_INPUT", f"{where}: Composite requests do not nest")
    inherited = {h: v for h, v in req.headers.items() if h in _INHERITED}
    return _Sub(
        ref=ref, method=method, url=url, headers=inherited | headers,
        body=sub.get("body"), has_body="body" in sub,
    )  # fmt: skip


def _segments(url: str) -> list[str]:
    """The path's segments after ``/services/data/vXX.X/``."""
    return [p for p in urlsplit(url).path.split("/") if p][3:]


def _is_query_or_collections(url: str) -> bool:
    head = _segments(url)[:2]
    return head[:1] in (["query"], ["queryAll"]) or head == ["composite", "sobjects"]


def _resolve(sub: _Sub, done: dict[str, dict[str, Any]], user_id: str | None) -> Request:
    """The subrequest with its references replaced (Composite resource, "You can use the
    output of one request as the input to a subsequent request"):

    - in the ``url`` a referenced value is inserted as text (an Id, as is);
    - in the ``body`` a string that is one whole reference (``"@{refAccount.id}"``) takes
      the referenced JSON value, a reference inside a longer string is inserted as text;
      only values are resolved, never keys;
    - ``httpHeaders`` are not resolved.

    A reference whose value does not exist halts the subrequest: it is not executed and
    answers 400 ``PROCESSING_HALTED`` "Invalid reference specified. No value for
    q0.records[0].Id found in q0." (the message real orgs give when the referenced query
    returned no row). So does a reference to a subrequest that failed (non-2xx: "Dependent
    subrequests aren't executed") or to a referenceId that is not an earlier subrequest's.
    Undocumented, so the conservative choice: a JSON ``null`` counts as no value, and
    ``@{...}`` that is not ``referenceId`` followed by ``.Field`` / ``[n]`` steps halts
    the subrequest too. Field names match exactly (referenceIds are case-sensitive; JSON
    keys are)."""

    def text(match: re.Match[str]) -> str:
        value = _value(match.group(1), done)
        return value if isinstance(value, str) else json.dumps(value)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        if isinstance(node, str):
            whole = _REFERENCE.fullmatch(node)
            return _value(whole.group(1), done) if whole else _REFERENCE.sub(text, node)
        return node

    url = _REFERENCE.sub(text, sub.url)
    body = json.dumps(walk(sub.body)).encode() if sub.has_body else b""
    split = urlsplit(url)
    return Request(
        method=sub.method, path=split.path, query=parse_qs(split.query),
        headers=dict(sub.headers), body=body, user_id=user_id,
    )  # fmt: skip


def _value(expression: str, done: dict[str, dict[str, Any]]) -> Any:
    m = _EXPRESSION.match(expression)
    if m is None:
        raise _Halted(f"Invalid reference specified. {expression} is not a valid reference.")
    ref = m.group(1)
    missing = _Halted(f"Invalid reference specified. No value for {expression} found in {ref}.")
    answer = done.get(ref)
    if answer is None or not 200 <= answer["httpStatusCode"] < 300:
        raise missing
    value = answer["body"]
    for step in _STEP.finditer(m.group(2)):
        name, index = step.group(1), step.group(2)
        if name is not None and isinstance(value, dict) and name in value:
            value = value[name]
        elif index is not None and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        else:
            raise missing
    if value is None:
        raise missing
    return value


def _halted(ref: str, message: str) -> dict[str, Any]:
    return {
        "body": ApiError(400, "PROCESSING_HALTED", message).response().body,
        "httpHeaders": {},
        "httpStatusCode": 400,
        "referenceId": ref,
    }


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
