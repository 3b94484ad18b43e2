"""The routing editor's backtest: the same leads routed by the published config and by the
draft, compared per rep, per pool (fairness) and per lead."""

from __future__ import annotations

from datetime import UTC, datetime

from dashboard.shape import routing_backtest as bt
from worker.routing.model import Pool, PoolMember, Rep, RoutingConfig, Rule

ANNA, BEN = "anna@acme.example", "ben@acme.example"
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def config(*members: str) -> RoutingConfig:
    reps = {ANNA: Rep(ANNA, "Anna"), BEN: Rep(BEN, "Ben")}
    pool = Pool("sales", tuple(PoolMember(m) for m in members), method="round_robin")
    return RoutingConfig(reps, {"sales": pool}, (Rule("all", "pool", pool="sales"),))


def rows(n: int) -> list[dict[str, object]]:
    return [
        {"lead_id": f"00Q{i:012d}", "decided_at": AT, "lead_created_at": AT, "status": "applied",
         "rep_key": ANNA if i % 2 else BEN, "lead_fields": '{"Country": "US"}'}
        for i in range(n)
    ]  # fmt: skip


def test_a_draft_without_ben_gives_anna_his_leads() -> None:
    result = bt.run(config(ANNA, BEN), config(ANNA), rows(6))
    names = {ANNA: "Anna", BEN: "Ben"}
    assert bt.rep_rows(result, names) == [
        {"rep": "Anna", "published": 3, "draft": 6, "change": 3},
        {"rep": "Ben", "published": 3, "draft": 0, "change": -3},
    ]
    changed = bt.changed_leads(result, names)
    assert len(changed) == 3 and {(c["published"], c["draft"]) for c in changed} == {
        ("Ben", "Anna")
    }
    assert bt.changed_leads(result, names, limit=2) == changed[-2:]
    pools = bt.pool_rows(result)
    assert pools == [
        {"pool": "sales", "leads, published": 3 + 3, "leads, draft": 6,
         "largest gap from fair share, published": 0.0,
         "largest gap from fair share, draft": 0.0}
    ]  # fmt: skip
    assert bt.summary(result) == (
        "6 leads replayed: 3 would go elsewhere with the draft; held 0 (published) → 0 (draft)"
    )


def test_the_same_config_changes_nothing() -> None:
    result = bt.run(config(ANNA, BEN), config(ANNA, BEN), rows(4))
    assert bt.changed_leads(result, {}) == [] and all(
        r["change"] == 0 for r in bt.rep_rows(result, {})
    )
