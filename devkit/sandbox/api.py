"""The REST API under ``/services/data``: routing, query/queryMore, limits, describe.

Paths accept any ``vNN.N`` Salesforce has shipped and an optional trailing slash, as
simple-salesforce calls ``query/?q=`` and ``sobjects/Lead/``.
"""

from __future__ import annotations

import re
from typing import Any

from devkit.sandbox import access, composite, replication
from devkit.sandbox import sobjects as rows
from devkit.sandbox.describe import describe, describe_global
from devkit.sandbox.identity import identity_url
from devkit.sandbox.org import Org
from devkit.sandbox.soql import SoqlError, parse
from devkit.sandbox.soql.engine import execute, lookup_object
from devkit.sandbox.web import ApiError, Request, Response, not_found

MIN_VERSION, MAX_VERSION = 20.0, 66.0
DEFAULT_BATCH, MIN_BATCH = 2000, 200
_PATH = re.compile(r"^/services/data/v(\d{2}\.\d)(?:/(.*?))?/?$")
_LOCATOR = re.compile(r"^(01g[0-9A-Za-z]{15})-(\d+)$")
_BATCH = re.compile(r"batchSize\s*=\s*(\d+)", re.IGNORECASE)


def versions() -> list[dict[str, str]]:
    return [
        {"label": f"v{v}", "url": f"/services/data/v{v}.0", "version": f"{v}.0"}
        for v in range(int(MIN_VERSION), int(MAX_VERSION) + 1)
    ]


def split_path(path: str) -> tuple[str, list[str]]:
    """``/services/data/v59.0/sobjects/Lead/`` -> ("59.0", ["sobjects", "Lead"])."""
    m = _PATH.match(path)
    if not m or not MIN_VERSION <= float(m.group(1)) <= MAX_VERSION:
        raise not_found()
    rest = m.group(2) or ""
    return m.group(1), [p for p in rest.split("/") if p]


def handle(org: Org, req: Request) -> Response:
    version, parts = split_path(req.path)
    head = parts[0] if parts else ""
    if not parts:
        return _only(req, "GET", lambda: Response(200, _resources(org, req, version)))
    if head in ("query", "queryAll"):
        return _only(req, "GET", lambda: _query(org, req, version, parts))
    if head == "limits" and len(parts) == 1:
        return _only(req, "GET", lambda: Response(200, _limits(org)))
    if head == "sobjects":
        return _sobjects(org, req, version, parts[1:])
    if head == "composite" and len(parts) >= 2 and parts[1] == "sobjects":
        return _collections(org, req, version, parts[2:])
    if head == "composite" and len(parts) == 1:
        return _only(req, "POST", lambda: composite.composite_request(org, req, handle))
    raise not_found()


def _only(req: Request, method: str, run: Any, *more: str) -> Response:
    allowed = (method, *more)
    if req.method not in allowed:
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{req.method}' not allowed. Allowed are {','.join(allowed)}",
        )
    result: Response = run()
    return result


def _resources(org: Org, req: Request, version: str) -> dict[str, str]:
    """The resources this version offers the caller; ``identity`` is the caller's
    identity URL, absolute, as Salesforce lists it."""
    base = f"/services/data/v{version}"
    listed = {
        name: f"{base}/{name}" for name in ("sobjects", "query", "queryAll", "limits", "composite")
    }
    host = org.instance_url or f"https://{req.header('Host') or 'localhost'}"
    listed["identity"] = identity_url(host, org.org_id, req.user_id or "")
    return listed


def _limits(org: Org) -> dict[str, dict[str, int]]:
    limit = org.daily_limit
    return {
        "DailyApiRequests": {"Max": limit, "Remaining": max(0, limit - org.api_used())},
        "DailyBulkApiBatches": {"Max": 15000, "Remaining": 15000},
        "DailyBulkV2QueryJobs": {"Max": 10000, "Remaining": 10000},
        "DataStorageMB": {"Max": 1024, "Remaining": 1000},
        "HourlyPublishedPlatformEvents": {"Max": 50000, "Remaining": 50000},
        "SingleEmail": {"Max": 5000, "Remaining": 5000},
    }


# --- query -----------------------------------------------------------------------------------
def _query(org: Org, req: Request, version: str, parts: list[str]) -> Response:
    if len(parts) == 2:
        return _query_more(org, version, parts[1])
    if len(parts) != 1:
        raise not_found()
    soql = req.param("q")
    if not soql:
        raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
    try:
        query = parse(soql)
        _visible(access.of(org.store.meta), query)
        with org.store.lock:
            result = execute(
                query,
                org.store,
                now=org.clock(),
                include_deleted=parts[0] == "queryAll",
                version=version,
            )
    except SoqlError as err:
        raise ApiError(400, err.code, err.message) from None
    if query.count_only:
        return Response(200, {"totalSize": result.total_size, "done": True, "records": []})
    batch = _batch_size(req)
    if result.aggregate or result.total_size <= batch:
        return Response(200, _page(result.rows, result.render, result.total_size, None))
    locator = org.open_cursor(result, batch)
    return _page_response(org, version, locator, 0)


