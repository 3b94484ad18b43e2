"""Held-lead snapshots: what comes out is what went in, and the cache stays bounded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from worker.runtime.held_cache import HeldSnapshots
from worker.sfdc.mapping import LeadRow, lead_row

RECORD = {
    "attributes": {"type": "Lead", "url": "/services/data/v60.0/sobjects/Lead/00Q000000000001AAA"},
    "Id": "00Q000000000001AAA",
    "OwnerId": "00G000000000001AAA",
    "Status": "Open - Not Contacted",
    "IsConverted": False,
    "Company": "Zürich Ünïcode AG \u2603",
    "Email": "anna@example.ch",
    "NumberOfEmployees": 1200,
    "AnnualRevenue": 12.5,
    "Country": None,
    "CreatedDate": "2026-11-23T10:00:00.000+0000",
    "SystemModstamp": "2026-11-23T10:00:01.123+0000",
    "LastActivityDate": "2026-11-22",
}


def test_a_snapshot_comes_back_equal_to_the_row_kept() -> None:
    row = lead_row(RECORD)
    cache = HeldSnapshots()
    assert cache.put(row)
    back = cache.get(row.id)
    assert back == row
    assert back is not None and back.lead.fields == row.lead.fields
    assert back.modstamp == datetime(2026, 11, 23, 10, 0, 1, 123000, tzinfo=UTC)
    assert back.last_activity == date(2026, 11, 22)


def test_rows_built_by_hand_keep_their_bookkeeping_fields() -> None:
    row = LeadRow(
        lead=lead_row({"Id": "00Q000000000002AAA"}).lead,
        owner_id="00G000000000009AAA",
        status=None,
        is_converted=True,
        modstamp=None,
        last_activity=None,
    )
    cache = HeldSnapshots()
    cache.put(row)
    assert cache.get(row.id) == row


def test_the_cache_is_bounded_and_refreshes_rows_it_holds() -> None:
    cache = HeldSnapshots(max_rows=2)
    rows = [lead_row(RECORD | {"Id": f"00Q00000000000{i}AAA"}) for i in range(3)]
    assert cache.put(rows[0]) and cache.put(rows[1])
    assert not cache.put(rows[2]) and rows[2].id not in cache
    newer = lead_row(RECORD | {"Id": rows[0].id, "Status": "Working"})
    assert cache.put(newer)
    got = cache.get(rows[0].id)
    assert got is not None and got.status == "Working"
    cache.pop(rows[0].id)
    assert cache.get(rows[0].id) is None and len(cache) == 1


def test_a_row_json_cannot_hold_is_dropped_not_kept_stale() -> None:
    cache = HeldSnapshots()
    row = lead_row(RECORD)
    cache.put(row)
    odd = lead_row(RECORD | {"Huge__c": 2**70})  # beyond 64 bits: orjson refuses it
    assert not cache.put(odd)
    assert cache.get(row.id) is None  # re-read when retried, never the older snapshot
