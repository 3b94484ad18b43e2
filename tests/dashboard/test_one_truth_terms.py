"""One truth for weights and caps: what Team settings and What-if show (and edit) is what
the router applies, for random configs and random saved overrides, per pool membership."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.shape.team_form import member_changes, member_values, membership_rows, merged_pools
from dashboard.shape.whatif_rows import proposal_overrides, proposal_rows
from worker.routing import RepStatus, RoutingContext, empty_state
from worker.routing.engine import Router
from worker.routing.members import pool_weights
from worker.routing.model import Caps, Pool, PoolMember, Rep, RoutingConfig, Rule
from worker.routing_config import apply_overrides, validate_rep_override
from worker.routing_config.overrides import apply_valid_overrides

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
KEYS = [f"rep{i}@acme.example" for i in range(6)]
weights = st.sampled_from([0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
caps = st.one_of(st.none(), st.integers(min_value=0, max_value=50))


@st.composite
def configs(draw: st.DrawFn) -> RoutingConfig:
    reps = {
        k: Rep(k, k.split("@")[0].title(), weight=draw(weights),
               caps=Caps(per_hour=draw(caps), per_day=draw(caps), max_open=draw(caps)))
        for k in KEYS
    }  # fmt: skip
    pools = {}
    for p in range(draw(st.integers(1, 3))):
        chosen = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=6, unique=True))
        members = tuple(
            PoolMember(k, draw(st.one_of(st.none(), weights)), Caps(per_hour=draw(caps), per_day=draw(caps)))
            for k in chosen
        )  # fmt: skip
        pools[f"pool{p}"] = Pool(f"pool{p}", members)
    rules = (Rule("all", "pool", pool="pool0"),)
    return RoutingConfig(reps=reps, pools=pools, rules=rules)


@st.composite
def overrides(draw: st.DrawFn, config: RoutingConfig) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key in draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=4)):
        data: dict[str, Any] = {}
        if draw(st.booleans()):
            data["weight"] = draw(weights)
        if draw(st.booleans()):
            data["caps"] = {"per_day": draw(caps)}
        member_of = [p for p in config.pools.values() if any(m.rep == key for m in p.members)]
        for pool in draw(st.lists(st.sampled_from(member_of), unique=True)) if member_of else []:
            entry: dict[str, Any] = {}
            if draw(st.booleans()):
                entry["weight"] = draw(st.one_of(st.none(), weights))
            if draw(st.booleans()):
                entry["caps"] = {"per_day": draw(caps), "per_hour": draw(caps)}
            data.setdefault("pools", {})[pool.name] = entry
        out[key] = data
    return out


def _router_terms(config: RoutingConfig, pool: str) -> dict[str, tuple[float, Caps, Caps]]:
    """What the router itself holds for each member of ``pool``: weight, pool caps, rep caps."""
    context = RoutingContext(reps={k: RepStatus(k, f"005{i:012d}") for i, k in enumerate(KEYS)})
    router = Router(config, context, empty_state(), NOW)
    plan = router.pools.plan(config.pools[pool])
    return {
        s.rep.key: (s.candidate.weight, s.member.caps if s.member else Caps(), s.rep.caps)
        for s in plan
    }


def _cap(text: str, where: str) -> int | None:
    for part in text.split(", "):
        if part.endswith(where):
            return int(part.split()[0])
    return None


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_screen_shows_the_terms_the_router_applies(data: st.DataObject) -> None:
    config = data.draw(configs())
    effective, problems = apply_valid_overrides(config, data.draw(overrides(config)))
    assert problems == []
    rows = membership_rows(effective)
    for pool in effective.pools:
        router = _router_terms(effective, pool)
        team = {r["email"]: r for r in rows if r["pool"] == pool}
        whatif = {r["rep"]: r for r in proposal_rows(effective, pool)}
        assert set(team) == set(whatif) == set(router)
        assert pool_weights(effective, pool) == {k: w for k, (w, _, _) in router.items()}
        for key, (weight, pool_caps, rep_caps) in router.items():
            assert team[key]["weight"] == whatif[key]["weight in pool"] == weight
            assert _cap(team[key]["cap/day"], "in pool") == pool_caps.per_day
            assert _cap(team[key]["cap/day"], "overall") == rep_caps.per_day
            assert _cap(team[key]["cap/hour"], "in pool") == pool_caps.per_hour
            assert _cap(team[key]["cap/hour"], "overall") == rep_caps.per_hour
            assert team[key]["max open"] == rep_caps.max_open
            assert whatif[key]["cap/day in pool"] == pool_caps.per_day
            assert whatif[key]["rep cap/day"] == rep_caps.per_day
            own = next(m for m in effective.pools[pool].members if m.rep == key).weight
            assert team[key]["weight from"] == ("pool" if own is not None else "rep default")
            edit = next(r for r in member_values(effective, key) if r["pool"] == pool)
            assert edit["weight in pool"] == own
            assert edit["cap/day in pool"] == pool_caps.per_day


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_an_edit_on_screen_is_what_the_router_then_applies(data: st.DataObject) -> None:
    """Team settings' membership editor and What-if's proposal table, edited at random:
    the router's terms afterwards are the edited values."""
    config = data.draw(configs())
    pool = data.draw(st.sampled_from(sorted(config.pools)))
    key = data.draw(st.sampled_from([m.rep for m in config.pools[pool].members]))
    new_weight = data.draw(st.one_of(st.none(), weights))
    new_cap = data.draw(caps)
    # Team settings: the membership editor of one rep
    before = member_values(config, key)
    after = [dict(r) for r in before]
    row = next(r for r in after if r["pool"] == pool)
    row["weight in pool"], row["cap/day in pool"] = new_weight, new_cap
    saved = {"pools": merged_pools(None, member_changes(before, after))}
    assert validate_rep_override(config, key, saved) == []
    weight, pool_caps, rep_caps = _router_terms(apply_overrides(config, {key: saved}), pool)[key]
    assert weight == (config.reps[key].weight if new_weight is None else new_weight)
    assert pool_caps.per_day == new_cap
    # What-if: the proposal table of the pool
    table = [dict(r) for r in proposal_rows(config, pool)]
    edited = next(r for r in table if r["rep"] == key)
    edited["weight in pool"], edited["rep cap/day"] = data.draw(weights), new_cap
    proposed = apply_overrides(config, proposal_overrides(config, pool, table))
    weight, _, rep_caps = _router_terms(proposed, pool)[key]
    assert weight == edited["weight in pool"] and rep_caps.per_day == new_cap
