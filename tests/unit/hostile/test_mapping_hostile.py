"""Salesforce JSON -> domain objects with hostile records: never raises, keeps the lead.

There is no "bad record" error in :mod:`worker.sfdc.mapping`: by design every value that
cannot be parsed becomes None (one bad record must never stop a cycle), so the property
is simply "never raises" plus "nothing of the lead is lost or invented".
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.hostile.strategies import LEAD_ID, any_value, dates, lead_records, text
from worker.sfdc import mapping

FAST = settings(max_examples=150, deadline=None)


def _truthy(value: object) -> bool:
    """What a Salesforce boolean means, written out independently of the code under test."""
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


@FAST
@given(record=lead_records())
def test_lead_row_never_raises_and_keeps_every_scalar_field(record: dict[str, Any]) -> None:
    row = mapping.lead_row(record)
    assert row.id == record["Id"]
    expected = {k: v for k, v in record.items() if k != "attributes" and not isinstance(v, dict)}
    assert dict(row.lead.fields) == expected
    assert isinstance(row.owner_id, str)
    assert row.status is None or (isinstance(row.status, str) and row.status)
    assert row.is_converted is _truthy(record.get("IsConverted"))
    for stamp in (row.modstamp, row.lead.created_at):
        assert stamp is None or (isinstance(stamp, datetime) and stamp.tzinfo is not None)
    assert row.last_activity is None or isinstance(row.last_activity, date)


@pytest.mark.parametrize(("value", "converted"), [("false", False), ("FALSE", False),
                         ("true", True), (False, False), (True, True), (None, False), (0, False)])  # fmt: skip
def test_a_boolean_sent_as_text_means_what_it_says(value: object, converted: bool) -> None:
    """``"false"`` is truthy in Python: read as-is it would mark an open lead converted,
    and the worker would close it out instead of routing it."""
    record = {"Id": "00Q000000000001AAA", "IsConverted": value}
    assert mapping.lead_row(record).is_converted is converted
    assert mapping.owner_row(record).is_converted is converted


@FAST
@given(value=st.one_of(any_value, dates))
def test_date_parsers_return_a_value_or_none(value: object) -> None:
    parsed = mapping.parse_datetime(value)
    assert parsed is None or (parsed.tzinfo is not None and 1700 <= parsed.year <= 4000)
    day = mapping.parse_date(value)
    assert day is None or (isinstance(day, date) and 1700 <= day.year <= 4000)


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000-1400",
                                   "9999-12-31T23:59:59.000+0000", "1699-12-31"])  # fmt: skip
def test_dates_outside_salesforce_range_are_none(stamp: str) -> None:
    """A year-1 SystemModstamp as the intake watermark made every later cycle overflow
    (``watermark - overlap``); a year-9999 one would hide every later lead."""
    assert mapping.parse_datetime(stamp) is None and mapping.parse_date(stamp) is None


@FAST
@given(record=lead_records(), active=st.dictionaries(text, st.booleans(), max_size=3))
def test_other_record_kinds_never_raise(record: dict[str, Any], active: dict[str, bool]) -> None:
    """Users, accounts, contacts and owner rows built from the same hostile values."""
    mapping.owner_row(record)
    user = mapping.user_row(record | {"Manager": record.get("attributes")})
    assert user.id == record["Id"] and isinstance(user.is_active, bool)
    account = mapping.account(record | {"Owner": record.get("attributes")}, active)
    assert account.id == record["Id"]
    assert account.employees is None or isinstance(account.employees, int)
    known = mapping.known_email(record, "contact", active)
    assert known is None or known.email == str(record.get("Email")).lower()


@FAST
@given(
    lead_id=LEAD_ID, entry=st.dictionaries(st.sampled_from(["success", "errors", "id"]), any_value)
)
def test_write_results_of_any_shape_never_raise(lead_id: str, entry: dict[str, Any]) -> None:
    result = mapping.write_result(lead_id, entry)
    assert result.lead_id == lead_id
    assert result.success or (result.error_code and len(result.message) <= 500)
