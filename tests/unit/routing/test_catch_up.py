"""Returning and new reps: forgive (default) never floods, full/capped catch-up repay
what was missed at a bounded pace."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from tests.unit.routing.builders import NOW, a_config, a_context, a_lead, a_pool, a_rep
from worker.routing import (
    Caps,
    CatchUp,
    Condition,
    DateRange,
    RoutingConfig,
    RoutingState,
    TagRule,
    TimeBlock,
    empty_state,
    route_batch,
    state_from_json,
)
from worker.routing.availability import rep_clock

REPS = ["a@x.io", "b@x.io", "c@x.io", "d@x.io"]
OOO = (DateRange(date(2026, 11, 16), date(2026, 11, 22)),)  # the week before NOW


def _route(
    config, state: RoutingState, n: int, day_offset: int = 0
) -> tuple[list[str], RoutingState]:  # type: ignore[no-untyped-def]
    ds, state = route_batch([a_lead(str(i)) for i in range(n)], config=config, context=a_context(REPS),
                            state=state, now=NOW + timedelta(days=day_offset))  # fmt: skip
    return [d.rep_key or "" for d in ds], state


def _week_away_then_back(catch_up: CatchUp) -> tuple[Counter[str], Counter[str]]:
    away = a_config(
        [a_rep(k, out_of_office=OOO if k == "a@x.io" else ()) for k in REPS],
        [a_pool("p", REPS, catch_up=catch_up)],
    )
    ds, state = route_batch([a_lead(str(i)) for i in range(120)], config=away, context=a_context(REPS), state=empty_state(),
                            now=NOW - timedelta(days=3))  # fmt: skip
    assert all(d.rep_key != "a@x.io" for d in ds)
    back, state = _route(away, state, 20)
    later, _ = _route(away, state, 20, day_offset=1)
    return Counter(back), Counter(later)


def test_rep_back_from_a_week_of_ooo_is_not_flooded_by_default() -> None:
    back, _ = _week_away_then_back(CatchUp())
    assert 4 <= back["a@x.io"] <= 6  # a fair quarter of 20, within a lead


def test_full_catch_up_repays_missed_leads_interleaved() -> None:
    back, _ = _week_away_then_back(CatchUp("full"))
    assert back["a@x.io"] >= 12  # 30 owed: every other lead goes to the returning rep


def test_capped_catch_up_pays_at_most_k_extra_per_day() -> None:
    back, later = _week_away_then_back(CatchUp("capped", 3))
    assert 5 + 3 - 1 <= back["a@x.io"] <= 5 + 3 + 1
    assert 5 + 3 - 1 <= later["a@x.io"] <= 5 + 3 + 1


def test_new_rep_starts_at_fair_share_without_a_flood() -> None:
    old = a_config([a_rep(k) for k in REPS[:3]], [a_pool("p", REPS[:3])])
    _, state = _route(old, empty_state(), 300)
    grown = a_config([a_rep(k) for k in REPS], [a_pool("p", REPS)])
    seq, _ = _route(grown, state, 40)
    counts = Counter(seq)
    assert 9 <= counts["d@x.io"] <= 11
    assert max(counts.values()) - min(counts.values()) <= 2


# ---------------------------------------------------------------------------------------
# Catch-up, defined exactly: every lead of the pool (catch-up leads included) entitles
# each rep present or away to its weighted share; only absences accrue.
# ---------------------------------------------------------------------------------------

TRIO = REPS[:3]
WEEK_OFF = (DateRange(date(2026, 11, 16), date(2026, 11, 21)),)  # Mon-Sat before NOW
MONDAY_BEFORE = NOW - timedelta(days=7)


def _trio(catch_up: CatchUp, **her: object) -> RoutingConfig:
    reps = [a_rep(k, **(her if k == "a@x.io" else {})) for k in TRIO]
    return a_config(reps, [a_pool("p", TRIO, catch_up=catch_up)])


def _days(
    config: RoutingConfig, state: RoutingState, start: datetime, days: int, per_day: int,
    inactive: tuple[str, ...] = (),
) -> tuple[Counter[str], RoutingState]:  # fmt: skip
    counts: Counter[str] = Counter()
    context = a_context(TRIO, inactive=inactive)
    for day in range(days):
        ds, state = route_batch([a_lead(f"{day}-{i}") for i in range(per_day)], config=config,
                                context=context, state=state, now=start + timedelta(days=day))  # fmt: skip
        counts.update(d.rep_key for d in ds if d.rep_key)
    return counts, state


def test_full_catch_up_ends_at_her_share_of_every_lead_of_the_period() -> None:
    # 198 leads while she is away, then 400: the old ledger left her at 180 of 598 for
    # good, as the catch-up leads counted in nobody's share
    config = _trio(CatchUp("full"), out_of_office=WEEK_OFF)
    away, state = _days(config, empty_state(), MONDAY_BEFORE, 6, 33)
    assert away["a@x.io"] == 0
    back, state = _days(config, state, NOW, 4, 100)
    total = away + back
    assert total.total() == 598
    assert all(abs(total[k] - 598 / 3) < 1 for k in TRIO), total
    assert not state.pools["p"].debts  # paid back and settled


def test_capped_catch_up_ends_at_her_share_paying_at_most_n_a_day() -> None:
    config = _trio(CatchUp("capped", 3), out_of_office=WEEK_OFF)
    away, state = _days(config, empty_state(), MONDAY_BEFORE, 6, 33)
    total = Counter(away)
    for day in range(40):
        ds, state = route_batch([a_lead(str(i)) for i in range(30)], config=config, context=a_context(TRIO),
                                state=state, now=NOW + timedelta(days=day))  # fmt: skip
        total.update(d.rep_key for d in ds if d.rep_key)
        assert sum(d.method == "catch_up" for d in ds) <= 3
    assert all(abs(total[k] - total.total() / 3) < 1 for k in TRIO), total


def test_a_rep_at_its_cap_accrues_no_debt_and_is_not_flooded_when_it_is_raised() -> None:
    capped = _trio(CatchUp("full"), caps=Caps(per_day=2))
    held, state = _days(capped, empty_state(), NOW, 20, 30)
    assert held["a@x.io"] == 40
    assert state.pools["p"].debts.get("a@x.io", 0.0) <= 0  # the old ledger: 150 owed
    raised, _ = _days(_trio(CatchUp("full")), state, NOW + timedelta(days=20), 1, 30)
    assert 9 <= raised["a@x.io"] <= 11


@pytest.mark.parametrize(
    ("her", "inactive"),
    [
        ({"enabled": False, "disabled_reason": "parental leave"}, ()),
        ({}, ("a@x.io",)),
        ({"out_of_office": WEEK_OFF}, ()),
        ({"holidays": "DE"}, ()),
    ],
    ids=["switched off", "inactive in Salesforce", "out of office", "public holiday"],
)
def test_every_kind_of_absence_accrues_debt_that_is_paid_back(
    her: dict[str, object], inactive: tuple[str, ...]
) -> None:
    christmas = datetime(2026, 12, 25, 14, 0, tzinfo=UTC)
    start = christmas if "holidays" in her else MONDAY_BEFORE
    config = _trio(CatchUp("full"), **her)
    away, state = _days(config, empty_state(), start, 1, 30, inactive)
    assert away["a@x.io"] == 0
    assert state.pools["p"].debts["a@x.io"] == pytest.approx(10.0)
    back, _ = _days(_trio(CatchUp("full")), state, start + timedelta(days=7), 2, 30)
    assert abs(back["a@x.io"] - 90 / 3) < 1  # her share of all 90 leads, all after her return


def test_outside_working_hours_accrues_no_debt_even_when_out_of_office() -> None:
    night = tuple((TimeBlock(0, 60),) for _ in range(7))  # NOW is 14:00 UTC
    this_week = (DateRange(date(2026, 11, 23), date(2026, 11, 27)),)
    for her in ({"working_hours": night}, {"working_hours": night, "out_of_office": this_week}):
        config = _trio(CatchUp("full"), **her)
        _, state = _days(config, empty_state(), NOW, 1, 30)
        assert state.pools["p"].debts.get("a@x.io", 0.0) <= 0


def test_a_rep_whose_share_is_a_half_still_catches_up() -> None:
    pair = REPS[:2]
    config = a_config([a_rep(k, out_of_office=WEEK_OFF if k == "a@x.io" else ()) for k in pair],
                      [a_pool("p", pair, catch_up=CatchUp("full"))])  # fmt: skip
    counts: Counter[str] = Counter()
    state = empty_state()
    for day in range(26):
        ds, state = route_batch([a_lead(str(i)) for i in range(20)], config=config, context=a_context(pair),
                                state=state, now=MONDAY_BEFORE + timedelta(days=day))  # fmt: skip
        counts.update(d.rep_key for d in ds)
        if day == 5:
            assert counts == {"b@x.io": 120}
            assert state.pools["p"].debts["a@x.io"] == pytest.approx(60)
        if day == 6:  # every other lead a catch-up, half of the others hers
            assert counts["a@x.io"] == 15
    assert abs(counts["a@x.io"] - counts.total() / 2) < 1, counts


def test_an_away_rep_accrues_only_for_leads_it_would_have_been_offered() -> None:
    tag_rules = (TagRule(tag="lang:de", conditions=(Condition("Country", "equals", "DE"),)),)
    reps = [a_rep("a@x.io", out_of_office=WEEK_OFF), a_rep("b@x.io", tags=frozenset({"lang:de"})),
            a_rep("c@x.io", tags=frozenset({"lang:de"}))]  # fmt: skip
    pool = a_pool("p", TRIO, catch_up=CatchUp("full"), tags_mode="require")
    config = a_config(reps, [pool], lead_tags=tag_rules)
    leads = [a_lead(str(i), Country="DE" if i % 2 else "FR") for i in range(30)]
    _, state = route_batch(leads, config=config, context=a_context(TRIO), state=empty_state(),
                           now=MONDAY_BEFORE)  # fmt: skip
    assert state.pools["p"].debts["a@x.io"] == pytest.approx(15 / 3)  # the French leads only


def test_a_state_saved_with_unsigned_debts_pays_the_leads_it_promised() -> None:
    old = (
        '{"v":1,"pools":{"p":{"credits":{"b@x.io":0.0,"c@x.io":0.0},"debts":{"a@x.io":30.0},'
        '"last_rep":"c@x.io","last_was_catch_up":false,"paid":{},"picks":120}},'
        '"pool_reps":{},"reps":{}}'
    )
    config = _trio(CatchUp("full"))
    ds, state = route_batch([a_lead(str(i)) for i in range(60)], config=config, context=a_context(TRIO),
                            state=state_from_json(old), now=NOW)  # fmt: skip
    assert sum(d.method == "catch_up" for d in ds) == 30
    assert Counter(d.rep_key for d in ds)["a@x.io"] == 30 + 10
    assert not state.pools["p"].debts


def test_the_ledger_stays_balanced_when_a_member_leaves_the_pool() -> None:
    config = _trio(CatchUp("full"), out_of_office=WEEK_OFF)
    _, state = _days(config, empty_state(), MONDAY_BEFORE, 1, 30)
    assert sum(state.pools["p"].debts.values()) == pytest.approx(0)
    smaller = a_config(
        [a_rep(k) for k in TRIO[1:]], [a_pool("p", TRIO[1:], catch_up=CatchUp("full"))]
    )
    _, state = route_batch(
        [a_lead("x")], config=smaller, context=a_context(TRIO), state=state, now=NOW
    )
    pool = state.pools["p"]
    assert set(pool.debts) <= {"b@x.io", "c@x.io"}
    assert sum(pool.debts.values()) == pytest.approx(0) and sum(
        pool.credits.values()
    ) == pytest.approx(0)


@pytest.mark.parametrize(
    ("at", "away"), [(NOW, True), (NOW.replace(hour=22), False)], ids=["in hours", "off hours"]
)
def test_a_switched_off_rep_is_away_only_within_its_working_hours(at: datetime, away: bool) -> None:
    nine_to_five = tuple((TimeBlock(9 * 60, 17 * 60),) for _ in range(7))
    clock = rep_clock(a_rep("a@x.io", enabled=False, working_hours=nine_to_five), at)
    assert clock.unavailable == "turned off" and clock.away is away


def test_a_lead_she_would_get_anyway_is_not_spent_as_a_catch_up_lead() -> None:
    pair = REPS[:2]
    config = a_config([a_rep("a@x.io", out_of_office=WEEK_OFF), a_rep("b@x.io", caps=Caps(max_open=20))],
                      [a_pool("p", pair, catch_up=CatchUp("capped", 1))])  # fmt: skip
    _, state = route_batch([a_lead(str(i)) for i in range(20)], config=config, context=a_context(pair),
                           state=empty_state(), now=MONDAY_BEFORE)  # fmt: skip
    b_full = a_context(pair, open_leads={"b@x.io": 20})  # b at its cap: every lead is hers anyway
    ds, state = route_batch([a_lead(str(i)) for i in range(10)], config=config, context=b_full,
                            state=state, now=NOW)  # fmt: skip
    assert {d.rep_key for d in ds} == {"a@x.io"} and all(d.method != "catch_up" for d in ds)
    assert state.pools["p"].debts["a@x.io"] == pytest.approx(10)  # still owed: not settled
    ds, _ = route_batch([a_lead(str(i)) for i in range(10)], config=config, context=a_context(pair),
                        state=state, now=NOW)  # fmt: skip
    assert sum(d.method == "catch_up" for d in ds) == 1  # today's allowance is still whole


def test_the_fairness_audit_books_the_leads_of_the_period_as_the_router_does() -> None:
    """One truth: the audit's targets come from each decision's shares, which include the
    away rep's under a catch-up policy, so after the payback the audit finds everyone
    within a lead of target, as the router's ledger does (with shares of the eligible
    reps only, she would look 66 leads ahead)."""
    from worker.routing import pool_fairness

    config = _trio(CatchUp("full"), out_of_office=WEEK_OFF)
    decisions = []
    state = empty_state()
    for day, (start, per_day) in enumerate([(MONDAY_BEFORE, 33)] * 6 + [(NOW, 100)] * 4):
        at = start + timedelta(days=day if day < 6 else day - 6)
        ds, state = route_batch([a_lead(f"{day}-{i}") for i in range(per_day)], config=config,
                                context=a_context(TRIO), state=state, now=at)  # fmt: skip
        decisions += ds
    audit = pool_fairness(
        "p", [d.rep_key or "" for d in decisions], dict.fromkeys(TRIO, 1.0),
        [d.eligible_weights for d in decisions],
    )  # fmt: skip
    assert audit.total == 598
    assert max(abs(r.deviation) for r in audit.reps) < 1, audit.reps
