"""Overflow in breadth-first order, and reasons that say why a lead overflowed or held."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.routing.builders import NOW, a_config, a_context, a_lead, a_pool, a_rep
from worker.routing import (
    Caps,
    DateRange,
    PoolMember,
    Rule,
    TagRule,
    Target,
    TimeBlock,
    TraceStep,
    empty_state,
    render_trace,
    route_batch,
    route_lead,
)
from worker.routing.model import Pool, RoutingConfig
from worker.routing.overflow import nobody_why, overflow_order, skip_kind

A, B, C, D = "ann@x.io", "ben@x.io", "cleo@x.io", "dan@x.io"
E, M, P, W = "eve@x.io", "megan@x.io", "pia@x.io", "walt@x.io"
NIGHT = tuple((TimeBlock(0, 60),) for _ in range(7))  # NOW is 14:00 UTC: outside


def pool(name: str, reps: list[str], *targets: str) -> Pool:
    """A pool whose fallback is written like the YAML: pool names, ``rep:KEY``, ``hold``."""
    fallback = tuple(
        Target("hold")
        if t == "hold"
        else Target("rep", t[4:])
        if t.startswith("rep:")
        else Target("pool", t)
        for t in targets
    )
    return a_pool(name, reps, fallback=fallback)


def demo_like(reps: dict[str, dict[str, object]]) -> RoutingConfig:
    """The demo's enterprise chain: na-east's own list ends at sdr-24x7."""
    pools = [
        pool("enterprise", [A], "na-east", "emea", "apac", "sdr-24x7"),
        pool("na-east", [B], "na-west", "sdr-24x7"),
        pool("na-west", [W]),
        pool("emea", [E], "sdr-24x7"),
        pool("apac", [P], "sdr-24x7"),
        pool("sdr-24x7", [M], "hold"),
    ]
    rule = Rule("Enterprise", "pool", pool="enterprise")
    everyone = [a_rep(k, **reps.get(k, {})) for k in (A, B, W, E, P, M)]  # type: ignore[arg-type]
    return a_config(everyone, pools, [rule])


def route(cfg: RoutingConfig, **kw: object):  # type: ignore[no-untyped-def]
    keys = list(cfg.reps)
    d, _ = route_lead(
        a_lead(), config=cfg, context=a_context(keys), state=empty_state(), now=NOW, **kw
    )  # type: ignore[arg-type]
    return d


OFF = {"enabled": False}


def test_a_pools_list_is_tried_in_the_order_written_before_any_listed_pools_own_list() -> None:
    # depth-first would follow na-east's own chain to na-west (and sdr-24x7) first
    d = route(demo_like({A: OFF, B: OFF}))
    assert (d.rep_key, d.pool) == (E, "emea")
    assert d.reason == (
        "Rule 'Enterprise' → enterprise: everyone turned off → na-east: everyone turned off"
        " → emea: Eve chosen (weighted round-robin, 0.0 leads behind their share)"
    )
    assert route(demo_like({A: OFF, B: OFF, E: OFF})).pool == "apac"  # still not sdr-24x7


def test_when_every_listed_pool_is_empty_their_own_lists_come_next_in_order() -> None:
    d = route(demo_like({A: OFF, B: OFF, E: OFF, P: OFF, M: OFF}))
    assert (d.rep_key, d.pool) == (W, "na-west")
    overflow = [line for line in render_trace(d.trace) if line.startswith("Overflow to")]
    assert overflow == [
        "Overflow to pool na-east",
        "Overflow to pool emea",
        "Overflow to pool apac",
        "Overflow to pool sdr-24x7",
        "Overflow to pool na-west (from na-east's fallback)",
    ]
    assert dict(d.trace[-1].data)["tried"] == [
        ("enterprise", "everyone turned off"),
        ("na-east", "everyone turned off"),
        ("emea", "everyone turned off"),
        ("apac", "everyone turned off"),
        ("sdr-24x7", "everyone turned off"),
    ]


def test_a_held_lead_names_each_pool_tried_and_why_it_had_nobody() -> None:
    night = {"working_hours": NIGHT}
    capped = {"caps": Caps(per_day=1)}
    cfg = demo_like({A: capped, B: night, W: night, E: OFF, P: night, M: capped})
    ds, _ = route_batch(
        [a_lead("1"), a_lead("2"), a_lead("3")],
        config=cfg,
        context=a_context(list(cfg.reps)),
        state=empty_state(),
        now=NOW,
    )
    assert [(d.action, d.rep_key) for d in ds] == [("assign", A), ("assign", M), ("hold", None)]
    held = ds[2]
    assert held.reason == (
        "Held in the intake queue: enterprise: everyone capped; na-east: nobody within working"
        " hours; emea: everyone turned off; apac: nobody within working hours; sdr-24x7:"
        " everyone capped; na-west: nobody within working hours"
    )
    assert (held.pool, held.rule) == ("enterprise", "Enterprise")  # the rule's pool
    assert held.trace[-1].kind == "decision"
    assert [p for p, _ in held.trace[-1].data["tried"]] == [  # type: ignore[attr-defined]
        "enterprise", "na-east", "emea", "apac", "sdr-24x7", "na-west"
    ]  # fmt: skip
    assert render_trace(held.trace)[-2] == (
        "Pool sdr-24x7's fallback says hold: nothing after it is tried"
    )
    # the second lead overflowed: its reason says from where and why
    assert ds[1].reason == (
        "Rule 'Enterprise' → enterprise: everyone capped → na-east: nobody within working"
        " hours → emea: everyone turned off → apac: nobody within working hours → sdr-24x7:"
        " Megan chosen (weighted round-robin, 0.0 leads behind their share)"
    )


def test_a_reason_without_overflow_is_unchanged() -> None:
    d = route(demo_like({}))
    assert d.reason.startswith("Rule 'Enterprise' → pool enterprise: Ann chosen (")
    assert "tried" not in d.trace[-1].data


def test_hold_in_a_list_stops_there_and_a_listed_pools_hold_waits_its_turn() -> None:
    reps = [a_rep(A, enabled=False), a_rep(B, enabled=False), a_rep(C)]
    stop = a_config(reps, [pool("p", [A], "q", "hold", "r"), pool("q", [B]), pool("r", [C])])
    d = route(stop)
    assert d.action == "hold"
    assert d.reason == "Held in the intake queue: p: everyone turned off; q: everyone turned off"
    later = a_config(reps, [pool("p", [A], "q", "r"), pool("q", [B], "hold"), pool("r", [C])])
    assert route(later).rep_key == C  # q's own list (hold) only after p's list is done
    cut = a_config(
        [*reps, a_rep(D)],
        [pool("p", [A], "q", "r"), pool("q", [B], "hold"), pool("r", [C], "s"), pool("s", [D])],
    )
    cut = a_config([*reps[:2], a_rep(C, enabled=False), a_rep(D)], list(cut.pools.values()))
    d = route(cut)  # q's hold comes before r's own list: s is never tried
    assert d.action == "hold" and [n for n, _ in d.trace[-1].data["tried"]] == ["p", "q", "r"]  # type: ignore[attr-defined]


def test_a_fallback_rep_is_named_in_the_reason_whether_chosen_or_skipped() -> None:
    reps = [a_rep(A, enabled=False), a_rep(B, enabled=False, disabled_reason="leave"), a_rep(C)]
    cfg = a_config(reps, [pool("p", [A], f"rep:{B}", f"rep:{C}")])
    d = route(cfg)
    assert (d.rep_key, d.method, d.pool) == (C, "fallback_rep", "p")
    assert d.reason == (
        "Rule 'default' → p: everyone turned off → Ben: turned off (leave) → Cleo chosen"
        " (fallback rep)"
    )


def test_each_pool_and_rep_is_tried_once_even_in_a_cycle() -> None:
    reps = [a_rep(k, enabled=False) for k in (A, B, C)]
    cfg = a_config(
        reps,
        [pool("p", [A], "q", "r"), pool("q", [B], "r", "p", f"rep:{C}"), pool("r", [C], "q")],
    )
    d = route(cfg)
    assert d.action == "hold"
    assert [n for n, _ in d.trace[-1].data["tried"]] == ["p", "q", "r", "Cleo"]  # type: ignore[attr-defined]


def test_sla_reassignment_follows_the_chain_without_previous_owners() -> None:
    reps = [a_rep(A), a_rep(B), a_rep(C)]
    cfg = a_config(reps, [pool("p", [A], "q"), pool("q", [A, B], f"rep:{C}")])
    d = route(cfg, only_pool="p", exclude_reps=frozenset({A}))
    assert (d.rep_key, d.pool) == (B, "q")
    assert d.reason.startswith(
        "Rule 'SLA re-assignment' → p: everyone already had this lead → q: Ben chosen ("
    )
    d2 = route(cfg, only_pool="p", exclude_reps=frozenset({A, B, C}))
    assert d2.action == "hold" and d2.pool == "p"
    assert d2.reason == (
        "Held in the intake queue: p: everyone already had this lead; q: everyone already had"
        " this lead; Cleo: already had this lead"
    )


def test_why_nobody_mixes_counts_and_names_missing_tags() -> None:
    night = NIGHT  # and two reps with a daily cap of 1, filled by the first two leads
    reps = [
        a_rep(A, caps=Caps(per_day=1)),
        a_rep(B, caps=Caps(per_day=1)),
        a_rep(C, working_hours=night),
        a_rep(D, working_hours=night),
        a_rep(E, working_hours=night),
    ]
    cfg = a_config(reps, [pool("p", [A, B, C, D, E])])
    ds, _ = route_batch(
        [a_lead(str(i)) for i in range(3)],
        config=cfg,
        context=a_context([A, B, C, D, E]),
        state=empty_state(),
        now=NOW,
    )
    assert ds[2].reason == "Held in the intake queue: p: 3 outside working hours, 2 capped"
    tagged = a_config(
        [a_rep(A), a_rep(B, tags=frozenset({"lang:de"}))],
        [a_pool("q", [A, B], tags_mode="require")],
        lead_tags=(TagRule("lang:de"), TagRule("region:emea")),  # every lead gets both
    )
    assert route(tagged).reason == (
        "Held in the intake queue: q: nobody with tags lang:de, region:emea"
    )


def test_every_skip_reason_the_core_makes_has_a_plain_kind() -> None:
    """Route through reps skipped for each reason the core can give; none is 'other'."""
    reps = [
        a_rep(A, enabled=False, disabled_reason="capped by hand"),
        a_rep(B, out_of_office=(DateRange(date(2026, 11, 20), date(2026, 12, 3)),)),
        a_rep(C, working_hours=NIGHT),
        a_rep(D, holidays="US"),
        a_rep(E, caps=Caps(per_hour=1)),
        a_rep(M, caps=Caps(max_open=1)),
        a_rep(P),
        a_rep(W),
        a_rep("nouser@x.io"),
        a_rep("pooled@x.io"),
    ]
    members = [A, B, C, D, E, M, P, W, "nouser@x.io"]
    capped = Pool("p", (*(PoolMember(k) for k in members), PoolMember("pooled@x.io", caps=Caps(per_day=1))))  # fmt: skip
    cfg = a_config(reps, [capped])
    keys = [k for k in [*members, "pooled@x.io"] if k != "nouser@x.io"]
    ctx = a_context(keys, inactive=[P], open_leads={M: 1})
    thanksgiving = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
    state = empty_state()
    kinds: dict[str, str] = {}
    for i in range(3):  # two take the capped reps' last places, the third is held
        d, state = route_lead(
            a_lead(str(i)),
            config=cfg,
            context=ctx,
            state=state,
            now=thanksgiving,
            only_pool="p",
            exclude_reps=frozenset({W}),
        )
        for s in d.trace:
            if s.kind == "candidate":
                why = str(s.data["skip"])
                kinds[why] = skip_kind(why)
    assert d.action == "hold" and "other" not in kinds.values(), kinds
    assert set(kinds.values()) == {
        "off", "ooo", "hours", "holiday", "capped", "inactive", "no_user", "had"
    }  # fmt: skip
    assert kinds["pool daily cap 1/1"] == "capped" and kinds["hourly cap 1/1"] == "capped"
    assert kinds["turned off (capped by hand)"] == "off"  # the rep's own words never count


def test_nobody_why_of_an_empty_pool_and_of_a_single_kind() -> None:
    assert nobody_why((), frozenset()) == "no members"
    step = TraceStep(
        "candidate", "Ann skipped (daily cap 1/1)", {"rep": A, "skip": "daily cap 1/1"}
    )
    assert nobody_why((step, step), frozenset()) == "everyone capped"


# ---------------------------------------------------------------------------------------
# the order itself, over any fallback graph
# ---------------------------------------------------------------------------------------

NAMES = ["p0", "p1", "p2", "p3", "p4"]
TARGETS = st.one_of(
    st.sampled_from([Target("pool", n) for n in NAMES]),
    st.sampled_from([Target("rep", r) for r in (A, B)]),
    st.just(Target("hold")),
)


@st.composite
def graphs(draw: st.DrawFn) -> dict[str, Pool]:
    return {n: Pool(n, (), fallback=tuple(draw(st.lists(TARGETS, max_size=4)))) for n in NAMES}


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_overflow_order_is_breadth_first_once_each_and_ends_at_the_first_hold(
    pools: dict[str, Pool],
) -> None:
    hops = list(overflow_order(pools, "p0"))
    named = [(h.target.kind, h.target.name) for h in hops if h.target.kind != "hold"]
    assert len(named) == len(set(named)) and ("pool", "p0") not in named
    holds = [i for i, h in enumerate(hops) if h.target.kind == "hold"]
    assert holds in ([], [len(hops) - 1])
    # sources: p0 first, then the pools in the order they were tried, never going back
    tried = ["p0"] + [h.target.name for h in hops if h.target.kind == "pool"]
    order = [tried.index(h.source) for h in hops]
    assert order == sorted(order)
    # p0's own list comes first, as written (minus itself and repeats), up to a hold
    own: list[Target] = []
    for t in pools["p0"].fallback:
        if t.kind == "hold":
            own.append(t)
            break
        if t != Target("pool", "p0") and t not in own:
            own.append(t)
    assert [h.target for h in hops[: len(own)]] == own
    # without holds, every pool reachable from p0 is tried
    if not holds:
        reach, todo = {"p0"}, ["p0"]
        while todo:
            for t in pools[todo.pop()].fallback:
                if t.kind == "pool" and t.name not in reach:
                    reach.add(str(t.name))
                    todo.append(str(t.name))
        assert set(tried) == reach


def test_the_demo_configs_enterprise_chain_tries_emea_before_na_easts_own_list() -> None:
    from pathlib import Path

    from worker.routing_config import load_config

    cfg = load_config(Path(__file__).resolve().parents[3] / "config" / "routing.yaml")
    away = {m.rep for name in ("enterprise", "na-east") for m in cfg.pools[name].members}
    d, _ = route_lead(
        a_lead(NumberOfEmployees=5000),
        config=cfg,
        context=a_context(list(cfg.reps), inactive=away),
        state=empty_state(),
        now=NOW,  # 15:00 in Berlin, 06:00 on the US west coast
    )
    assert (d.rule, d.pool) == ("Enterprise", "emea")  # not na-west, not sdr-24x7
    assert d.reason.startswith(
        "Rule 'Enterprise' → enterprise: everyone inactive in Salesforce → na-east: everyone"
        " inactive in Salesforce → emea: "
    )
