"""Fairness audit page: the audited period, the per-rep table with the config's names,
the largest deviation, the chart series, the lead-mix slice and the CSV rows, from the
store's :class:`~worker.store.queries.fairness.FairnessReport`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

import pandas as pd

from dashboard import fmt
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
    """The days picked, first to last (both included), days of the viewer's zone."""

    first: date
    last: date
    viewer: fmt.Viewer = fmt.UTC_VIEWER

    @property
    def start(self) -> datetime:
        return self.viewer.day_bounds(self.first, self.last)[0]

    @property
    def end(self) -> datetime:
        """Exclusive: the viewer's midnight after the last day."""
        return self.viewer.day_bounds(self.first, self.last)[1]

    @property
    def words(self) -> str:
        """The period as a reader says it."""
        if (self.last - self.first).days == 6 and self.last == self.viewer.today(
            datetime.now(self.viewer.tz)
        ):
            return "in the last 7 days"
        return f"from {self.first:%b} {self.first.day} to {self.last:%b} {self.last.day}"


def audit_period(picked: object, viewer: fmt.Viewer = fmt.UTC_VIEWER) -> AuditPeriod | None:
    """A date picker's range, or None until both ends are picked."""
    if not isinstance(picked, tuple | list) or len(picked) < 2:
        return None
    return AuditPeriod(picked[0], picked[1], viewer)


def _leads(n: float) -> str:
    return "1 lead" if n == 1 else f"{n:g} leads"


def headline(report: FairnessReport, pool: str, period: AuditPeriod) -> str:
    """The audit's verdict in plain words (no statistics)."""
    routed = f"{_leads(report.decisions)} routed in {pool} {period.words}"
    if report.decisions == 0:
        return f"No lead was routed in {pool} {period.words}."
    if report.p_value is None:
        return f"Too early to tell: {routed}, too few to judge the split."
    if is_fair(report):
        return f"Fair: {routed}, split as the reps' weights and the time each could take leads say."
    return f"Uneven: {routed}, split more unevenly than the weights and time away explain."


def rep_sentences(reps: pd.DataFrame, *, within: float = 1.0) -> list[str]:
    """Each rep more than ``within`` leads off their share, furthest first, in words:
    "Sarah Johnson is 2 leads behind their share"; or that everyone is within it."""
    if reps.empty:
        return []
    off = reps[reps["deviation"].abs() >= within].sort_values(
        "deviation", key=lambda d: d.abs(), ascending=False
    )
    if off.empty:
        return [f"Everyone is within {_leads(within)} of their share."]
    out = []
    for row in off.itertuples():
        gap = round(abs(float(row.deviation)))
        side = "behind" if row.deviation < 0 else "ahead of"
        capped = ""
        if row.deviation < 0 and row.caps_hit:
            capped = f"; skipped at a cap {int(row.caps_hit)} times"
        out.append(
            f"{row.name} is {_leads(gap)} {side} their share: got {int(row.actual)}, "
            f"share {float(row.target):.1f}{capped}."
        )
    return out


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


def deviation_curve(
    report: FairnessReport, reps: pd.DataFrame, viewer: fmt.Viewer = fmt.UTC_VIEWER
) -> pd.DataFrame:
    """The cumulative deviation over the period (at, rep, deviation), reps by name, ``at``
    in the viewer's wall clock."""
    curve = pd.DataFrame(report.cumulative, columns=["at", "rep", "deviation"])
    names = dict(zip(reps["rep"], reps["name"], strict=True))
    curve["rep"] = curve["rep"].map(lambda r: names.get(r, r))
    if not curve.empty:
        curve["at"] = viewer.wall_clock(curve["at"])
    return curve


def mix_slice(mix: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """The lead mix along one dimension (rating, size or source)."""
    return mix[mix["dimension"] == dimension]


def csv_table(reps: pd.DataFrame, service: pd.DataFrame) -> pd.DataFrame:
    """The per-rep download: the fairness figures beside each rep's service."""
    return reps.merge(service, how="left", left_on="name", right_on="owner")


def export_name(pool: str, period: AuditPeriod, extension: str) -> str:
    return f"fairness-{pool}-{period.first}-{period.last}.{extension}"
