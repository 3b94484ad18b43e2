from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest

from tests.unit.hostile.strategies import LEAD_FIELDS
from worker.sfdc import soql

INJECTION = "x' OR Name LIKE '%"


def test_intake_query_orders_by_modstamp_then_id_from_the_watermark() -> None:
    q = soql.intake_query(["00G1"], datetime(2026, 1, 2, 3, 4, 5, 600, tzinfo=UTC), ("Id",))
    assert q == (
        "SELECT Id FROM Lead WHERE OwnerId IN ('00G1') AND IsConverted = false "
        "AND SystemModstamp >= 2026-01-02T03:04:05+00:00 ORDER BY SystemModstamp, Id"
    )


def test_injection_looking_values_are_quoted_everywhere() -> None:
    queries = [
        soql.accounts_by_id_query(INJECTION),
        soql.accounts_changed_query(datetime(2026, 1, 2, tzinfo=UTC), INJECTION),
        *soql.contacts_queries([INJECTION]),
        *soql.users_by_email_queries([INJECTION]),
        *soql.leads_by_id_queries([INJECTION], ("Id",)),
    ]
    for q in queries:
        assert "x\\' or name like \\'" in q.lower()
        assert " or name like '%" not in q.lower()


def test_in_lists_are_chunked_to_stay_under_the_uri_limit() -> None:
    ids = [f"00Q{i:015d}" for i in range(1_000)]
    queries = soql.leads_by_id_queries(ids, LEAD_FIELDS)
    assert len(queries) == 5
    assert all(len(quote(q)) < 14_000 for q in queries)


def test_10_kb_values_are_cut_before_they_reach_a_query() -> None:
    (q,) = soql.contacts_queries(["e" * 10_000])
    assert len(q) < 400


def test_field_names_are_checked() -> None:
    with pytest.raises(ValueError, match="not a field name"):
        soql.intake_query(["00G1"], None, ("Id, (SELECT Id FROM Tasks)",))
