"""Which kind of call a request is, for the latency profile, and how many records it
carries (the calls whose time grows with their size)."""

from __future__ import annotations

import json
import re

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


def _collection_size(req: Request) -> int:
    if req.method == "DELETE":
        return len([i for i in (req.param("ids") or "").split(",") if i])
    return _body_list_size(req, "records")


def _body_list_size(req: Request, key: str) -> int:
    try:
        body = json.loads(req.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return 1
    items = body.get(key) if isinstance(body, dict) else None
    return len(items) if isinstance(items, list) else 1
