from __future__ import annotations

from datetime import UTC, date, datetime

from worker.sfdc import mapping


def test_parses_salesforce_datetimes_with_millis_and_compact_offsets() -> None:
    assert mapping.parse_datetime("2013-05-20T20:49:32.000+0000") == datetime(
        2013, 5, 20, 20, 49, 32, tzinfo=UTC
    )
    assert mapping.parse_datetime("garbage") is None


def test_lead_row_keeps_fields_and_drops_attributes() -> None:
    row = mapping.lead_row(
        {
            "attributes": {"type": "Lead"},
            "Id": "00QA",
            "OwnerId": "00G1",
            "IsConverted": False,
            "Company": "Acme",
            "LastActivityDate": "2026-11-20",
            "Owner": {"Name": "Q"},
        }  # fmt: skip
    )
    assert row.lead.fields == {"Id": "00QA", "OwnerId": "00G1", "IsConverted": False,
                               "Company": "Acme", "LastActivityDate": "2026-11-20"}  # fmt: skip
    assert row.last_activity == date(2026, 11, 20) and row.owner_id == "00G1"


def test_collection_errors_use_status_code() -> None:
    result = mapping.write_result(
        "00QA", {"success": False, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "m"}]}
    )
    assert (result.success, result.error_code) == (False, "UNABLE_TO_LOCK_ROW")
