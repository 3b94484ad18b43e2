"""Team today shaping: who is next (the routing core's own picks, proved against routing
the same leads as the worker does), the team's today and week, and SLA risk."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.shape.today_rows import (
    count_rows,
    next_up,
    next_up_rows,
    periods,
    rep_statuses,
    sla_rows,
    sla_status,
    synthetic_leads,
    team_zone,
)
from worker.routing.api import route_batch, routing_context
from worker.routing.model import (
    BusinessHours,
    Caps,
    Intake,
    Pool,
    PoolMember,
    Rep,
    RoutingConfig,
    Rule,
    Target,
)
from worker.routing.state import Counter, PoolState, RoutingState

ANNA, BEN, CARL, DORA = "anna@x.example", "ben@x.example", "carl@x.example", "dora@x.example"
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # a Monday


def config(**pool: object) -> RoutingConfig:
    reps = {
        ANNA: Rep(ANNA, "Anna", weight=2.0),
        BEN: Rep(BEN, "Ben", caps=Caps(per_day=3)),
        CARL: Rep(CARL, "Carl", enabled=False, disabled_reason="training"),
        DORA: Rep(DORA, "Dora"),
    }
    pools = {
        "smb": Pool("smb", (PoolMember(ANNA), PoolMember(BEN), PoolMember(CARL)), **pool),  # type: ignore[arg-type]
        "spill": Pool("spill", (PoolMember(DORA),)),
    }
    hours = BusinessHours(timezone="America/New_York")
    return RoutingConfig(
        reps, pools, (Rule("all", "pool", pool="smb"),), intake=Intake(business_hours=hours)
    )


def statuses(cfg: RoutingConfig) -> dict[str, object]:
    known = {k: {"user_id": f"005{i}", "active": True} for i, k in enumerate(cfg.reps)}
    return rep_statuses(cfg, known, {})


def _keys(decisions: list[object]) -> list[str | None]:
    return [d.rep_key for d in decisions]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "pool_terms",
    [{}, {"method": "round_robin"}, {"fallback": (Target("pool", "spill"),)}],
    ids=["weighted", "round_robin", "overflow"],
)
def test_next_up_is_what_routing_five_identical_leads_would_do(
    pool_terms: dict[str, object],
) -> None:
    cfg = config(**pool_terms)
    # a mid-day state: Ben has 2 of his 3 leads today, credits part-way through a round
    day = "2026-12-07"
    state = RoutingState(
        pools={"smb": PoolState(credits={ANNA: 0.4, BEN: -0.4}, last_rep=ANNA)},
        reps={BEN: Counter(day, 2, f"{day}T15", 1)},
    )
    reps = statuses(cfg)
    shown = next_up(cfg, state, reps, NOW, "smb")
    # the worker's way: the leads arrive and the rules route them
    routed, _ = route_batch(
        synthetic_leads(5, "smb"), config=cfg, context=routing_context(reps), state=state, now=NOW
    )
    assert _keys(shown) == _keys(routed)
    assert len(shown) == 5 and CARL not in _keys(shown)  # switched off: never next
    assert _keys(shown).count(BEN) <= 1  # one left under his daily cap


def test_next_up_overflows_and_holds_as_the_router_does() -> None:
    cfg = config(fallback=(Target("pool", "spill"),))
    full = RoutingState(reps={k: Counter("2026-12-07", 9, "", 0) for k in (BEN,)})
    cfg = replace(
        cfg, reps={**cfg.reps, ANNA: replace(cfg.reps[ANNA], enabled=False, disabled_reason="x")}
    )
    rows = next_up_rows(cfg, next_up(cfg, full, statuses(cfg), NOW, "smb"), "smb")
    assert [r["rep"] for r in rows] == ["Dora"] * 5
    assert rows[0]["note"] == "overflow to spill"
    nobody = replace(cfg, pools={"smb": cfg.pools["smb"]})
    held = next_up_rows(nobody, next_up(nobody, full, statuses(nobody), NOW, "smb"), "smb")
    assert held[0]["rep"] == "held" and "2 turned off, 1 capped" in held[0]["note"]


def test_next_up_leaves_the_state_it_was_given_alone() -> None:
    cfg = config()
    state = RoutingState(pools={"smb": PoolState(credits={ANNA: 0.4, BEN: -0.4})})
    next_up(cfg, state, statuses(cfg), NOW, "smb")
    assert state.pools["smb"].credits == {ANNA: 0.4, BEN: -0.4}


def test_team_zone_is_the_intake_business_hours_zone() -> None:
    assert team_zone(config()) == "America/New_York"
    assert team_zone(replace(config(), intake=Intake())) == "UTC"
    assert team_zone(None) == "UTC"


def test_today_and_this_week_are_the_teams_not_utc() -> None:
    # 03:00 UTC on Tuesday 8 Dec is still Monday 7 Dec in New York
    p = periods(datetime(2026, 12, 8, 3, 0, tzinfo=UTC), "America/New_York")
    assert p.day_start == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)
    assert p.week_start == datetime(2026, 12, 7, 5, 0, tzinfo=UTC)  # Monday
    assert p.local_day == "Mon 7 Dec"
    sunday = periods(datetime(2026, 12, 13, 12, 0, tzinfo=UTC), "Europe/Berlin")
    assert sunday.week_start == datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # Mon 7 Dec 00:00 CET
    assert periods(NOW, "UTC").day_start == datetime(2026, 12, 7, tzinfo=UTC)


def test_a_week_across_a_clock_change_starts_at_local_midnight() -> None:
    # DST ended on Sun 1 Nov 2026 in New York: Monday 2 Nov starts at 05:00 UTC, not 04:00
    p = periods(datetime(2026, 11, 4, 12, 0, tzinfo=UTC), "America/New_York")
    assert p.week_start == datetime(2026, 11, 2, 5, 0, tzinfo=UTC)


def test_an_unknown_zone_is_named() -> None:
    with pytest.raises(ValueError, match="Mars/Base"):
        periods(NOW, "Mars/Base")


def test_counts_list_every_rep_most_this_week_first() -> None:
    rows = count_rows(config(), {ANNA: 2}, {ANNA: 5, BEN: 7, "gone@x.example": 1})
    assert [(r["rep"], r["today"], r["this week"]) for r in rows] == [
        ("Ben", 0, 7), ("Anna", 2, 5), ("gone@x.example", 0, 1), ("Carl", 0, 0), ("Dora", 0, 0),
    ]  # fmt: skip
    carl = next(r for r in rows if r["rep"] == "Carl")
    assert (carl["on"], carl["why off"]) == ("off", "training")


def clock(minutes_left: float, allowed: float = 60) -> dict[str, object]:
    due = NOW + timedelta(minutes=minutes_left)
    return {
        "lead_id": "00Q1", "lead_name": "Jo", "lead_company": "Acme", "owner_name": "Anna",
        "rep_key": ANNA, "pool": "smb", "applied_at": due - timedelta(minutes=allowed),
        "decided_at": due - timedelta(minutes=allowed), "sla_due_at": due,
    }  # fmt: skip


def test_sla_status_at_risk_is_the_last_quarter_of_the_allowed_time() -> None:
    assert sla_status(clock(-1), NOW) == "breached"
    assert sla_status(clock(0), NOW) == "breached"
    assert sla_status(clock(15), NOW) == "at risk"
    assert sla_status(clock(16), NOW) is None
    assert sla_status(clock(30), NOW, share=0.5) == "at risk"
    assert sla_status({**clock(5), "sla_due_at": None}, NOW) is None


def test_sla_rows_breached_first_with_how_long() -> None:
    rows = sla_rows([clock(10), clock(-90), clock(40)], NOW)
    assert [(r["status"], r["due"]) for r in rows] == [
        ("breached", "1 h 30 min ago"),
        ("at risk", "in 10 min"),
    ]


def test_a_rep_the_worker_found_no_user_for_is_never_next() -> None:
    cfg = config()
    known = {ANNA: {"user_id": "005A", "active": True}, DORA: {"user_id": "005D", "active": False}}
    reps = rep_statuses(cfg, known, {ANNA: 4})
    assert (reps[ANNA].user_id, reps[ANNA].open_leads) == ("005A", 4)
    assert reps[BEN].user_id is None and reps[DORA].sf_active is False
    assert BEN not in _keys(next_up(cfg, RoutingState(), reps, NOW, "smb"))
    before_first_cycle = rep_statuses(cfg, {}, {})
    assert before_first_cycle[BEN].user_id == f"preview:{BEN}"
