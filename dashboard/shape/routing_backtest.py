"""The routing editor's backtest: the journal's recent leads routed again by the published
config and by the draft (:func:`dashboard.replay.replay`, What-if's replay through the
routing api), compared per rep, per pool (fairness before and after) and per lead."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.replay import Replay, actual_counts, replay
from worker.routing import Account, RoutingConfig
from worker.routing.matching import AccountIndex

MAX_CHANGED = 500  # leads listed whose owner would change


@dataclass(frozen=True)
class Backtest:
    leads: int
    published: Replay
    draft: Replay
    actual: Mapping[str, int]
    actual_held: int


def run(
    published: RoutingConfig,
    draft: RoutingConfig,
    rows: Sequence[Mapping[str, Any]],
    *,
    accounts: Sequence[Account] | AccountIndex = (),
    directory: Mapping[str, Mapping[str, Any]] | None = None,
) -> Backtest:
    before = replay(published, rows, accounts=accounts, directory=directory)
    after = replay(draft, rows, accounts=accounts, directory=directory)
    actual, held = actual_counts(rows)
    return Backtest(len(rows), before, after, actual, held)


def rep_rows(result: Backtest, names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Per rep: leads by the published config, by the draft, and the change."""
    keys = sorted(set(result.published.counts) | set(result.draft.counts))
    rows = []
    for k in keys:
        before, after = result.published.counts.get(k, 0), result.draft.counts.get(k, 0)
        rows.append(
            {"rep": names.get(k, k), "published": before, "draft": after, "change": after - before}
        )
    rows.sort(key=lambda r: (-abs(r["change"]), r["rep"]))
    return rows


def _gap(fair: Any) -> float | None:
    return None if fair is None else round(float(fair.max_deviation), 1)


def pool_rows(result: Backtest) -> list[dict[str, Any]]:
    """Per pool: leads and the largest gap between a rep's leads and its fair share
    (in leads), before and after."""
    pools = sorted(set(result.published.per_pool) | set(result.draft.per_pool))
    rows = []
    for p in pools:
        before, after = result.published.per_pool.get(p), result.draft.per_pool.get(p)
        rows.append(
            {
                "pool": p,
                "leads, published": before.total if before else 0,
                "leads, draft": after.total if after else 0,
                "largest gap from fair share, published": _gap(before),
                "largest gap from fair share, draft": _gap(after),
            }
        )
    return rows


def changed_leads(
    result: Backtest, names: Mapping[str, str], limit: int | None = MAX_CHANGED
) -> list[dict[str, Any]]:
    """The leads the draft would give to someone else (or hold, or route), newest last."""

    def who(d: Any) -> str:
        if d is None:
            return ""
        if d.action == "assign" and d.rep_key:
            return names.get(d.rep_key, d.rep_key)
        return d.action

    out = []
    for lead_id, before in result.published.decisions.items():
        after = result.draft.decisions.get(lead_id)
        if who(before) != who(after):
            out.append(
                {
                    "lead": lead_id,
                    "published": who(before),
                    "draft": who(after),
                    "draft pool": (after.pool or "") if after else "",
                }
            )
    return out if limit is None else out[-limit:]


def summary(result: Backtest) -> str:
    moved = len(changed_leads(result, {}, limit=None))
    return (
        f"{result.leads:,} leads replayed: {moved:,} would go elsewhere with the draft; "
        f"held {result.published.held:,} (published) → {result.draft.held:,} (draft)"
    )
