"""Catch-up properties over random weights and random absences: the ledger is exact at
every batch (count + credit + debt = weighted share of every lead), ``full`` ends every
rep within one lead of its weighted share of ALL the period's leads, and ``{capped: N}``
pays at most N catch-up leads per rep per local day and still ends even."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.routing.builders import NOW, a_config, a_context, a_lead, a_pool, a_rep
from worker.routing import CatchUp, DateRange, Decision, RoutingState, empty_state, route_batch

FIRST_DAY = date(2026, 11, 23)  # NOW's date; reps are in UTC, so local days are UTC days


@dataclass
class Run:
    """Routing one batch a day, with the counts and exact shares so far."""

    weights: dict[str, float]
    catch_up: CatchUp
    absences: dict[str, tuple[int, int]]  # rep -> (first day, days) away
    state: RoutingState = empty_state()
    day: int = 0
    assigned: int = 0
    counts: Counter[str] | None = None

    def route(self, leads: int) -> list[Decision]:
        config = a_config(
            [a_rep(k, weight=w, out_of_office=self._ooo(k)) for k, w in self.weights.items()],
            [a_pool("p", list(self.weights), catch_up=self.catch_up)],
        )
        ds, self.state = route_batch([a_lead(f"{self.day}-{i}") for i in range(leads)], config=config,
                                     context=a_context(list(self.weights)), state=self.state,
                                     now=NOW + timedelta(days=self.day))  # fmt: skip
        self.counts = (self.counts or Counter()) + Counter(d.rep_key for d in ds if d.rep_key)
        self.assigned += sum(d.action == "assign" for d in ds)
        self.day += 1
        return ds

    def _ooo(self, key: str) -> tuple[DateRange, ...]:
        if key not in self.absences:
            return ()
        first, days = self.absences[key]
        start = FIRST_DAY + timedelta(days=first)
        return (DateRange(start, start + timedelta(days=days - 1)),)

    @property
    def last_absence(self) -> int:
        return max((first + days for first, days in self.absences.values()), default=0)

    def deviations(self) -> dict[str, float]:
        """count − exact share, per rep: everyone is present or away on every lead, so each
        assigned lead entitles rep i to w_i / W."""
        total = sum(self.weights.values())
        counts = self.counts or Counter()
        return {k: counts[k] - self.assigned * w / total for k, w in self.weights.items()}

    def ledger_gap(self) -> float:
        """The largest |count + credit + debt − share| (0 when the ledger is exact)."""
        pool = self.state.pools.get("p")
        if pool is None:
            return 0.0
        return max(
            abs(dev + pool.credits.get(k, 0.0) + pool.debts.get(k, 0.0))
            for k, dev in self.deviations().items()
        )

    def settled(self) -> bool:
        pool = self.state.pools.get("p")
        return pool is None or not pool.debts


@st.composite
def runs(draw: st.DrawFn, catch_up: CatchUp, max_days_away: int) -> Run:
    weights = draw(st.lists(st.sampled_from([1.0, 2.0, 3.0]), min_size=2, max_size=5))
    keys = [f"r{i}@x.io" for i in range(len(weights))]
    away = st.tuples(st.integers(0, 6), st.integers(1, max_days_away))
    absences = draw(st.dictionaries(st.sampled_from(keys), away, min_size=1))
    return Run(dict(zip(keys, weights, strict=True)), catch_up, absences)


def _worst(run: Run) -> float:
    return max(abs(d) for d in run.deviations().values())


@settings(max_examples=60, deadline=None)
@given(run=runs(CatchUp("full"), 5), leads=st.lists(st.integers(1, 15), min_size=40, max_size=40))
def test_full_catch_up_ends_every_rep_within_one_lead_of_its_share_of_every_lead(
    run: Run, leads: list[int]
) -> None:
    for n in leads[: run.last_absence]:
        run.route(n)
        assert run.ledger_gap() < 1e-6
    for _ in range(300):  # pays a share-p rep's debt d in 2d/(1-p) leads: p <= 3/4 here
        if run.settled():
            break
        run.route(leads[run.day % len(leads)])
        assert run.ledger_gap() < 1e-6
    assert run.settled()
    # settled: every debt within half a lead, folded into credits within one lead
    assert _worst(run) < 1.5
    for i in range(40):  # the round-robin absorbs the folded remainder within a round
        run.route(1)
        if i + 1 >= len(run.weights):
            assert _worst(run) < 1, run.deviations()


@settings(max_examples=40, deadline=None)
@given(
    run=runs(CatchUp("capped", 2), 3),
    per_day=st.integers(1, 3),
    leads=st.lists(st.integers(1, 8), min_size=30, max_size=30),
)
def test_capped_catch_up_pays_at_most_n_a_day_and_still_ends_even(
    run: Run, per_day: int, leads: list[int]
) -> None:
    run.catch_up = CatchUp("capped", per_day)
    for day in range(400):
        if day >= run.last_absence and run.settled():
            break
        ds = run.route(leads[day % len(leads)])
        paid = Counter(d.rep_key for d in ds if d.method == "catch_up")
        assert max(paid.values(), default=0) <= per_day
        assert run.ledger_gap() < 1e-6
    assert run.settled()
    assert _worst(run) < 1.5
    for i in range(40):
        run.route(1)
        if i + 1 >= len(run.weights):
            assert _worst(run) < 1, run.deviations()
