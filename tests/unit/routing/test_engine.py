"""Routing decisions end to end through ``route_lead`` / ``route_batch``."""

from __future__ import annotations

from datetime import date

from tests.unit.routing.builders import NOW, a_config, a_context, a_lead, a_pool, a_rep, uid
from worker.routing import (
    Account,
    Caps,
    Condition,
    DateRange,
    PoolMember,
    Rule,
    Target,
    Territory,
    empty_state,
    render_trace,
    route_batch,
    route_lead,
)
from worker.routing.model import Pool

A, B, C = "ann@x.io", "ben@x.io", "cleo@x.io"


def test_assigns_to_a_pool_member_and_explains_why() -> None:
    cfg = a_config([a_rep(A), a_rep(B)], [a_pool("p", [A, B])])
    d, _ = route_lead(a_lead(), config=cfg, context=a_context([A, B]), state=empty_state(), now=NOW)
    assert (d.action, d.rep_key, d.owner_id, d.pool, d.rule) == (
        "assign",
        A,
        uid(A),
        "p",
        "default",
    )
    assert d.method == "weighted_round_robin"
    assert "Ann chosen (weighted round-robin" in d.reason
    assert d.eligible_weights == {A: 1.0, B: 1.0}


def test_skips_rep_at_daily_cap_and_records_it_in_the_trace() -> None:
    cfg = a_config([a_rep(A, caps=Caps(per_day=1)), a_rep(B)], [a_pool("p", [A, B])])
    ctx = a_context([A, B])
    ds, _ = route_batch(
        [a_lead("1"), a_lead("2"), a_lead("3")],
        config=cfg,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    assert [d.rep_key for d in ds] == [A, B, B]
    assert "Ann skipped (daily cap 1/1)" in render_trace(ds[2].trace)


def test_skips_rep_at_pool_cap_but_not_elsewhere() -> None:
    pool = Pool("p", (PoolMember(A, caps=Caps(per_day=1)), PoolMember(B)))
    cfg = a_config([a_rep(A), a_rep(B)], [pool])
    ds, _ = route_batch(
        [a_lead("1"), a_lead("2"), a_lead("3")],
        config=cfg,
        context=a_context([A, B]),
        state=empty_state(),
        now=NOW,
    )
    assert [d.rep_key for d in ds] == [A, B, B]
    assert any("pool daily cap 1/1" in line for line in render_trace(ds[2].trace))


def test_open_lead_cap_counts_leads_assigned_earlier_in_the_batch() -> None:
    cfg = a_config([a_rep(A, caps=Caps(max_open=3)), a_rep(B)], [a_pool("p", [A, B])])
    ctx = a_context([A, B], open_leads={A: 2})
    ds, _ = route_batch(
        [a_lead(str(i)) for i in range(4)], config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert [d.rep_key for d in ds].count(A) == 1
    assert "open-lead cap 3/3" in " ".join(render_trace(ds[-1].trace))


def test_skips_inactive_disabled_and_out_of_office_reps_with_reasons() -> None:
    reps = [
        a_rep(A, enabled=False, disabled_reason="parental leave"),
        a_rep(B, out_of_office=(DateRange(date(2026, 11, 20), date(2026, 12, 3)),)),
        a_rep(C),
        a_rep("dan@x.io"),
    ]
    cfg = a_config(reps, [a_pool("p", [A, B, "dan@x.io", C])])
    ctx = a_context([A, B, C, "dan@x.io"], inactive=["dan@x.io"])
    d, _ = route_lead(a_lead(), config=cfg, context=ctx, state=empty_state(), now=NOW)
    lines = render_trace(d.trace)
    assert d.rep_key == C
    assert "Ann skipped (turned off (parental leave))" in lines
    assert "Ben skipped (out of office until 3 Dec)" in lines
    assert "Dan skipped (inactive in Salesforce)" in lines
    assert d.eligible_weights == {C: 1.0}


def test_rep_without_salesforce_user_is_never_assigned() -> None:
    cfg = a_config([a_rep(A), a_rep(B)], [a_pool("p", [A, B])])
    ds, _ = route_batch(
        [a_lead(str(i)) for i in range(3)],
        config=cfg,
        context=a_context([B]),
        state=empty_state(),
        now=NOW,
    )
    assert {d.rep_key for d in ds} == {B}


def test_overflows_to_the_fallback_pool_then_holds() -> None:
    pools = [
        a_pool("p", [A], fallback=(Target("pool", "q"),)),
        a_pool("q", [B], fallback=(Target("hold"),)),
    ]
    cfg = a_config([a_rep(A, enabled=False), a_rep(B)], pools)
    d, _ = route_lead(a_lead(), config=cfg, context=a_context([A, B]), state=empty_state(), now=NOW)
    assert (d.rep_key, d.pool) == (B, "q")
    cfg2 = a_config([a_rep(A, enabled=False), a_rep(B, enabled=False)], pools)
    d2, _ = route_lead(
        a_lead(), config=cfg2, context=a_context([A, B]), state=empty_state(), now=NOW
    )
    assert d2.action == "hold" and d2.owner_id is None
    assert d2.reason == "Held in the intake queue: p: everyone turned off; q: everyone turned off"


def test_fallback_rep_gets_the_lead_when_the_pool_is_empty_of_eligible_reps() -> None:
    pool = a_pool("p", [A], fallback=(Target("rep", C),))
    cfg = a_config([a_rep(A, enabled=False), a_rep(C)], [pool])
    d, _ = route_lead(a_lead(), config=cfg, context=a_context([A, C]), state=empty_state(), now=NOW)
    assert (d.rep_key, d.method) == (C, "fallback_rep")


def test_first_matching_rule_wins_and_failed_rules_are_explained() -> None:
    rules = [
        Rule("DACH", "pool", (Condition("Country", "in", ("DE", "AT", "CH")),), pool="q"),
        Rule("Big", "pool", (Condition("NumberOfEmployees", "between", (1000, None)),), pool="q"),
        Rule("default", "pool", pool="p"),
    ]
    cfg = a_config([a_rep(A), a_rep(B)], [a_pool("p", [A]), a_pool("q", [B])], rules)
    ctx = a_context([A, B])
    d, _ = route_lead(
        a_lead(Country="France", NumberOfEmployees=40),
        config=cfg,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    assert (d.rule, d.rep_key) == ("default", A)
    text = " ".join(render_trace(d.trace))
    assert "'DACH' (Country FR in DE, AT, CH)" in text
    assert "'Big' (NumberOfEmployees 40 in 1,000..∞)" in text
    d2, _ = route_lead(
        a_lead(Country="Deutschland"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert d2.rule == "DACH"


def test_hold_and_stop_rules_assign_nobody() -> None:
    rules = [
        Rule("junk", "stop", (Condition("Email", "regex", "^test@"),), reason="junk"),
        Rule("free mail", "hold", (Condition("$free_mail", "equals", True),), reason="qualify"),
        Rule("default", "pool", pool="p"),
    ]
    cfg = a_config([a_rep(A)], [a_pool("p", [A])], rules)
    ctx = a_context([A])
    stop, _ = route_lead(
        a_lead(Email="test@corp.com"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    hold, _ = route_lead(
        a_lead(Email="jo@gmail.com"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert (stop.action, stop.owner_id) == ("stop", None)
    assert (hold.action, hold.owner_id, hold.rule) == ("hold", None, "free mail")


def test_territory_overlap_is_resolved_by_priority() -> None:
    territories = (
        Territory("us-west", "q", 10, frozenset({"US"}), frozenset({"US-CA"})),
        Territory("us", "p", 0, frozenset({"US"})),
    )
    rules = [Rule("by territory", "territory"), Rule("default", "hold")]
    cfg = a_config(
        [a_rep(A), a_rep(B)], [a_pool("p", [A]), a_pool("q", [B])], rules, territories=territories
    )
    ctx = a_context([A, B])
    west, _ = route_lead(
        a_lead(Country="USA", State="California"),
        config=cfg,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    east, _ = route_lead(
        a_lead(Country="us", State="NY"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert (west.pool, east.pool) == ("q", "p")
    assert "Territory us-west (by priority over us)" in render_trace(west.trace)


def test_inactive_account_owner_does_not_get_the_lead() -> None:
    acct = Account(
        "001A", "Acme", "https://www.acme.com", owner_id="005OLDOWNER00", owner_active=False
    )
    cfg = a_config([a_rep(A)], [a_pool("p", [A])])
    ctx = a_context([A], accounts=[acct])
    d, _ = route_lead(
        a_lead(Email="jo@acme.com"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert d.rep_key == A and d.owner_id == uid(A)
    assert any("owner is inactive in Salesforce" in line for line in render_trace(d.trace))


def test_active_account_owner_gets_the_lead_sticky() -> None:
    acct = Account("001A", "Acme", "https://www.acme.com", owner_id=uid(B))
    cfg = a_config([a_rep(A), a_rep(B)], [a_pool("p", [A])])
    ctx = a_context([A, B], accounts=[acct])
    d, _ = route_lead(
        a_lead(Email="jo@sales.acme.com"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert (d.method, d.owner_id, d.rep_key, d.account_id) == ("account_owner", uid(B), B, "001A")


def test_users_active_overrides_the_account_snapshot() -> None:
    acct = Account("001A", "Acme", "acme.com", owner_id="005SOMEONE000", owner_active=True)
    cfg = a_config([a_rep(A)], [a_pool("p", [A])])
    ctx = a_context([A], accounts=[acct], users_active={"005SOMEONE000": False})
    d, _ = route_lead(
        a_lead(Email="jo@acme.com"), config=cfg, context=ctx, state=empty_state(), now=NOW
    )
    assert d.rep_key == A


def test_sla_reassignment_never_returns_to_a_previous_owner() -> None:
    cfg = a_config([a_rep(A), a_rep(B), a_rep(C)], [a_pool("p", [A, B, C])])
    ctx = a_context([A, B, C])
    for _ in range(5):
        d, _ = route_lead(a_lead(), config=cfg, context=ctx, state=empty_state(), now=NOW,
                          exclude_reps=frozenset({A, B}), only_pool="p")  # fmt: skip
        assert d.rep_key == C
    d, _ = route_lead(a_lead(), config=cfg, context=ctx, state=empty_state(), now=NOW,
                      exclude_reps=frozenset({A, B, C}), only_pool="p")  # fmt: skip
    assert d.action == "hold"
    assert "already had this lead" in " ".join(render_trace(d.trace))


def test_same_inputs_and_state_give_the_same_decision() -> None:
    cfg = a_config([a_rep(A, weight=2), a_rep(B), a_rep(C, weight=0.5)], [a_pool("p", [A, B, C])])
    ctx = a_context([A, B, C])
    leads = [a_lead(str(i)) for i in range(20)]
    first, s1 = route_batch(leads, config=cfg, context=ctx, state=empty_state(), now=NOW)
    second, s2 = route_batch(leads, config=cfg, context=ctx, state=empty_state(), now=NOW)
    assert first == second and s1 == s2


def test_route_lead_does_not_modify_the_input_state() -> None:
    cfg = a_config([a_rep(A), a_rep(B)], [a_pool("p", [A, B])])
    ctx = a_context([A, B])
    state = empty_state()
    d1, new = route_lead(a_lead(), config=cfg, context=ctx, state=state, now=NOW)
    d2, _ = route_lead(a_lead(), config=cfg, context=ctx, state=state, now=NOW)
    d3, _ = route_lead(a_lead(), config=cfg, context=ctx, state=new, now=NOW)
    assert d1.rep_key == d2.rep_key != d3.rep_key


def test_require_tags_skips_reps_without_them_and_can_fall_back_to_ignoring() -> None:
    from worker.routing import TagRule

    tag_rules = (TagRule(tag="lang:de", conditions=(Condition("Country", "equals", "DE"),)),)
    reps = [a_rep(A, tags=frozenset({"lang:de"})), a_rep(B)]
    strict = a_config(reps, [a_pool("p", [A, B], tags_mode="require")], lead_tags=tag_rules)
    ctx = a_context([A, B])
    ds, _ = route_batch(
        [a_lead(str(i), Country="DE") for i in range(3)],
        config=strict,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    assert {d.rep_key for d in ds} == {A}
    assert "Ben skipped (lacks tags lang:de)" in render_trace(ds[0].trace)
    lenient = a_config([a_rep(A, enabled=False), a_rep(B)],
                       [a_pool("p", [A, B], tags_mode="require", tags_fallback="ignore")], lead_tags=tag_rules)  # fmt: skip
    d, _ = route_lead(
        a_lead(Country="DE"), config=lenient, context=ctx, state=empty_state(), now=NOW
    )
    assert d.rep_key == B


def test_round_robin_and_least_loaded_methods() -> None:
    reps = [a_rep(A, weight=5), a_rep(B), a_rep(C)]
    rr = a_config(reps, [a_pool("p", [A, B, C], method="round_robin")])
    ds, _ = route_batch(
        [a_lead(str(i)) for i in range(6)],
        config=rr,
        context=a_context([A, B, C]),
        state=empty_state(),
        now=NOW,
    )
    assert [d.rep_key for d in ds] == [A, B, C, A, B, C]
    ll = a_config(reps, [a_pool("p", [A, B, C], method="least_loaded")])
    ctx = a_context([A, B, C], open_leads={A: 5, B: 1, C: 2})
    ds, _ = route_batch(
        [a_lead(str(i)) for i in range(3)], config=ll, context=ctx, state=empty_state(), now=NOW
    )
    assert [d.rep_key for d in ds] == [B, C, B]


def test_any_rule_matches_on_one_condition_and_explains_all_failures() -> None:
    rules = [
        Rule("hot or big", "pool", (Condition("Rating", "equals", "Hot"), Condition("NumberOfEmployees", "between", (500, None))), match="any", pool="q"),
        Rule("default", "pool", pool="p"),
    ]  # fmt: skip
    cfg = a_config([a_rep(A), a_rep(B)], [a_pool("p", [A]), a_pool("q", [B])], rules)
    ctx = a_context([A, B])
    hot, _ = route_lead(a_lead(Rating="hot"), config=cfg, context=ctx, state=empty_state(), now=NOW)
    cold, _ = route_lead(
        a_lead(Rating="Cold", NumberOfEmployees=3),
        config=cfg,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    assert (hot.rule, cold.rule) == ("hot or big", "default")
    assert "'hot or big' (none of: Rating Cold = Hot; NumberOfEmployees 3 in 500..∞)" in " ".join(
        render_trace(cold.trace)
    )


def test_territory_rule_without_a_territory_falls_through_to_the_next_rule() -> None:
    territories = (Territory("de", "q", 0, frozenset({"DE"})),)
    rules = [Rule("by territory", "territory"), Rule("default", "pool", pool="p")]
    cfg = a_config(
        [a_rep(A), a_rep(B)], [a_pool("p", [A]), a_pool("q", [B])], rules, territories=territories
    )
    d, _ = route_lead(
        a_lead(Country="Japan"), config=cfg, context=a_context([A, B]), state=empty_state(), now=NOW
    )
    assert (d.rule, d.pool) == ("default", "p")
    assert "No territory matched" in render_trace(d.trace)


def test_account_owner_rule_routes_to_the_owner_only_when_the_rule_matches() -> None:
    from worker.routing import AccountMatching

    acct = Account("001A", "Acme", "acme.com", owner_id=uid(B))
    rules = [
        Rule("partners", "account_owner", (Condition("LeadSource", "equals", "Partner"),)),
        Rule("default", "pool", pool="p"),
    ]
    cfg = a_config(
        [a_rep(A), a_rep(B)],
        [a_pool("p", [A])],
        rules,
        account_matching=AccountMatching(route_to_owner=False),
    )
    ctx = a_context([A, B], accounts=[acct])
    partner, _ = route_lead(
        a_lead(Email="x@acme.com", LeadSource="Partner"),
        config=cfg,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    web, _ = route_lead(
        a_lead(Email="x@acme.com", LeadSource="Web"),
        config=cfg,
        context=ctx,
        state=empty_state(),
        now=NOW,
    )
    assert (partner.method, partner.rep_key, partner.rule) == ("account_owner", B, "partners")
    assert (web.method, web.rep_key) == ("weighted_round_robin", A)


def test_sla_reassignment_to_a_pool_that_no_longer_exists_holds() -> None:
    cfg = a_config([a_rep(A)], [a_pool("p", [A])])
    d, _ = route_lead(
        a_lead(), config=cfg, context=a_context([A]), state=empty_state(), now=NOW, only_pool="gone"
    )
    assert d.action == "hold" and "no longer in the routing config" in d.reason


def test_overflow_chain_tries_each_target_in_order_until_someone_is_eligible() -> None:
    pools = [
        a_pool("p", [A], fallback=(Target("pool", "q"), Target("rep", C), Target("pool", "r"))),
        a_pool("q", [B], fallback=(Target("hold"),)),
        a_pool("r", ["dan@x.io"]),
    ]
    reps = [
        a_rep(A, enabled=False),
        a_rep(B, enabled=False),
        a_rep(C, enabled=False),
        a_rep("dan@x.io"),
    ]
    cfg = a_config(reps, pools)
    d, _ = route_lead(
        a_lead(), config=cfg, context=a_context([A, B, C, "dan@x.io"]), state=empty_state(), now=NOW
    )
    assert (d.rep_key, d.pool) == ("dan@x.io", "r")
    lines = render_trace(d.trace)
    assert (
        lines.index("Overflow to pool q")
        < lines.index("Fallback rep Cleo skipped (turned off)")
        < lines.index("Overflow to pool r")
    )
