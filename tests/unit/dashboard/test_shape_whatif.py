"""What-if shaping: the proposal's starting rows, the overrides an edit stands for and
the comparison of the actual split with the two replays."""

from __future__ import annotations

from types import SimpleNamespace

from dashboard.shape import whatif_rows as shape
from worker.routing.model import Caps, Pool, PoolMember, Rep, RoutingConfig, Rule

ANNA, BEN = "anna@acme.example", "ben@acme.example"


def config() -> RoutingConfig:
    reps = {
        ANNA: Rep(ANNA, "Anna", weight=2.0, caps=Caps(per_day=40)),
        BEN: Rep(BEN, "Ben"),
    }
    pool = Pool("enterprise", (PoolMember(ANNA, 0.5, Caps(per_day=10)), PoolMember(BEN)))
    return RoutingConfig(reps, {"enterprise": pool}, (Rule("all", "pool", pool="enterprise"),))


def test_the_proposal_starts_from_the_terms_the_router_applies() -> None:
    rows = {r["rep"]: r for r in shape.proposal_rows(config(), "enterprise")}
    assert rows[ANNA] == {
        "rep": ANNA, "name": "Anna", "weight in pool": 0.5, "cap/day in pool": 10,
        "rep cap/day": 40, "takes leads": True,
    }  # fmt: skip
    assert (rows[BEN]["weight in pool"], rows[BEN]["cap/day in pool"]) == (1.0, None)


def test_an_unedited_proposal_overrides_nothing() -> None:
    rows = shape.proposal_rows(config(), "enterprise")
    assert shape.proposal_overrides(config(), "enterprise", rows) == {}


def test_edits_become_pool_terms_rep_caps_and_switches() -> None:
    rows = {r["rep"]: dict(r) for r in shape.proposal_rows(config(), "enterprise")}
    rows[ANNA].update({"weight in pool": 1.25, "cap/day in pool": float("nan")})
    rows[BEN].update({"rep cap/day": 7, "takes leads": False})
    assert shape.proposal_overrides(config(), "enterprise", list(rows.values())) == {
        ANNA: {"pools": {"enterprise": {"weight": 1.25, "caps": {"per_day": None}}}},
        BEN: {"caps": {"per_day": 7}, "enabled": False, "disabled_reason": "what-if"},
    }


def test_the_comparison_lists_every_rep_of_any_run_by_name() -> None:
    names = {ANNA: "Anna", BEN: "Aaron"}  # by name Aaron comes first, by key Anna
    table = shape.comparison_table(
        names, actual={BEN: 4, "zoe@old.example": 1}, current={ANNA: 3, BEN: 2}, proposal={ANNA: 5}
    )
    assert table.to_dict("records") == [
        {"rep": "Aaron", "actual": 4, "replay, current config": 2, "replay, proposal": 0, "change": -2},
        {"rep": "Anna", "actual": 0, "replay, current config": 3, "replay, proposal": 5, "change": 2},
        {"rep": "zoe@old.example", "actual": 1, "replay, current config": 0, "replay, proposal": 0,
         "change": 0},
    ]  # fmt: skip


def test_the_chart_has_one_bar_per_rep_and_run() -> None:
    table = shape.comparison_table({}, {ANNA: 1}, {ANNA: 2}, {ANNA: 3})
    long = shape.comparison_long(table)
    assert long[["run", "leads"]].to_dict("records") == [
        {"run": "actual", "leads": 1},
        {"run": "replay, current config", "leads": 2},
        {"run": "replay, proposal", "leads": 3},
    ]


def test_jain_change_and_held_counts() -> None:
    fair, skewed = SimpleNamespace(jain=0.99), SimpleNamespace(jain=0.8123)
    assert shape.jain_change(fair, skewed) == "0.990 → 0.812"
    assert shape.jain_change(None, skewed) == "–"
    assert shape.held_counts(3, 1, 0) == "3 / 1 / 0"


def test_the_change_is_the_column_after_the_rep() -> None:
    table = shape.comparison_table({}, {ANNA: 1}, {ANNA: 2}, {ANNA: 3})
    assert list(table.columns)[:2] == ["rep", "change"]
