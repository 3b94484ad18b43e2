"""Which kind of call a request is, for the latency profile, and how many records it
carries (the calls whose time grows with their size)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from devkit.sandbox.web import Request

_DATA = re.compile(r"^/services/data/v\d{2}\.\d(?:/(.*?))?/?$")


def classify(req: Request) -> tuple[str, int]:
    """``(kind, records)`` for a data API request (``records`` is 1 where size does
    not matter)."""
    m = _DATA.match(req.path)
    parts = [p for p in (m.group(1) or "").split("/") if p] if m else []
    head = parts[0] if parts else ""
    if head in ("query", "queryAll"):
        return ("query_more" if len(parts) == 2 else "query"), 1
    if head == "composite" and len(parts) >= 2 and parts[1] == "sobjects":
        if len(parts) > 2:
            return "collections_retrieve", 1
        return "collections_write", _collection_size(req)
    if head == "composite" and len(parts) == 1:
        return "composite", _body_list_size(req, "compositeRequest")
    if head == "sobjects" and len(parts) == 3 and parts[2] in ("updated", "deleted"):
        return "replication", 1
    if head == "sobjects" and len(parts) == 3 and parts[2] != "describe":
        return "sobject_row", 1
    if head == "sobjects" and len(parts) == 2 and req.method == "POST":
        return "sobject_row", 1
    return "metadata", 1


def draws(req: Request) -> list[tuple[str, int]]:
    """Every ``(kind, records)`` draw a data API request's time is made of: its own kind
    (:func:`classify`) and, for a Composite request, one ``composite_query`` draw per
    query subrequest (GET ``.../query`` or ``.../queryAll``, a next page too). The
    ``composite`` draw prices the subrequests as DML at 7.5 ms each, which would make a
    query inside a Composite nearly free: it costs a query's server time (a query call
    less the request's own overhead, which the Composite call pays once)."""
    kind, records = classify(req)
    if kind != "composite":
        return [(kind, records)]
    subs = _body_list(req, "compositeRequest") or []
    queries = [q for q in (_query_kind(s) for s in subs) if q]
    return [(kind, records), *(("composite_query", 1) for _ in queries)]


def _query_kind(sub: Any) -> str | None:
    if (
        not isinstance(sub, dict)
        or sub.get("method") != "GET"
        or not isinstance(sub.get("url"), str)
    ):
        return None
    m = _DATA.match(urlsplit(sub["url"]).path)
    parts = [p for p in (m.group(1) or "").split("/") if p] if m else []
    if parts and parts[0] in ("query", "queryAll"):
        return "query_more" if len(parts) == 2 else "query"
    return None


def _collection_size(req: Request) -> int:
    if req.method == "DELETE":
        return len([i for i in (req.param("ids") or "").split(",") if i])
    return _body_list_size(req, "records")


def _body_list_size(req: Request, key: str) -> int:
    items = _body_list(req, key)
    return len(items) if items is not None else 1


def _body_list(req: Request, key: str) -> list[Any] | None:
    try:
        body = json.loads(req.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    items = body.get(key) if isinstance(body, dict) else None
    return items if isinstance(items, list) else None
