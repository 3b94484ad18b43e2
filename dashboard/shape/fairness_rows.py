"""Fairness audit page: the audited period, the per-rep table with the config's names,
the largest deviation, the chart series, the lead-mix slice and the CSV rows, from the
store's :class:`~worker.store.queries.fairness.FairnessReport`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta

import pandas as pd

from worker.routing import members
from worker.routing.model import RoutingConfig
from worker.store.queries.fairness import FairnessReport

FAIR_P_VALUE = 0.05  # at or above: the split is what the weights explain
REP_COLUMNS = ("name", "actual", "target", "deviation", "share_actual", "share_target", "caps_hit")


def default_pool(pools: Sequence[str]) -> int:
    """The pool the audit opens on: the first EMEA one, else the first."""
    return next((i for i, p in enumerate(pools) if p.upper().startswith("EMEA")), 0)


@dataclass(frozen=True)
class AuditPeriod:
    """The days picked, first to last (both included)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight (UTC) after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time.min, UTC)


def audit_period(picked: object) -> AuditPeriod | None:
    """A date picker's range, or None until both ends are picked."""
    if not isinstance(picked, tuple | list) or len(picked) < 2:
        return None
    return AuditPeriod(picked[0], picked[1])


def rep_names(config: RoutingConfig | None) -> dict[str, str]:
    return {k: r.name for k, r in config.reps.items()} if config else {}


def audit_weights(config: RoutingConfig | None, pool: str) -> dict[str, float] | None:
    """Configured weights of ``pool``'s members, for journal rows that lack eligible
    weights; None when the config cannot be loaded or does not know the pool."""
    if config is None or pool not in config.pools:
        return None
    return members.pool_weights(config, pool)


def rep_table(report: FairnessReport, names: Mapping[str, str]) -> pd.DataFrame:
    """One row per rep of the report, named as the config names them now (reps who got
    nothing are known only by key in the journal)."""
    reps = pd.DataFrame([asdict(r) for r in report.reps])
    if not reps.empty:
        reps["name"] = [names.get(k, n) for k, n in zip(reps["rep"], reps["name"], strict=True)]
    return reps


def is_fair(report: FairnessReport) -> bool:
    return report.p_value is not None and report.p_value >= FAIR_P_VALUE


def largest_deviation(reps: pd.DataFrame) -> tuple[str, str | None]:
    """The largest deviation from target, in leads, and whose it is."""
    if reps.empty:
        return "–", None
    worst = reps.loc[reps["deviation"].abs().idxmax()]
    return f"{worst['deviation']:+.1f} leads", str(worst["name"])


def target_bars(reps: pd.DataFrame) -> pd.DataFrame:
    """Actual and target per rep in long form (name, series, leads)."""
    return reps.melt(
        id_vars=["name"], value_vars=["actual", "target"], var_name="series", value_name="leads"
    )


def deviation_curve(report: FairnessReport, reps: pd.DataFrame) -> pd.DataFrame:
    """The cumulative deviation over the period (at, rep, deviation), reps by name."""
    curve = pd.DataFrame(report.cumulative, columns=["at", "rep", "deviation"])
    names = dict(zip(reps["rep"], reps["name"], strict=True))
    curve["rep"] = curve["rep"].map(lambda r: names.get(r, r))
    return curve


def mix_slice(mix: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The lead mix along one dimension (rating, size or source)."""
    return mix[mix["dimension"] == dimension]


def csv_table(reps: pd.DataFrame, service: pd.DataFrame) -> pd.DataFrame:
    """The per-rep download: the fairness figures beside each rep's service."""
    return reps.merge(service, how="left", left_on="name", right_on="owner")


def export_name(pool: str, period: AuditPeriod, extension: str) -> str:
    return f"fairness-{pool}-{period.first}-{period.last}.{extension}"