def _visible(seen: access.Access, query: Any) -> None:
    """A query on an object the user cannot read, or selecting a field hidden from it,
    is refused as if they did not exist (``INVALID_TYPE``, ``INVALID_FIELD``)."""
    obj = lookup_object(query.sobject)
    if not seen.can_read(obj.name):
        raise SoqlError(
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a "
            "custom object, be sure to append the '__c' after the entity name. Please "
            "reference your WSDL or the describe call for the appropriate names.",
        )
    for item in query.select:
        parts = getattr(item, "parts", None)
        if parts and len(parts) == 1 and not seen.sees(obj.name, parts[0]):
            raise SoqlError(
                "INVALID_FIELD",
                f"\n{parts[0]}\n^\nERROR at Row:1:Column:8\nNo such column '{parts[0]}' on "
                f"entity '{obj.name}'. If you are attempting to use a custom field, be sure to "
                "append the '__c' after the custom field name. Please reference your WSDL or "
                "the describe call for the appropriate names.",
            )


def _batch_size(req: Request) -> int:
    m = _BATCH.search(req.header("Sforce-Query-Options") or "")
    if not m:
        return DEFAULT_BATCH
    # The header is a hint: Salesforce clamps it to 200..2000 and may return fewer rows.
    return max(MIN_BATCH, min(DEFAULT_BATCH, int(m.group(1))))


def _query_more(org: Org, version: str, ident: str) -> Response:
    m = _LOCATOR.match(ident)
    cursor = org.cursor(m.group(1)) if m else None
    if m is None or cursor is None or int(m.group(2)) > cursor.result.total_size:
        raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
    return _page_response(org, version, m.group(1), int(m.group(2)))


def _page_response(org: Org, version: str, locator: str, offset: int) -> Response:
    cursor = org.cursor(locator)
    assert cursor is not None
    result = cursor.result
    end = offset + cursor.batch
    chunk = result.rows[offset:end]
    with org.store.lock:
        page = _page(chunk, result.render, result.total_size, None)
    if end < result.total_size:
        page["done"] = False
        page["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
    return Response(200, page)


def _page(
    chunk: list[dict[str, Any]], render: Any, total: int, next_url: str | None
) -> dict[str, Any]:
    return {"totalSize": total, "done": next_url is None, "records": [render(r) for r in chunk]}


# --- sObjects --------------------------------------------------------------------------------
def _sobjects(org: Org, req: Request, version: str, parts: list[str]) -> Response:
    seen = access.of(org.store.meta)
    if not parts:
        return _only(req, "GET", lambda: Response(200, describe_global(version, seen)))
    obj = rows.object_or_404(parts[0])
    if not seen.can_read(obj.name):
        raise not_found()
    if len(parts) == 1:
        if req.method == "POST":
            return rows.create_row(org, req, obj, version)
        return _only(
            req,
            "GET",
            lambda: Response(
                200,
                {
                    "objectDescribe": describe(obj, version, seen) | {"fields": None},
                    "recentItems": [],
                },
            ),
            "POST",
        )
    if len(parts) == 2 and parts[1] == "describe":
        return _only(req, "GET", lambda: Response(200, describe(obj, version, seen)))
    if len(parts) == 2 and parts[1] == "deleted":
        return _only(req, "GET", lambda: replication.get_deleted(org, req, obj))
    if len(parts) == 2:
        if req.method == "GET":
            return rows.get_row(org, req, obj, parts[1], version)
        if req.method == "PATCH":
            return rows.update_row(org, req, obj, parts[1])
        if req.method == "DELETE":
            return rows.delete_row(org, req, obj, parts[1])
        raise ApiError(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{req.method}' not allowed. Allowed are GET,PATCH,DELETE",
        )
    raise not_found()


def _collections(org: Org, req: Request, version: str, parts: list[str]) -> Response:
    if parts:
        obj = rows.object_or_404(parts[0])
        return _only(
            req, "GET", lambda: composite.collection_retrieve(org, req, obj, version), "POST"
        )
    if req.method in ("POST", "PATCH"):
        return composite.collection_write(org, req, creating=req.method == "POST")
    if req.method == "DELETE":
        return composite.collection_delete(org, req)
    raise ApiError(
        405,
        "METHOD_NOT_ALLOWED",
        f"HTTP Method '{req.method}' not allowed. Allowed are POST,PATCH,DELETE",
    )
