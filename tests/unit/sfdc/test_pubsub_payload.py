"""A create event's payload -> the record a read returns (hand-built events)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from tests.unit.sfdc.lead_events import create_event, lead_schema
from worker.sfdc.ids import to18
from worker.sfdc.mapping import lead_row
from worker.sfdc.pubsub.payload import created_record, known_leads

TYPES = {
    "Id": "id", "OwnerId": "reference", "Status": "picklist", "IsConverted": "boolean",
    "CreatedDate": "datetime", "LastModifiedDate": "datetime", "SystemModstamp": "datetime",
    "LastActivityDate": "date", "ConvertedDate": "date", "Salutation": "picklist",
    "FirstName": "string", "LastName": "string", "Name": "string", "Company": "string",
    "Email": "email", "Street": "textarea", "City": "string", "State": "string",
    "PostalCode": "string", "Country": "string", "StateCode": "picklist",
    "CountryCode": "picklist", "Latitude": "double", "Longitude": "double",
    "GeocodeAccuracy": "picklist", "NumberOfEmployees": "int", "AnnualRevenue": "currency",
    "Score__c": "percent", "IsUnreadByOwner": "boolean", "Region__c": "string",
}  # fmt: skip
DESCRIBED = {k.lower(): v for k, v in TYPES.items()}
FORMULA = "Region__c"  # in the describe, never in change events
SCHEMA = lead_schema(TYPES, left_out=[FORMULA])
LEAD = to18("00Q000000000001")
OTHER = to18("00Q000000000002")
QUEUE = to18("00G000000000001")
CREATED = datetime(2026, 11, 23, 14, 0, 5, 123_000, tzinfo=UTC)
MODIFIED = datetime(2026, 11, 23, 14, 0, 6, tzinfo=UTC)


def sf(at: datetime) -> str:
    """A dateTime as a read's JSON gives it."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}+0000"


READ: dict[str, Any] = {  # the lead as a read returns it
    "Id": LEAD, "OwnerId": QUEUE, "Status": "Open - Not Contacted", "IsConverted": False,
    "CreatedDate": sf(CREATED), "LastModifiedDate": sf(MODIFIED),
    "SystemModstamp": sf(MODIFIED), "LastActivityDate": None, "ConvertedDate": "2026-11-20",
    "Salutation": "Dr.", "FirstName": "Ada", "LastName": "Lovelace", "Company": "Engines",
    "Email": "ada@engines.example", "Street": None, "City": "London", "State": None,
    "PostalCode": "NW1", "Country": "United Kingdom", "StateCode": None, "CountryCode": "GB",
    "Latitude": 51.5, "Longitude": -0.125, "GeocodeAccuracy": None,
    "NumberOfEmployees": 250, "AnnualRevenue": 1500000.0, "Score__c": 12.5,
    "IsUnreadByOwner": True,
}  # fmt: skip
EVERYTHING = tuple(k for k in READ if k != "LastModifiedDate")


def event(record: dict[str, Any] | None = None, **kw: Any) -> Any:
    return create_event(READ if record is None else record, TYPES, SCHEMA, **kw)


def test_a_create_gives_the_record_a_read_returns() -> None:
    record = created_record(event(), DESCRIBED, EVERYTHING)
    assert record == {k: READ[k] for k in EVERYTHING}
    assert lead_row(record or {}) == lead_row({k: READ[k] for k in EVERYTHING})


def test_compound_fields_are_flattened_whatever_their_parts() -> None:
    record = created_record(event(), DESCRIBED, ("Id", "FirstName", "Salutation", "City",
                                                 "CountryCode", "Latitude"))  # fmt: skip
    assert record == {"Id": LEAD, "FirstName": "Ada", "Salutation": "Dr.", "City": "London",
                      "CountryCode": "GB", "Latitude": 51.5}  # fmt: skip
    empty = dict(READ, **dict.fromkeys(("Street", "City", "PostalCode", "Country",
                                         "CountryCode", "Latitude", "Longitude"), None))  # fmt: skip
    no_address = event(empty)
    assert no_address.fields["Address"] is None  # a null compound: its parts are null
    assert created_record(no_address, DESCRIBED, ("Id", "City", "Country")) == {
        "Id": LEAD, "City": None, "Country": None,
    }  # fmt: skip


