from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from devkit.sandbox.soql import SoqlError, parse
from devkit.sandbox.soql.ast import (
    Aggregate,
    BoolOp,
    Comparison,
    FieldPath,
    InList,
    Not,
    RelativeDate,
    SemiJoin,
)
from devkit.sandbox.soql.lexer import decode_string


def where(soql):
    return parse("SELECT Id FROM Lead WHERE " + soql).where


def test_parses_the_worker_intake_query():
    q = parse(
        "SELECT Id, OwnerId, SystemModstamp FROM Lead WHERE OwnerId IN ('00GHs0000000001MAA') "
        "AND IsConverted = false AND SystemModstamp >= 2026-01-01T00:00:00Z ORDER BY SystemModstamp, Id LIMIT 2000"
    )
    assert q.sobject == "Lead" and q.limit == 2000
    assert isinstance(q.where, BoolOp) and q.where.op == "AND" and len(q.where.items) == 3
    assert q.where.items[2] == Comparison(
        FieldPath(("SystemModstamp",)), ">=", datetime(2026, 1, 1, tzinfo=UTC)
    )


def test_keywords_and_booleans_are_case_insensitive():
    q = parse("select id from lead where isconverted = FALSE order by id desc nulls last")
    assert q.where == Comparison(FieldPath(("isconverted",)), "=", False)
    assert q.order_by[0].descending and q.order_by[0].nulls_last


def test_mixing_and_with_or_needs_parentheses():
    with pytest.raises(SoqlError, match="unexpected token: 'OR'"):
        where("Status = 'a' AND Email = 'b' OR Company = 'c'")
    grouped = where("Status = 'a' AND (Email = 'b' OR Company = 'c')")
    assert isinstance(grouped, BoolOp) and grouped.op == "AND" and grouped.items[1].op == "OR"


def test_not_must_open_a_group():
    assert isinstance(where("NOT Status = 'a'"), Not)
    assert isinstance(where("Email != null AND (NOT Status = 'a')"), BoolOp)
    with pytest.raises(SoqlError):
        where("Email != null AND NOT Status = 'a'")


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        (r"'O\'Brien'", "O'Brien"),
        (r"'back\\slash'", "back\\slash"),
        (r"'tab\there'", "tab\there"),
        (r"'\u00e9t\u00E9'", "été"),
        ("'naïve 日本'", "naïve 日本"),
    ],
)
def test_string_escapes_are_decoded(literal, value):
    assert where(f"Company = {literal}").value == value


def test_an_unknown_escape_is_malformed():
    with pytest.raises(SoqlError) as info:
        where(r"Company = 'a\qb'")
    assert info.value.code == "MALFORMED_QUERY"


def test_like_keeps_escaped_wildcards_literal():
    assert decode_string(r"50\%\_x", like=True) == r"50\%\_x"
    with pytest.raises(SoqlError):
        decode_string(r"50\%", like=False)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("TODAY", RelativeDate("TODAY")),
        ("LAST_N_DAYS:7", RelativeDate("LAST_N_DAYS", 7)),
        ("2026-02-03", date(2026, 2, 3)),
        ("2026-02-03T04:05:06+02:00", datetime(2026, 2, 3, 2, 5, 6, tzinfo=UTC)),
        ("42", Decimal(42)),
        ("-1.5", Decimal("-1.5")),
        ("null", None),
    ],
)
def test_literals(text, value):
    assert where(f"CreatedDate = {text}").value == value


@pytest.mark.parametrize(
    "bad",
    [
        "CreatedDate > 2026-01-01T00:00:00.000Z",  # fractional seconds are not a SOQL format
        "CreatedDate > 2026-01-01T00:00:00",  # no zone
        "CreatedDate > LAST_N_MINUTES:5",  # not a documented literal
        "CreatedDate > LAST_N_DAYS",  # missing :n
        "Company = 'unterminated",
        "Company == 'a'",
        "Company IN 'a'",
        "(Company = 'a'",
    ],
)
def test_malformed_conditions_are_refused(bad):
    with pytest.raises(SoqlError) as info:
        where(bad)
    assert info.value.code == "MALFORMED_QUERY"


def test_in_not_in_and_semi_join():
    assert where("Email NOT IN ('a', 'b')") == InList(FieldPath(("Email",)), ("a", "b"), True)
    semi = where("Id IN (SELECT WhoId FROM Task WHERE Status = 'Completed')")
    assert isinstance(semi, SemiJoin) and semi.query.sobject == "Task"


def test_aggregates_aliases_count_and_group_by():
    q = parse("SELECT OwnerId, COUNT(Id), MIN(CreatedDate) earliest FROM Lead GROUP BY OwnerId")
    assert q.select[1] == Aggregate("COUNT", FieldPath(("Id",))) and q.select[2].alias == "earliest"
    assert parse("SELECT COUNT() FROM Lead").count_only


@pytest.mark.parametrize(
    "bad",
    [
        "SELECT FROM Lead",
        "SELECT Id Lead",
        "SELECT Id FROM Lead LIMIT x",
        "SELECT Id, (SELECT Id FROM Tasks) FROM Lead",
        "SELECT FIELDS(ALL) FROM Lead",
        "SELECT Id FROM Lead FOR UPDATE",
        "SELECT Id FROM Lead WHERE CALENDAR_YEAR(CreatedDate) = 2026",
        "SELECT Id FROM Lead extra",
    ],
)
def test_unsupported_or_broken_statements_are_malformed(bad):
    with pytest.raises(SoqlError) as info:
        parse(bad)
    assert info.value.code == "MALFORMED_QUERY"


def test_from_group_is_an_object_not_a_clause():
    assert parse("SELECT Id FROM Group WHERE Type = 'Queue'").sobject == "Group"


@pytest.mark.parametrize("opening", ["(", "NOT ("])
def test_deep_nesting_is_a_malformed_query_not_a_recursion_error(opening):
    with pytest.raises(SoqlError) as info:
        where(opening * 3000 + "Name = 'x'" + ")" * 3000)
    assert info.value.code == "MALFORMED_QUERY"
    assert "nested more than 100 levels deep" in info.value.message


def test_nesting_up_to_the_limit_still_parses():
    assert isinstance(where("(" * 100 + "Name = 'x'" + ")" * 100), Comparison)
