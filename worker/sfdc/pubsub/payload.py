"""A new lead's record from its ``CREATE`` change event, in the shape a read returns
(pure: no network, no clock).

A create event carries every field of the new record that has a value ("Change Event
Body Fields"), so routing it needs no read by Id: :func:`created_record` rebuilds the
JSON record a SOQL read or a retrieve would return for the fields the worker selects,
and :func:`mapping.lead_row` makes of it the same :class:`LeadRow` a read would.

What an event is not a read of:

- ``Id`` is not in the body (the header's ``recordIds`` is), nor ``SystemModstamp``
  (a fresh lead's is its ``LastModifiedDate``, else its ``CreatedDate``) nor, in some
  orgs, ``LastActivityDate`` (a fresh lead has none) and ``IsConverted`` (it is not);
- compound fields are nested records (``Name``: Salutation, FirstName, LastName;
  ``Address``: Street, City, State, PostalCode, Country, and where the org has them
  StateCode, CountryCode, Latitude, Longitude, GeocodeAccuracy): their children are the
  fields a read returns, flattened whatever the compound;
- dateTimes are epoch milliseconds and dates epoch days: turned into
  ``2013-05-20T20:49:32.000+0000`` and ``2013-05-20`` as a read gives them, by the
  field's describe type (the Avro type alone does not tell a date from an int);
- formula fields are never in change events: an event whose schema lacks a selected
  field is no record of it (None: the lead is read as before).

Names are matched case-insensitively (Salesforce's names are) and keyed as the event
schema spells them, which is the API name a read keys its answer with.

Freshness (:func:`known_leads`): a create is taken only when no later event of the
batch (but our own writes') names its lead; otherwise the lead is read. An update made
after the batch was cut is not seen by the decision, exactly as an update made after a
read is not: the owner re-read before the write still guards the owner.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from worker.sfdc.ids import MalformedId, normalise
from worker.sfdc.mapping import LeadRow, lead_row
from worker.sfdc.pubsub.bitmaps import BitmapError, Schema, layout
from worker.sfdc.pubsub.subscriber import ChangeEvent

Record = dict[str, Any]  # a lead as a read's JSON gives it
HEADER = "ChangeEventHeader"
EPOCH_DAY = date(1970, 1, 1)
TEXT_TYPES = frozenset({
    "string", "picklist", "multipicklist", "combobox", "email", "url", "phone", "textarea",
    "reference", "id", "encryptedstring",
})  # fmt: skip


class _Unsure(Exception):
    """A value the event gives in a form we cannot turn into a read's for certain."""


def created_record(
    event: ChangeEvent, types: Mapping[str, str], fields: Sequence[str]
) -> Record | None:
    """The record a read of ``fields`` would return for the lead ``event`` creates, or
    None when the event cannot stand for that read: not a create, several records or a
    malformed Id, our own write, a selected field the event's schema lacks (a formula) or
    whose value or describe type (``types``: lower-case name -> type) is not known."""
    lead_id = _created_id(event)
    if lead_id is None or event.schema is None:
        return None
    try:
        values = _flat_values(event.schema.json, event.fields)
        record: Record = {"Id": lead_id}
        for name in fields:
            if name.lower() != "id":
                spelled, value = _field(name, values, types)
                record[spelled] = value
        return record
    except _Unsure:
        return None


def known_leads(
    events: Sequence[ChangeEvent], types: Mapping[str, str], fields: Sequence[str]
) -> dict[str, LeadRow]:
    """Lead Id -> its row, for each lead a batch's create event stands for (see
    :func:`created_record`) and no later event of the batch (but our own) names."""
    out: dict[str, LeadRow] = {}
    for n, event in enumerate(events):
        record = created_record(event, types, fields)
        if record is not None and not _named_later(events[n + 1 :], record["Id"]):
            out[record["Id"]] = lead_row(record)
    return out


def _created_id(event: ChangeEvent) -> str | None:
    header = event.header
    if event.ours or header.entity != "Lead" or header.change_type != "CREATE":
        return None
    if len(header.record_ids) != 1:
        return None
    lead_id = header.record_ids[0]
    try:  # the 18-character form a read returns, or a read
        return lead_id if normalise(lead_id) == lead_id else None
    except MalformedId:
        return None


def _named_later(later: Sequence[ChangeEvent], lead_id: str) -> bool:
    """Whether a later event (not our own write) names the lead: an update, a delete, a
    gap, or an overflow's wildcard (``00Q*``)."""
    for event in later:
        if event.ours:
            continue
        for named in event.header.record_ids:
            if named == lead_id or (named.endswith("*") and lead_id.startswith(named[:-1])):
                return True
    return False


def _flat_values(schema: Schema, body: Mapping[str, Any]) -> dict[str, tuple[str, Any]]:
    """Lower-case name -> (the schema's spelling, value) for every field the event can
    carry, compound fields' children in their parent's place."""
    try:
        fields = layout(schema)
    except BitmapError:
        raise _Unsure from None
    out: dict[str, tuple[str, Any]] = {}
    for name, children in fields:
        if name == HEADER:
            continue
        value = body.get(name)
        if children is None:
            out.setdefault(name.lower(), (name, value))
            continue
        if value is not None and not isinstance(value, Mapping):
            raise _Unsure
        for child in children:
            out.setdefault(child.lower(), (child, value.get(child) if value else None))
    return out


def _field(
    name: str, values: Mapping[str, tuple[str, Any]], types: Mapping[str, str]
) -> tuple[str, Any]:
    """A selected field as a read returns it: (its spelling, its JSON value)."""
    key = name.lower()
    if key in values:
        spelled, value = values[key]
        kind = types.get(key)
        if kind is None:
            raise _Unsure
        return spelled, json_value(kind, value)
    if key == "systemmodstamp":  # a fresh lead's last change is its creation
        stamp = _first_stamp(values, ("lastmodifieddate", "createddate"))
        return "SystemModstamp", stamp
    if key == "lastactivitydate":
        return "LastActivityDate", None
    if key == "isconverted":
        return "IsConverted", False
    raise _Unsure  # not in the event: a formula, or a field the channel leaves out


def _first_stamp(values: Mapping[str, tuple[str, Any]], keys: Sequence[str]) -> str:
    for key in keys:
        stamp = json_value("datetime", values.get(key, ("", None))[1])
        if stamp is not None:
            return str(stamp)
    raise _Unsure


def json_value(kind: str, value: Any) -> Any:
    """An event's value of a field of describe type ``kind`` as a read's JSON gives it."""
    if value is None:
        return None
    convert = _CONVERTERS.get(kind, _text if kind in TEXT_TYPES else None)
    if convert is None:  # time, base64, location...: no certain form
        raise _Unsure
    try:
        return convert(value)
    except (OverflowError, ValueError, OSError):
        raise _Unsure from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise _Unsure
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Unsure
    return value


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Unsure
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Unsure
    return float(value)


def _datetime(value: Any) -> str:
    """Epoch milliseconds (or a decoded datetime) -> ``YYYY-MM-DDTHH:MM:SS.mmm+0000``."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        millis = moment.microsecond // 1000
    else:
        ms = _integer(value)
        moment, millis = datetime.fromtimestamp(ms // 1000, UTC), ms % 1000
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis:03d}+0000"


def _date(value: Any) -> str:
    """Epoch days (or a decoded date) -> ``YYYY-MM-DD``."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    return (EPOCH_DAY + timedelta(days=_integer(value))).isoformat()


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "boolean": _boolean, "int": _integer, "double": _number, "currency": _number,
    "percent": _number, "datetime": _datetime, "date": _date,
}  # fmt: skip
