"""Who is writing, for a change event's ``changeOrigin`` (no gRPC here: the HTTP side
imports it).

Salesforce fills ``changeOrigin`` for API writes as ``com/salesforce/api/rest/<version>``
and appends ``;client=<id>`` when the request carried ``Sforce-Call-Options: client=<id>``
(a client recognises its own writes by it). The request pipeline sets the value for the
thread that applies the request; a write with none set (a person in the sandbox's admin
operations, seeding) gets an empty origin.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_current = threading.local()
_VERSION = re.compile(r"^/services/data/v(\d+\.\d+)(/|$)")


def rest_origin(path: str, call_options: str | None) -> str:
    """The ``changeOrigin`` of a REST request to ``path`` with that header."""
    match = _VERSION.match(path)
    origin = f"com/salesforce/api/rest/{match.group(1) if match else '59.0'}"
    for option in (call_options or "").split(","):
        key, _, value = option.strip().partition("=")
        if key.strip() == "client" and value.strip():
            origin += f";client={value.strip()}"
    return origin


@contextmanager
def writing_as(origin: str, user_id: str | None = None) -> Iterator[None]:
    """Writes on this thread inside the block carry ``origin`` and ``user_id`` (the
    session's user, the event's ``commitUser``)."""
    before = (getattr(_current, "origin", ""), getattr(_current, "user_id", None))
    _current.origin, _current.user_id = origin, user_id
    try:
        yield
    finally:
        _current.origin, _current.user_id = before


def current_origin() -> str:
    return str(getattr(_current, "origin", ""))


def current_user() -> str | None:
    user = getattr(_current, "user_id", None)
    return str(user) if user else None
