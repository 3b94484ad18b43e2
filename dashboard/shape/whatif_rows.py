"""What-if page: the proposal table (the pool's members with the terms the router
applies now), the overrides an edited proposal stands for, and the comparison of the
actual split with the two replays (:mod:`dashboard.replay`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from worker.routing import RoutingConfig
from worker.routing.members import member_terms

PROPOSAL_COLUMNS = (
    "rep",
    "name",
    "weight in pool",
    "cap/day in pool",
    "rep cap/day",
    "takes leads",
)


def proposal_rows(config: RoutingConfig, pool: str) -> list[dict[str, Any]]:
    """The pool's members with the terms the router applies now: the starting point of a
    proposal (:func:`worker.routing.members.member_terms`)."""
    return [
        {
            "rep": t.rep,
            "name": t.name,
            "weight in pool": t.weight,
            "cap/day in pool": t.pool_caps.per_day,
            "rep cap/day": t.rep_caps.per_day,
            "takes leads": config.reps[t.rep].enabled,
        }
        for t in member_terms(config, pool)
    ]


def _cell(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def proposal_overrides(
    config: RoutingConfig, pool: str, edited: Sequence[Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The overrides (same shape as the dashboard's saved ones) that turn the current
    terms into the edited ones: a weight or a cap in the pool is the member's own value
    in that pool, the rep's daily cap is the rep's."""
    before = {r["rep"]: r for r in proposal_rows(config, pool)}
    out: dict[str, dict[str, Any]] = {}
    for row in edited:
        was = before.get(str(row["rep"]))
        if was is None:
            continue
        change: dict[str, Any] = {}
        member: dict[str, Any] = {}
        weight = _cell(row.get("weight in pool"))
        if weight is not None and float(weight) != was["weight in pool"]:
            member["weight"] = float(weight)
        cap = _cell(row.get("cap/day in pool"))
        if cap != was["cap/day in pool"]:
            member["caps"] = {"per_day": None if cap is None else int(cap)}
        if member:
            change["pools"] = {pool: member}
        rep_cap = _cell(row.get("rep cap/day"))
        if rep_cap != was["rep cap/day"]:
            change["caps"] = {"per_day": None if rep_cap is None else int(rep_cap)}
        if bool(row.get("takes leads")) != bool(was["takes leads"]):
            change["enabled"] = bool(row.get("takes leads"))
            change["disabled_reason"] = None if row.get("takes leads") else "what-if"
        if change:
            out[str(row["rep"])] = change
    return out


RUNS = ("actual", "replay, current config", "replay, proposal")


def comparison_table(
    names: Mapping[str, str],
    actual: Mapping[str, int],
    current: Mapping[str, int],
    proposal: Mapping[str, int],
) -> pd.DataFrame:
    """Leads per rep: what the worker did, the replay with today's config and the replay
    with the proposal, with the proposal's change against today's config; reps by name."""
    reps = sorted(set(actual) | set(current) | set(proposal), key=lambda k: names.get(k, k))
    table = pd.DataFrame(
        [
            {
                "rep": names.get(k, k),
                RUNS[0]: actual.get(k, 0),
                RUNS[1]: current.get(k, 0),
                RUNS[2]: proposal.get(k, 0),
            }
            for k in reps
        ],
        columns=["rep", *RUNS],
    )
    table["change"] = table[RUNS[2]] - table[RUNS[1]]
    return table[list(COMPARISON_COLUMNS)]


# the change first after the rep: it is what the reader of a what-if looks for
COMPARISON_COLUMNS = ("rep", "change", RUNS[2], RUNS[1], RUNS[0])


def comparison_long(table: pd.DataFrame) -> pd.DataFrame:
    """The comparison in long form (rep, run, leads): one bar per rep and run."""
    return table.melt(id_vars=["rep"], value_vars=list(RUNS), var_name="run", value_name="leads")


def jain_change(current: Any, proposal: Any) -> str:
    """Jain's index of the pool, today's config → proposal (either replay may route none)."""
    return f"{current.jain:.3f} → {proposal.jain:.3f}" if current and proposal else "–"


def held_counts(actual: int, current: int, proposal: int) -> str:
    return f"{actual} / {current} / {proposal}"
