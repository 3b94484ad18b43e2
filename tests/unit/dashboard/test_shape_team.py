"""Team settings shaping: the membership table (weight and where it comes from, caps
text), the changes a saved form stands for, and the change history table."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from dashboard import fmt
from dashboard.shape.settings_history import history_table
from dashboard.shape.team_form import (
    RepForm,
    form_changes,
    hours_rows,
    member_values,
    membership_rows,
    own_weight_pools,
    rep_values,
    rows_hours,
)
from worker.routing.model import Caps, DateRange, Pool, PoolMember, Rep, RoutingConfig, Rule

ANNA, BEN = "anna@acme.example", "ben@acme.example"


def config() -> RoutingConfig:
    reps = {
        ANNA: Rep(ANNA, "Anna", weight=2.0, caps=Caps(per_day=40, max_open=12),
                  tags=frozenset({"de"}), out_of_office=(DateRange(date(2026, 12, 1), date(2026, 12, 5)),)),
        BEN: Rep(BEN, "Ben", enabled=False, disabled_reason="parental leave"),
    }  # fmt: skip
    pools = {
        "smb": Pool("smb", (PoolMember(ANNA), PoolMember(BEN))),
        "enterprise": Pool("enterprise", (PoolMember(ANNA, 0.5, Caps(per_day=10, per_hour=2)),)),
    }
    return RoutingConfig(reps, pools, (Rule("all", "pool", pool="smb"),))


def row(rows: list[dict[str, object]], pool: str, rep: str) -> dict[str, object]:
    return next(r for r in rows if r["pool"] == pool and r["email"] == rep)


def test_membership_table_says_where_the_weight_comes_from() -> None:
    rows = membership_rows(config())
    assert (row(rows, "smb", ANNA)["weight"], row(rows, "smb", ANNA)["weight from"]) == (
        2.0,
        "rep default",
    )
    enterprise = row(rows, "enterprise", ANNA)
    assert (enterprise["weight"], enterprise["weight from"]) == (0.5, "pool")


def test_membership_table_caps_say_which_count_applies() -> None:
    rows = membership_rows(config())
    assert row(rows, "enterprise", ANNA)["cap/day"] == "10 in pool, 40 overall"
    assert row(rows, "enterprise", ANNA)["cap/hour"] == "2 in pool"
    assert row(rows, "smb", ANNA)["cap/day"] == "40 overall"
    assert row(rows, "smb", BEN)["cap/day"] == ""
    assert row(rows, "smb", ANNA)["max open"] == 12


def test_membership_table_marks_switched_off_and_edited_reps() -> None:
    rows = membership_rows(config(), edited={BEN})
    ben = row(rows, "smb", BEN)
    assert (ben["on"], ben["why off"], ben["edited"]) == (False, "parental leave", "yes")
    anna = row(rows, "smb", ANNA)
    assert (anna["edited"], anna["out of office"]) == ("", "2026-12-01..2026-12-05")


def untouched(rep: Rep) -> RepForm:
    """The form as it opens for ``rep`` (what the widgets start from)."""
    v = rep_values(rep)
    return RepForm(
        weight=v["weight"], per_day=v["caps"].get("per_day"), per_hour=v["caps"].get("per_hour"),
        max_open=v["caps"].get("max_open"), tags=", ".join(v["tags"]), timezone=v["timezone"],
        hours=hours_rows(v["working_hours"]), out_of_office="\n".join(f"{r['from']} to {r['to']}" for r in v["out_of_office"]),
        enabled=v["enabled"], reason=v["disabled_reason"] or "",
    )  # fmt: skip


def changes_of(form: RepForm, edited: list[dict[str, object]] | None = None, stored=None):  # type: ignore[no-untyped-def]
    cfg = config()
    members = member_values(cfg, ANNA)
    return form_changes(rep_values(cfg.reps[ANNA]), form, members, edited or members, stored)


def test_saving_an_untouched_form_changes_nothing() -> None:
    assert changes_of(untouched(config().reps[ANNA])) == ({}, [])


def test_only_the_fields_edited_are_changed() -> None:
    form = replace(untouched(config().reps[ANNA]), weight=1.5, tags="DE, fr ,de", per_day=None)
    changes, problems = changes_of(form)
    assert problems == []
    assert changes == {"weight": 1.5, "tags": ["de", "fr"], "caps": {"max_open": 12}}


def test_switching_off_keeps_the_reason_trimmed() -> None:
    form = replace(untouched(config().reps[ANNA]), enabled=False, reason="  on holiday ")
    assert changes_of(form)[0] == {"enabled": False, "disabled_reason": "on holiday"}


def test_input_that_does_not_parse_is_a_problem_each() -> None:
    hours = [{"day": "mon", "from": "9am", "to": "17:00"}]
    form = replace(untouched(config().reps[ANNA]), hours=hours, out_of_office="next week")
    _, problems = changes_of(form)
    assert problems == [
        "working hours row 1 (mon): from '9am' is not HH:MM",
        "out_of_office line 1: 'next week' is not 'YYYY-MM-DD to YYYY-MM-DD'",
    ]


def test_working_hours_rows_round_trip_the_config_shape() -> None:
    hours = {"mon": ["09:00-12:00", "13:00-17:00"], "fri": ["08:00-24:00"]}
    rows = hours_rows(hours)
    assert rows[:2] == [{"day": "mon", "from": "09:00", "to": "12:00"},
                        {"day": "mon", "from": "13:00", "to": "17:00"}]  # fmt: skip
    assert rows_hours(rows) == (hours, [])
    assert hours_rows(None) == [] and rows_hours([]) == (None, [])


def test_working_hours_rows_in_any_order_come_out_by_day_and_blank_rows_are_ignored() -> None:
    rows = [
        {"day": "wed", "from": "10:00", "to": "11:00"},
        {"day": None, "from": float("nan"), "to": None},  # added, left empty
        {"day": "mon", "from": "09:00", "to": "17:00"},
    ]
    value, problems = rows_hours(rows)
    assert problems == [] and list(value or {}) == ["mon", "wed"]


def test_a_working_hours_row_without_a_day_or_with_a_bad_time_is_named() -> None:
    rows = [{"day": "", "from": "09:00", "to": "17:00"},
            {"day": "tue", "from": "09:00", "to": "25:00"}]  # fmt: skip
    assert rows_hours(rows)[1] == [
        "working hours row 1: pick a day (mon … sun), not ''",
        "working hours row 2 (tue): to '25:00' is not HH:MM",
    ]


def test_editing_the_working_hours_changes_only_them() -> None:
    form = replace(
        untouched(config().reps[ANNA]), hours=[{"day": "tue", "from": "09:00", "to": "17:00"}]
    )
    assert changes_of(form) == ({"working_hours": {"tue": ["09:00-17:00"]}}, [])


def test_an_edited_pool_weight_joins_the_stored_pool_terms() -> None:
    members = member_values(config(), ANNA)
    edited = [dict(m, **{"weight in pool": 0.75}) if m["pool"] == "enterprise" else m
              for m in members]  # fmt: skip
    stored = {"enterprise": {"caps": {"per_hour": 2}}}
    changes, _ = changes_of(untouched(config().reps[ANNA]), edited, stored)
    assert changes == {"pools": {"enterprise": {"caps": {"per_hour": 2}, "weight": 0.75}}}


def test_pools_with_their_own_weight_are_named() -> None:
    assert own_weight_pools(member_values(config(), ANNA)) == ["enterprise"]


def test_history_table_leads_with_when_in_the_viewers_zone_with_plain_headings() -> None:
    history = pd.DataFrame(
        [
            (datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "rita", "rep:anna", "weight", "1.0", "2.0"),
            (datetime(2026, 11, 23, 8, 0, tzinfo=UTC), "**rita**", "rep:a@b.c", "ooo", None, "x"),
        ],
        columns=["at", "actor", "entity", "field", "old_value", "new_value"],
    )
    shown = history_table(history, fmt.Viewer(tz=ZoneInfo("America/New_York")))
    assert list(shown.columns) == ["when", "who", "what", "field", "old", "new"]
    assert shown["when"].iloc[0].startswith("2026-11-23 04:00")
    assert shown["old"].iloc[1] == "" and shown["who"].iloc[1] == "**rita**"  # blank, as typed
    assert history["at"].iloc[0] == datetime(2026, 11, 23, 9, 0, tzinfo=UTC), "input untouched"
