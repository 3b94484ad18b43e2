"""The team's day, read side, on SQLite and PostgreSQL: assignments per rep since an
instant, open SLA clocks, a rep's own leads, the saved routing state, a lead's newest
decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from worker.routing.state import PoolState, RoutingState, state_to_json
from worker.store.db import make_engine, session_scope, upgrade
from worker.store.models.journal import JournalRow
from worker.store.models.worker_state import RoutingStateRow
from worker.store.queries import team_day

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
ANNA, BEN = "anna@x.example", "ben@x.example"


def _decision(n: int, minutes_ago: float, **kw: object) -> JournalRow:
    at = NOW - timedelta(minutes=minutes_ago)
    values: dict[str, object] = {
        "lead_id": f"00Q{n:015d}", "cycle_id": "c", "kind": "route", "status": "applied",
        "owner_id": "005A", "owner_name": "Anna", "rep_key": ANNA, "pool": "smb",
        "decided_at": at, "applied_at": at, "lead_name": f"Lead {n}",
    }  # fmt: skip
    values.update(kw)
    return JournalRow(**values)  # type: ignore[arg-type]


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    upgrade(store_url)
    engine = make_engine(store_url)
    with session_scope(engine) as s:
        s.add_all(
            [
                _decision(1, 10, sla_state="open", sla_due_at=NOW + timedelta(minutes=5)),
                _decision(2, 70, sla_state="open", sla_due_at=NOW - timedelta(minutes=10)),
                _decision(3, 30, sla_state="touched", sla_due_at=NOW + timedelta(minutes=30)),
                _decision(4, 60 * 20, rep_key=BEN, owner_name="Ben"),  # yesterday
                _decision(5, 5, status="held", rep_key=None, owner_id=None),
                _decision(
                    6,
                    15,
                    kind="sla_reassign",
                    rep_key=BEN,
                    owner_name="Ben",
                    sla_state="open",
                    sla_due_at=NOW + timedelta(hours=3),
                ),  # fmt: skip
                _decision(7, 20, status="failed"),
                _decision(8, 2, kind="sla_remind"),  # a note: gives nobody a lead
            ]
        )
    yield engine
    engine.dispose()


def test_assigned_per_rep_counts_applied_assignments_from_an_instant(engine) -> None:  # type: ignore[no-untyped-def]
    today = NOW - timedelta(hours=2)
    assert team_day.assigned_per_rep(engine, today) == {ANNA: 3, BEN: 1}
    assert team_day.assigned_per_rep(engine, NOW - timedelta(days=2)) == {ANNA: 3, BEN: 2}
    assert team_day.assigned_per_rep(engine, today, NOW - timedelta(minutes=20)) == {ANNA: 2}


def test_open_sla_clocks_soonest_due_first_untouched_only(engine) -> None:  # type: ignore[no-untyped-def]
    rows = team_day.open_sla_clocks(engine, NOW + timedelta(hours=1))
    assert [r["lead_id"][-1] for r in rows] == ["2", "1"]
    assert rows[0]["sla_due_at"] == NOW - timedelta(minutes=10)
    assert rows[0]["applied_at"].tzinfo is not None
    assert len(team_day.open_sla_clocks(engine, NOW + timedelta(days=1))) == 3
    recent = team_day.open_sla_clocks(engine, NOW + timedelta(days=1), due_since=NOW)
    assert [r["lead_id"][-1] for r in recent] == ["1", "6"]  # lead 2, overdue: left out


def test_untouched_per_rep(engine) -> None:  # type: ignore[no-untyped-def]
    assert team_day.untouched_per_rep(engine, NOW - timedelta(days=7)) == {ANNA: 2, BEN: 1}
    assert team_day.untouched_per_rep(engine, NOW - timedelta(minutes=5)) == {ANNA: 1, BEN: 1}


def test_a_reps_leads_newest_first_including_leads_moved_to_them(engine) -> None:  # type: ignore[no-untyped-def]
    rows = team_day.rep_leads(engine, BEN, NOW - timedelta(days=2))
    assert [(r["lead_id"][-1], r["kind"]) for r in rows] == [("6", "sla_reassign"), ("4", "route")]
    assert team_day.rep_leads(engine, BEN, NOW - timedelta(hours=1))[0]["decided_at"].tzinfo


def test_routing_state_as_saved_and_empty_when_unreadable(engine) -> None:  # type: ignore[no-untyped-def]
    assert team_day.routing_state(engine) == RoutingState()
    saved = RoutingState(pools={"smb": PoolState(credits={ANNA: 0.5, BEN: -0.5})})
    with session_scope(engine) as s:
        s.add(RoutingStateRow(id=1, version=1, state=state_to_json(saved), updated_by="w"))
    assert team_day.routing_state(engine).pools["smb"].credits == {ANNA: 0.5, BEN: -0.5}
    with session_scope(engine) as s:
        row = s.get(RoutingStateRow, 1)
        assert row is not None
        row.state = '{"v": 99}'
    assert team_day.routing_state(engine) == RoutingState()


def test_latest_decision_of_a_lead(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        s.add(_decision(1, 1, kind="sla_reassign", rep_key=BEN))
    found = team_day.latest_decision_id(engine, "00Q000000000000001")
    with session_scope(engine) as s:
        row = s.get(JournalRow, found)
        assert row is not None and row.kind == "sla_reassign"
    assert team_day.latest_decision_id(engine, "00Q000000000000099") is None
