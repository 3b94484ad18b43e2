"""The read side on SQLite and PostgreSQL: filters, search, paging, overview and fairness."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models.journal import JournalRow
from worker.store.queries import fairness, journal_log, overview
from worker.store.queries.journal_log import LogFilter

NOW = datetime.now(UTC).replace(microsecond=0)


def _decision(n: int, **kw: object) -> JournalRow:
    values: dict[str, object] = {
        "lead_id": f"00Q{n:015d}", "cycle_id": "c", "kind": "route", "status": "applied",
        "owner_id": "005A", "owner_name": "Anna", "rep_key": "anna@x.example", "pool": "EMEA",
        "rule": "EMEA inbound", "decided_at": NOW - timedelta(minutes=n),
        "lead_created_at": NOW - timedelta(minutes=n, seconds=10),
        "applied_at": NOW - timedelta(minutes=n) + timedelta(seconds=2),
        "lead_company": f"Company {n}", "lead_email": f"lead{n}@x.example",
    }  # fmt: skip
    values.update(kw)
    return JournalRow(**values)  # type: ignore[arg-type]


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    upgrade(store_url)
    engine = make_engine(store_url)
    with session_scope(engine) as s:
        s.add_all([_decision(n) for n in range(1, 11)])
        s.add(
            _decision(11, status="held", owner_id=None, owner_name=None, reason="nobody eligible")
        )
        s.add(
            _decision(
                12, kind="sla_reassign", previous_owner_id="005A", owner_id="005B", owner_name="Ben"
            )
        )
        s.add(_decision(13, lead_company="Acme GmbH"))
    yield engine
    engine.dispose()


def test_log_pages_newest_first_and_counts_in_sql(engine) -> None:  # type: ignore[no-untyped-def]
    rows = journal_log.log_page(engine, LogFilter(), limit=5, offset=5)
    assert [r["lead_id"][-2:] for r in rows] == ["06", "07", "08", "09", "10"]
    assert journal_log.log_count(engine, LogFilter()) == 13


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (LogFilter(outcomes=("held",)), 1),
        (LogFilter(outcomes=("reassigned",)), 1),
        (LogFilter(outcomes=("assigned",)), 11),
        (LogFilter(search="acme"), 1),
        (LogFilter(search="lead3@x.example"), 1),
        (LogFilter(search="00Q000000000000012"), 1),
        (LogFilter(search="100%"), 0),
        (LogFilter(search="x.example"), 13),  # an e-mail domain: every lead mailed there
        (LogFilter(search="@X.example"), 13),
        (LogFilter(search="gmail.com"), 0),
        (LogFilter(search="GMBH"), 1),  # any part of the company, any case
        (LogFilter(search="ompany 1"), 4),  # Company 1, 10, 11, 12
        (LogFilter(search="co_pany"), 0),  # _ is a character, not a wildcard
        (LogFilter(start=NOW - timedelta(minutes=3, seconds=30)), 3),
        (LogFilter(owners=("005B",)), 1),
    ],
)
def test_log_filters_and_search(engine, flt: LogFilter, expected: int) -> None:  # type: ignore[no-untyped-def]
    assert journal_log.log_count(engine, flt) == expected
    assert len(journal_log.log_page(engine, flt)) == expected


def test_csv_rows_stream_in_keyset_batches(engine) -> None:  # type: ignore[no-untyped-def]
    rows = list(journal_log.iter_log(engine, LogFilter(), max_rows=100, batch=4))
    assert len(rows) == 13 and len({r["id"] for r in rows}) == 13


def test_facets_list_pools_rules_and_owners(engine) -> None:  # type: ignore[no-untyped-def]
    f = journal_log.facets(engine)
    assert f.pools == ("EMEA",) and f.rules == ("EMEA inbound",)
    assert dict(f.owners) == {"005A": "Anna", "005B": "Ben"}


def test_overview_counts_and_timings(engine) -> None:  # type: ignore[no-untyped-def]
    ov = overview.overview(engine, NOW + timedelta(seconds=1))
    assert ov.routed_7d == 11 and ov.held_24h == 1 and ov.sla_reassigned_7d == 1
    assert ov.held_reasons == (("nobody eligible", 1),)
    assert ov.time_to_assign.median_s == pytest.approx(12.0, abs=0.01)


def test_fairness_target_follows_the_time_each_rep_was_eligible() -> None:
    both = {"anna": 1.0, "ben": 1.0}
    decisions = [fairness.PoolDecision(NOW, "anna", both)] * 4 + [
        fairness.PoolDecision(NOW, "anna", {"anna": 1.0})
    ] * 4  # ben away for the second half: he is owed 2, not 4
    reps, _ = fairness.audit(decisions, names={})
    assert {r.rep: (r.actual, r.target) for r in reps} == {"anna": (8, 6.0), "ben": (0, 2.0)}


def test_fairness_report_reads_eligible_weights_from_the_trace(engine) -> None:  # type: ignore[no-untyped-def]
    trace = json.dumps(
        [
            {
                "kind": "pick",
                "message": "Anna chosen",
                "data": {
                    "rep": "anna@x.example",
                    "eligible_weights": {"anna@x.example": 1, "ben@x.example": 3},
                },
            }
        ]
    )
    with session_scope(engine) as s:
        s.add_all([_decision(100 + n, pool="APAC", trace=trace) for n in range(8)])
    report = fairness.fairness_report(
        engine, "APAC", NOW - timedelta(days=1), NOW + timedelta(seconds=1)
    )
    targets = {r.rep: r.target for r in report.reps}
    assert targets == {"anna@x.example": 2.0, "ben@x.example": 6.0}
    assert report.p_value is not None and report.p_value < 0.01 and "Not fair" in report.verdict


def test_traces_without_eligible_weights_use_the_credited_reps_and_configured_weights() -> None:
    trace = json.dumps([
        {"kind": "state", "message": "credits", "data": {"before": {"a@x": 0.0, "b@x": 0.0}, "pool": "p"}},
        {"kind": "pick", "message": "A chosen", "data": {"rep": "a@x", "pool": "p"}},
    ])  # fmt: skip
    steps = fairness.parse_trace(trace)
    assert fairness.eligible_weights(steps) == {}
    assert fairness.eligible_weights(steps, {"a@x": 2.0, "b@x": 1.0, "c@x": 5.0}) == {
        "a@x": 2.0,
        "b@x": 1.0,
    }


def test_overview_today_is_the_day_of_the_zone_asked_for(store_url: str) -> None:
    """ "Leads routed today" counts the viewer's day: at 03:30 UTC it is still yesterday
    evening in New York, and 00:05 in Kolkata (a half-hour zone) is already today there."""
    from zoneinfo import ZoneInfo

    now = datetime(2026, 12, 6, 3, 30, tzinfo=UTC)
    upgrade(store_url)
    engine = make_engine(store_url)
    at = (
        datetime(2026, 12, 6, 2, 0, tzinfo=UTC),  # NY: Dec 5 21:00; Kolkata: Dec 6 07:30
        datetime(2026, 12, 5, 18, 35, tzinfo=UTC),  # NY: Dec 5 13:35; Kolkata: Dec 6 00:05
        datetime(2026, 12, 5, 6, 0, tzinfo=UTC),  # NY: Dec 5 01:00; Kolkata: Dec 5 11:30
    )
    with session_scope(engine) as s:
        s.add_all(
            [
                _decision(n, decided_at=t, applied_at=t, lead_created_at=t)
                for n, t in enumerate(at, 1)
            ]
        )
    try:
        today = {
            name: overview.overview(engine, now, tz=ZoneInfo(name)).routed_today
            for name in ("UTC", "America/New_York", "Asia/Kolkata")
        }
        assert today == {"UTC": 1, "America/New_York": 3, "Asia/Kolkata": 2}
        assert overview.overview(engine, now, tz=ZoneInfo("America/New_York")).days[-1] == (
            "2026-12-05"
        )
    finally:
        engine.dispose()
