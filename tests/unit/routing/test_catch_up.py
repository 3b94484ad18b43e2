"""Returning and new reps: forgive (default) never floods, full/capped catch-up repay
what was missed at a bounded pace."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from tests.unit.routing.builders import NOW, a_config, a_context, a_lead, a_pool, a_rep
from worker.routing import CatchUp, DateRange, RoutingState, empty_state, route_batch

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
