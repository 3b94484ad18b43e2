"""sObject Get Deleted: ``GET /services/data/vXX.X/sobjects/{Object}/deleted/?start=&end=``.

As documented (REST API "sObject Get Deleted", v29.0+, and SOAP ``getDeleted()`` "Rules and
Guidelines", which the REST page points to):

- ``start`` and ``end`` are ISO 8601 date-times in UTC; the seconds are ignored (12:30:15
  is read as 12:30:00).
- ``start`` must precede ``end`` by more than one minute, else ``INVALID_REPLICATION_DATE``.
- Results go back no more than 15 days before the day of the call, or less when the
  Recycle Bin was purged since; a ``start`` before that is ``INVALID_REPLICATION_DATE`` (the
  client must then re-read the whole table).
- More than 600,000 ids is ``EXCEEDED_ID_LIMIT``.
- The answer: ``{"deletedRecords": [{"id", "deletedDate"}], "earliestDateAvailable",
  "latestDateCovered"}``; ``deletedDate`` comes from the record's ``SystemModstamp``;
  ``latestDateCovered`` (at most ``end``) is where the next call should start.

Here a deletion is a row with ``IsDeleted`` (its ``SystemModstamp`` set when deleted);
``latestDateCovered`` is ``end``, or the current minute when ``end`` is later; the records
returned are those deleted in ``[start, latestDateCovered)``, so consecutive calls that
start where the last one's coverage ended see each deletion once. The HTTP status of the
errors is 400, as for the other request errors (the documentation does not list one).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devkit.sandbox.org import Org
from devkit.sandbox.schema import SObject
from devkit.sandbox.soql.resolve import format_datetime
from devkit.sandbox.web import ApiError, Request, Response

RETENTION = timedelta(days=15)
MAX_IDS = 600_000
PURGED_AT = "deleted_purged_at:"  # meta key prefix: when the Recycle Bin was last emptied


def get_deleted(org: Org, req: Request, obj: SObject) -> Response:
    start = _minute(_when(req, "start"))
    end = _minute(_when(req, "end"))
    if end - start <= timedelta(minutes=1):
        raise ApiError(
            400, "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        )  # fmt: skip
    now = org.clock()
    earliest = earliest_available(org, obj.name, now)
    if start < earliest:
        raise ApiError(
            400, "INVALID_REPLICATION_DATE",
            f"startDate is before the earliest date available: {format_datetime(earliest)}",
        )  # fmt: skip
    covered = min(end, _minute(now))
    with org.store.lock:
        deleted = [
            (row["Id"], row["SystemModstamp"])
            for row in org.store.rows(obj.name, include_deleted=True)
            if row.get("IsDeleted") and start <= row["SystemModstamp"] < covered
        ]
    if len(deleted) > MAX_IDS:
        raise ApiError(
            400, "EXCEEDED_ID_LIMIT",
            f"More than {MAX_IDS} IDs found: choose start and end dates closer together",
        )  # fmt: skip
    deleted.sort(key=lambda d: (d[1], d[0]))
    return Response(
        200,
        {
            "deletedRecords": [{"id": i, "deletedDate": format_datetime(at)} for i, at in deleted],
            "earliestDateAvailable": format_datetime(earliest),
            "latestDateCovered": format_datetime(covered),
        },
    )


def earliest_available(org: Org, sobject: str, now: datetime) -> datetime:
    """15 days before the start of today (UTC), or the last purge when that is later."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    earliest = day - RETENTION
    purged = org.store.meta.get(PURGED_AT + sobject)
    if purged:
        earliest = max(earliest, datetime.fromisoformat(str(purged)))
    return earliest


def _when(req: Request, name: str) -> datetime:
    text = req.param(name)
    if not text:
        raise ApiError(400, "MISSING_ARGUMENT", f"Missing argument: {name}")
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        raise ApiError(
            400, "INVALID_REPLICATION_DATE", f"{name}: not an ISO 8601 date and time: {text}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)
