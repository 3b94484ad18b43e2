"""Evaluating SOQL over a small org: null semantics, case, dates, ordering, aggregates, errors."""

from datetime import UTC, datetime

import pytest

from devkit.sandbox.org import Org
from devkit.sandbox.schema import ACCOUNT, LEAD
from devkit.sandbox.seed import seed_base
from devkit.sandbox.soql import SoqlError, parse
from devkit.sandbox.soql.engine import execute

NOW = datetime(2026, 3, 11, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture
def org(tmp_path):
    org = Org.open(tmp_path / "org.sqlite", clock=lambda: NOW)
    seed_base(org)
    leads = [
        {
            "LastName": "Ada",
            "Company": "Acme",
            "Email": "ada@acme.com",
            "Country": "US",
            "NumberOfEmployees": 50,
        },
        {
            "LastName": "bob",
            "Company": "ACME Inc",
            "Email": None,
            "Country": "Germany",
            "NumberOfEmployees": None,
        },
        {
            "LastName": "Cy",
            "Company": "50% Off",
            "Email": "cy@gmail.com",
            "Country": None,
            "NumberOfEmployees": 5000,
        },
    ]
    with org.txn() as txn:
        for values in leads:
            txn.create(LEAD, values | {"OwnerId": org.intake_queue_id}, system=True)
        txn.create(
            ACCOUNT,
            {
                "Name": "Acme",
                "Website": "www.acme.com",
                "OwnerId": org.user_ids_by_email()["sarah.johnson@acme-sales.example"],
            },
            system=True,
        )
    yield org
    org.store.close()


def run(org, soql, **kw):
    result = execute(parse(soql), org.store, now=NOW, include_deleted=False, version="59.0")
    return [result.render(r) for r in result.rows] if not kw.get("raw") else result


def names(org, where):
    return sorted(r["LastName"] for r in run(org, f"SELECT LastName FROM Lead WHERE {where}"))


def test_string_equality_is_case_insensitive(org):
    assert names(org, "Company = 'acme'") == ["Ada"]
    assert names(org, "LastName IN ('BOB', 'cy')") == ["Cy", "bob"]


def test_not_equal_includes_nulls_unlike_sql(org):
    assert names(org, "Country != 'US'") == ["Cy", "bob"]
    assert names(org, "Country NOT IN ('US')") == ["Cy", "bob"]
    assert names(org, "Country = null") == ["Cy"]
    assert names(org, "Email != null") == ["Ada", "Cy"]
    assert names(org, "NumberOfEmployees < 100") == ["Ada"]  # null is not less than anything


def test_not_negates_including_null_rows(org):
    assert names(org, "NOT Country = 'US'") == ["Cy", "bob"]


def test_like_wildcards_and_escapes(org):
    assert names(org, "Email LIKE '%@ACME.com'") == ["Ada"]
    assert names(org, "Company LIKE '50\\% %'") == ["Cy"]
    assert names(org, "LastName LIKE '_o_'") == ["bob"]


def test_parenthesised_or_inside_and(org):
    assert names(org, "NumberOfEmployees > 10 AND (Country = 'US' OR Country = null)") == [
        "Ada",
        "Cy",
    ]


def test_relative_and_absolute_date_literals(org):
    assert len(names(org, "CreatedDate = TODAY")) == 3
    assert names(org, "CreatedDate < TODAY") == []
    assert len(names(org, "CreatedDate = LAST_N_DAYS:1")) == 3
    assert names(org, "CreatedDate > LAST_N_DAYS:3") == []  # after the end of today
    assert len(names(org, "CreatedDate = THIS_WEEK")) == 3
    assert len(names(org, "CreatedDate >= 2026-03-11T15:30:00Z")) == 3
    assert names(org, "CreatedDate > 2026-03-11T17:29:00+02:00") == ["Ada", "Cy", "bob"]
    assert names(org, "CreatedDate > 2026-03-11T17:30:00+02:00") == []


def test_order_by_nulls_first_by_default_in_both_directions(org):
    asc = [r["LastName"] for r in run(org, "SELECT LastName FROM Lead ORDER BY NumberOfEmployees")]
    desc = [
        r["LastName"] for r in run(org, "SELECT LastName FROM Lead ORDER BY NumberOfEmployees DESC")
    ]
    last = [
        r["LastName"]
        for r in run(org, "SELECT LastName FROM Lead ORDER BY NumberOfEmployees DESC NULLS LAST")
    ]
    assert (
        asc == ["bob", "Ada", "Cy"]
        and desc == ["bob", "Cy", "Ada"]
        and last == ["Cy", "Ada", "bob"]
    )


def test_text_sorting_ignores_case(org):
    assert [r["LastName"] for r in run(org, "SELECT LastName FROM Lead ORDER BY LastName")] == [
        "Ada",
        "bob",
        "Cy",
    ]


def test_limit_offset_and_total_size(org):
    result = run(org, "SELECT Id FROM Lead ORDER BY LastName LIMIT 1 OFFSET 1", raw=True)
    assert result.total_size == 1
    assert run(org, "SELECT COUNT() FROM Lead WHERE Email != null", raw=True).total_size == 2


def test_parent_fields_nest_and_polymorphic_owner_is_a_name_object(org):
    row = run(org, "SELECT Id, Owner.Name, Owner.Type FROM Lead LIMIT 1")[0]
    assert row["Owner"]["attributes"]["type"] == "Name"
    assert "/sobjects/Group/" in row["Owner"]["attributes"]["url"]
    assert row["Owner"]["Name"] == "Lead Intake" and row["Owner"]["Type"] == "Queue"
    acct = run(org, "SELECT Name, Owner.Email, Owner.IsActive FROM Account")[0]
    assert acct["Owner"] == {
        "attributes": acct["Owner"]["attributes"],
        "Email": "sarah.johnson@acme-sales.example",
        "IsActive": True,
    }


def test_aggregates_with_group_by_and_expr_names(org):
    rows = run(
        org,
        "SELECT OwnerId, COUNT(Id), MAX(NumberOfEmployees) biggest, MIN(CreatedDate) FROM Lead GROUP BY OwnerId",
        raw=True,
    ).rows
    assert rows == [
        {
            "attributes": {"type": "AggregateResult"},
            "OwnerId": org.intake_queue_id,
            "expr0": 3,
            "biggest": 5000,
            "expr1": "2026-03-11T15:30:00.000+0000",
        }
    ]


def test_semi_join_on_task_is_refused_like_salesforce(org):
    with pytest.raises(SoqlError, match="semi join"):
        run(org, "SELECT Id FROM Lead WHERE Id IN (SELECT WhoId FROM Task)")


def test_semi_join_on_another_object_works(org):
    assert names(org, "OwnerId IN (SELECT Id FROM Group WHERE DeveloperName = 'Lead_Intake')") == [
        "Ada",
        "Cy",
        "bob",
    ]


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Foo FROM Lead", "INVALID_FIELD"),
        ("SELECT Owner.Foo FROM Lead", "INVALID_FIELD"),
        ("SELECT Nope.Name FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Id, Id FROM Lead", "MALFORMED_QUERY"),
        ("SELECT Email, COUNT(Id) FROM Lead GROUP BY OwnerId", "MALFORMED_QUERY"),
        ("SELECT SUM(Email) FROM Lead", "INVALID_FIELD"),
        ("SELECT Id FROM Lead WHERE OwnerId = 'abc'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE CreatedDate = 2026-01-01", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees = '5'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE IsConverted > true", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE Email LIKE 5", "MALFORMED_QUERY"),
        ("SELECT Id FROM Lead WHERE NumberOfEmployees LIKE '5'", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE Company INCLUDES ('a')", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead WHERE Email < null", "INVALID_QUERY_FILTER_OPERATOR"),
        ("SELECT Id FROM Lead OFFSET 2001", "NUMBER_OUTSIDE_VALID_RANGE"),
        ("SELECT Id FROM Lead ORDER BY Description", "MALFORMED_QUERY"),
        (
            "SELECT Id FROM Lead WHERE Email != null AND (Id IN (SELECT Id FROM Group) OR Email = 'x')",
            "MALFORMED_QUERY",
        ),
    ],
)
def test_every_error_path_reports_a_salesforce_code(org, soql, code):
    with pytest.raises(SoqlError) as info:
        run(org, soql)
    assert info.value.code == code


def test_includes_on_a_multi_select_picklist(org):
    rows = run(org, "SELECT Email FROM User WHERE Languages__c INCLUDES ('de;en', 'ja')")
    assert {r["Email"].split("@")[0] for r in rows} >= {
        "thomas.muller",
        "kenji.watanabe",
        "anna.schmidt",
    }
    assert all("sarah" not in r["Email"] for r in rows)
