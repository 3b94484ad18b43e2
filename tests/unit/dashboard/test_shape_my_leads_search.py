"""My leads, Find a lead and the lead's "why" page: which rep a sign-in is, a rep's rows,
what a ``?lead=`` link may carry, and one search row per lead."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dashboard.shape.lead_rows import as_text, headline, lead_link, lead_param
from dashboard.shape.my_leads_rows import availability_words, my_rows, resolve_rep, user_id_of
from dashboard.shape.search_rows import result_rows, search_problem
from worker.routing.model import Rep, RoutingConfig

ANNA = "anna@x.example"
CONFIG = RoutingConfig({ANNA: Rep(ANNA, "Anna")}, {}, ())
DIRECTORY = {ANNA: {"user_id": "005000000000001AAA", "active": True}}
NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        (ANNA, ANNA),
        (" Anna@X.example ", ANNA),
        ("005000000000001AAA", ANNA),
        ("005000000000002AAA", None),  # nobody's user
        ("ben@x.example", None),
        (None, None),
        ("", None),
    ],
)
def test_resolve_rep_by_key_or_salesforce_user(ref: str | None, expected: str | None) -> None:
    assert resolve_rep(ref, CONFIG, DIRECTORY) == expected


def test_user_id_and_availability_words() -> None:
    assert user_id_of(ANNA, DIRECTORY) == "005000000000001AAA"
    assert user_id_of("ben@x.example", DIRECTORY) is None
    assert availability_words(True, None) == "available"
    assert availability_words(False, "lunch") == "away (lunch)"
    assert availability_words(False, None) == "away (no reason given)"


def test_my_rows_in_the_team_zone_with_today_and_week_counts() -> None:
    rows = [
        {"decided_at": NOW - timedelta(hours=1), "lead_id": "00Q1", "lead_name": "Jo",
         "lead_company": "Acme", "kind": "sla_reassign", "sla_state": "open",
         "first_touch_at": None},
        {"decided_at": NOW - timedelta(days=2), "lead_id": "00Q2", "lead_name": None,
         "lead_company": None, "kind": "route", "sla_state": "touched",
         "first_touch_at": NOW - timedelta(days=2) + timedelta(minutes=5)},
    ]  # fmt: skip
    shown, today, week = my_rows(rows, NOW - timedelta(hours=10), ZoneInfo("America/New_York"))
    assert (today, week) == (1, 2)
    assert shown[0] == {"when": "Mon 09:00", "lead": "Jo", "company": "Acme",
                        "how": "re-assigned to you", "first touch": "not yet", "lead_id": "00Q1"}  # fmt: skip
    assert (shown[1]["lead"], shown[1]["first touch"], shown[1]["how"]) == (
        "00Q2",
        "Sat 10:05",
        "routed",
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00Q000000000000012", "00Q000000000000012"),
        (" 00Q000000000001 ", "00Q000000000001"),
        ("001000000000000012", None),  # an account
        ("00Q0000000000000", None),  # 16 characters
        ("' OR 1=1 --", None),
        (None, None),
    ],
)
def test_a_lead_link_carries_a_lead_id_or_nothing(value: object, expected: str | None) -> None:
    assert lead_param(value) == expected


def test_headline_and_link() -> None:
    assert headline({"lead_id": "00Q1", "lead_name": "Jo", "owner_name": "Anna",
                     "outcome": "assigned"}) == "Why lead Jo went to Anna"  # fmt: skip
    assert headline({"lead_id": "00Q1", "outcome": "held"}) == "Lead 00Q1: held"
    assert lead_link("00Q1") == "lead?lead=00Q1"


def test_search_rows_one_per_lead_newest_decision_first() -> None:
    rows = [
        {"lead_id": "00Q1", "lead_name": "Jo", "lead_company": "Acme", "lead_email": "jo@gmail.com",
         "outcome": "reassigned", "owner_name": "Ben"},
        {"lead_id": "00Q1", "lead_name": "Jo", "lead_company": "Acme", "lead_email": "jo@gmail.com",
         "outcome": "assigned", "owner_name": "Anna"},
        {"lead_id": "00Q2", "lead_name": None, "lead_company": None, "lead_email": None,
         "outcome": "held", "owner_name": None},
    ]  # fmt: skip
    out = result_rows(rows)
    assert [(r["lead_id"], r["owner"], r["why"]) for r in out] == [
        ("00Q1", "Ben", "lead?lead=00Q1"),
        ("00Q2", "", "lead?lead=00Q2"),
    ]
    assert out[1]["company"] == "" and out[1]["e-mail"] == ""  # blanks, never "None"


def test_search_needs_two_characters() -> None:
    assert search_problem(" a ") == "Type at least 2 characters."
    assert search_problem("ab") is None


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("**x**", r"\*\*x\*\*"),
        ("[a](b)", r"\[a\](b)"),
        ("<script>alert(1)</script>", r"\<script\>alert(1)\</script\>"),
        (":red[x] $x$", r"\:red\[x\] \$x\$"),
        ("two\nlines", "two lines"),
        ("lunch (back at 2)", "lunch (back at 2)"),
    ],
)
def test_as_text_escapes_what_would_render_as_markdown(raw: str, shown: str) -> None:
    assert as_text(raw) == shown


def test_headline_escapes_the_leads_name() -> None:
    detail = {
        "lead_id": "00Q1",
        "lead_name": "**Jo**",
        "owner_name": "[x](y)",
        "outcome": "assigned",
    }
    assert headline(detail) == r"Why lead \*\*Jo\*\* went to \[x\](y)"
