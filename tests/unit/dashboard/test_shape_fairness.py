"""Fairness audit shaping: the period, the per-rep table with the config's names, the
largest deviation, the verdict's colour, the curve and the CSV rows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd

from dashboard.shape import fairness_rows as shape
from worker.routing.model import Caps, Pool, PoolMember, Rep, RoutingConfig, Rule
from worker.store.queries.fairness import FairnessReport, RepLine

START = datetime(2026, 11, 17, tzinfo=UTC)
ANNA, BEN, CARL = "anna@acme.example", "ben@acme.example", "carl@acme.example"


def config() -> RoutingConfig:
    reps = {
        ANNA: Rep(ANNA, "Anna Schmidt", weight=2.0),
        BEN: Rep(BEN, "Ben Okafor", caps=Caps(per_day=5)),
    }
    pool = Pool("EMEA-AE", (PoolMember(ANNA), PoolMember(BEN, weight=0.5)))
    return RoutingConfig(reps, {"EMEA-AE": pool}, (Rule("all", "pool", pool="EMEA-AE"),))


def report(p_value: float | None = 0.3) -> FairnessReport:
    return FairnessReport(
        pool="EMEA-AE", start=START, end=START, decisions=30, without_eligibility=0,
        truncated=False, jain=0.98, chi2=1.0, p_value=p_value, verdict="Fair",
        reps=(
            RepLine(ANNA, "anna (journal)", 22, 20.0, 2.0, 22 / 30, 20 / 30),
            RepLine(BEN, "ben (journal)", 5, 8.5, -3.5, 5 / 30, 8.5 / 30, caps_hit=4),
            RepLine(CARL, "Carl (journal)", 3, 1.5, 1.5, 3 / 30, 1.5 / 30),
        ),
        cumulative=((START, ANNA, 1.0), (START, CARL, 0.5)),
    )  # fmt: skip


def test_reps_are_named_as_the_config_names_them_else_as_the_journal_did() -> None:
    reps = shape.rep_table(report(), shape.rep_names(config()))
    assert reps["name"].tolist() == ["Anna Schmidt", "Ben Okafor", "Carl (journal)"]
    assert reps["caps_hit"].tolist() == [0, 4, 0]
    assert set(shape.REP_COLUMNS) <= set(reps.columns)


def test_without_a_config_the_journal_names_stay_and_no_weights_are_given() -> None:
    assert shape.rep_table(report(), shape.rep_names(None))["name"].iloc[0] == "anna (journal)"
    assert shape.audit_weights(None, "EMEA-AE") is None
    assert shape.audit_weights(config(), "APAC") is None


def test_the_audit_weighs_members_by_their_weight_in_the_pool() -> None:
    assert shape.audit_weights(config(), "EMEA-AE") == {ANNA: 2.0, BEN: 0.5}


def test_an_empty_report_is_an_empty_table() -> None:
    empty = FairnessReport("EMEA-AE", START, START, 0, 0, False, (), None, None, None, "–")
    reps = shape.rep_table(empty, {})
    assert reps.empty
    assert shape.largest_deviation(reps) == ("–", None)


def test_the_largest_deviation_counts_shortfalls_too() -> None:
    reps = shape.rep_table(report(), shape.rep_names(config()))
    assert shape.largest_deviation(reps) == ("-3.5 leads", "Ben Okafor")


def test_the_verdict_is_fair_from_a_p_value_of_five_percent() -> None:
    assert [shape.is_fair(report(p)) for p in (0.05, 0.0499, None, 0.9)] == [
        True, False, False, True,
    ]  # fmt: skip


def test_the_period_needs_both_ends_and_ends_after_the_last_day() -> None:
    assert shape.audit_period((date(2026, 11, 17),)) is None
    assert shape.audit_period(date(2026, 11, 17)) is None
    period = shape.audit_period((date(2026, 11, 17), date(2026, 11, 23)))
    assert period is not None
    assert (period.start, period.end) == (START, datetime(2026, 11, 24, tzinfo=UTC))
    assert (
        shape.export_name("EMEA-AE", period, "csv") == "fairness-EMEA-AE-2026-11-17-2026-11-23.csv"
    )


def test_the_curve_names_reps_and_the_bars_hold_actual_and_target() -> None:
    reps = shape.rep_table(report(), shape.rep_names(config()))
    assert shape.deviation_curve(report(), reps)["rep"].tolist() == [
        "Anna Schmidt", "Carl (journal)",
    ]  # fmt: skip
    bars = shape.target_bars(reps)
    anna = bars[bars["name"] == "Anna Schmidt"].set_index("series")["leads"].to_dict()
    assert anna == {"actual": 22.0, "target": 20.0}


def test_the_csv_puts_each_reps_service_beside_its_figures() -> None:
    reps = shape.rep_table(report(), shape.rep_names(config()))
    service = pd.DataFrame([{"owner_id": "005B", "owner": "Ben Okafor", "sla_breaches": 2}])
    rows = shape.csv_table(reps, service).set_index("name")
    assert rows.loc["Ben Okafor", "sla_breaches"] == 2
    assert pd.isna(rows.loc["Anna Schmidt", "sla_breaches"])


def test_the_audit_opens_on_the_first_emea_pool() -> None:
    assert shape.default_pool(("APAC", "emea-smb", "EMEA-AE")) == 1
    assert shape.default_pool(("APAC", "NA")) == 0


def test_the_mix_slice_keeps_one_dimension() -> None:
    mix = pd.DataFrame(
        [("005A", "Anna", "rating", "Hot", 3), ("005A", "Anna", "size", "1-50", 2)],
        columns=["owner_id", "owner", "dimension", "bucket", "leads"],
    )
    assert shape.mix_slice(mix, "size")["bucket"].tolist() == ["1-50"]


def test_the_audit_is_told_in_plain_words_furthest_rep_first() -> None:
    reps = shape.rep_table(report(), shape.rep_names(config()))
    assert shape.rep_sentences(reps) == [
        "Ben Okafor is 4 leads behind their share: got 5, share 8.5; skipped at a cap 4 times.",
        "Anna Schmidt is 2 leads ahead of their share: got 22, share 20.0.",
        "Carl (journal) is 2 leads ahead of their share: got 3, share 1.5.",
    ]
    assert shape.rep_sentences(reps, within=5) == ["Everyone is within 5 leads of their share."]
    period = shape.AuditPeriod(date(2026, 11, 17), date(2026, 11, 20))
    assert shape.headline(report(), "EMEA-AE", period) == (
        "Fair: 30 leads routed in EMEA-AE from Nov 17 to Nov 20, split as the reps' weights "
        "and the time each could take leads say."
    )
    assert shape.headline(report(p_value=0.001), "EMEA-AE", period).startswith("Uneven: ")


def test_the_audit_period_is_the_viewers_days() -> None:
    from zoneinfo import ZoneInfo

    from dashboard import fmt

    tokyo = fmt.Viewer(ZoneInfo("Asia/Tokyo"))
    period = shape.audit_period((date(2026, 11, 17), date(2026, 11, 23)), tokyo)
    assert period is not None
    assert (period.start, period.end) == (
        datetime(2026, 11, 16, 15, tzinfo=UTC),
        datetime(2026, 11, 23, 15, tzinfo=UTC),
    )