def test_values_take_the_form_a_read_gives_them() -> None:
    record = created_record(event(), DESCRIBED, EVERYTHING) or {}
    assert record["CreatedDate"] == sf(CREATED)  # epoch ms -> ...T14:00:05.123+0000
    assert datetime.fromisoformat(record["CreatedDate"]) == CREATED
    assert record["ConvertedDate"] == date(2026, 11, 20).isoformat()  # epoch days
    assert record["NumberOfEmployees"] == READ["NumberOfEmployees"]
    assert isinstance(record["NumberOfEmployees"], int)
    assert isinstance(record["AnnualRevenue"], float)  # currency: a JSON number
    assert record["Score__c"] == READ["Score__c"]
    assert record["IsUnreadByOwner"] is True
    assert record["IsConverted"] is False
    assert record["Street"] is None and record["LastActivityDate"] is None


def test_names_match_case_insensitively_and_keep_salesforce_spelling() -> None:
    record = created_record(event(), DESCRIBED, ("id", "company", "NUMBEROFEMPLOYEES"))
    # keyed as the schema (and a read's answer) spell them
    assert record == {"Id": LEAD, "Company": "Engines", "NumberOfEmployees": 250}


def test_a_selected_field_the_event_lacks_means_a_read() -> None:
    assert created_record(event(), DESCRIBED, ("Id", "Company", FORMULA)) is None  # formula
    assert created_record(event(), DESCRIBED, ("Id", "Name")) is None  # the compound's whole
    assert created_record(event(), DESCRIBED, ("Id", "Nope__c")) is None
    untyped = {k: v for k, v in DESCRIBED.items() if k != "company"}
    assert created_record(event(), untyped, ("Id", "Company")) is None  # type not described
    assert created_record(event(), DESCRIBED, ("Id", "Company")) is not None


def test_only_a_single_record_create_of_someone_else_stands_for_a_read() -> None:
    fields = ("Id", "Company")
    other = OTHER
    assert created_record(event(kind="UPDATE"), DESCRIBED, fields) is None
    assert created_record(event(kind="UNDELETE"), DESCRIBED, fields) is None
    assert created_record(event(ids=(LEAD, other)), DESCRIBED, fields) is None
    ours = event(origin="com/salesforce/api/rest/62.0;client=leadrouter")
    assert created_record(ours, DESCRIBED, fields) is None
    assert created_record(event(ids=(LEAD[:15],)), DESCRIBED, fields) is None  # not 18
    assert created_record(event(ids=(LEAD.lower(),)), DESCRIBED, fields) is None  # not its case
    assert created_record(replace(event(), schema=None), DESCRIBED, fields) is None


def test_a_value_of_an_unexpected_form_means_a_read() -> None:
    bent = event()
    bent.fields["NumberOfEmployees"] = "many"
    assert created_record(bent, DESCRIBED, ("Id", "NumberOfEmployees")) is None
    timed = {**DESCRIBED, "company": "time"}  # a type with no certain form
    assert created_record(event(), timed, ("Id", "Company")) is None


@pytest.mark.parametrize(
    ("present", "expected"),
    [({"LastModifiedDate": sf(MODIFIED)}, sf(MODIFIED)), ({"LastModifiedDate": None}, sf(CREATED))],
)
def test_bookkeeping_a_fresh_lead_does_without(present: dict[str, Any], expected: str) -> None:
    types = {k: v for k, v in TYPES.items() if k not in ("LastActivityDate", "IsConverted")}
    schema = lead_schema(types, left_out=[FORMULA])
    lead = create_event(dict(READ, **present), types, schema)
    record = created_record(lead, DESCRIBED, ("Id", "SystemModstamp", "LastActivityDate",
                                              "IsConverted"))  # fmt: skip
    assert record == {"Id": LEAD, "SystemModstamp": expected, "LastActivityDate": None,
                      "IsConverted": False}  # fmt: skip


def test_a_later_event_of_the_batch_means_a_read() -> None:
    fields = ("Id", "Company")
    other = dict(READ, Id=OTHER)
    created = [event(n=1), event(other, n=2)]
    assert set(known_leads(created, DESCRIBED, fields)) == {LEAD, other["Id"]}
    updated = event(kind="UPDATE", n=3)
    assert set(known_leads([*created, updated], DESCRIBED, fields)) == {other["Id"]}
    assert set(known_leads([updated, *created], DESCRIBED, fields)) == {LEAD, other["Id"]}
    ours = event(kind="UPDATE", n=3, origin="com/salesforce/api/rest/62.0;client=leadrouter")
    assert set(known_leads([*created, ours], DESCRIBED, fields)) == {LEAD, other["Id"]}
    deleted = event(other, kind="DELETE", n=4)
    assert set(known_leads([*created, deleted], DESCRIBED, fields)) == {LEAD}
    overflow = event(kind="GAP_OVERFLOW", ids=("00Q*",), n=5)
    assert known_leads([*created, overflow], DESCRIBED, fields) == {}
