"""Every SOQL builder, fed arbitrary strings, produces a query whose WHERE clause has
exactly the intended shape, with each value a literal equal to the input.

The queries are parsed back with the sandbox org's SOQL parser (the same grammar as
Salesforce: AND/OR cannot be mixed without parentheses), and the parsed WHERE tree is
compared with the tree the builder means to produce. An injected ``OR``/``LIKE`` or an
unescaped LIKE wildcard changes the tree (or fails the parse), so the test fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.sandbox.soql.ast import BoolOp, Comparison, Condition, FieldPath, InList, Query
from devkit.sandbox.soql.parser import parse
from tests.unit.hostile.strategies import INJECTIONS, LEAD_FIELDS, short_text, text
from worker.sfdc import soql

FAST = settings(max_examples=150, deadline=None)

# IN-list values in the chunked builders are cut to 255 characters, so any length goes;
# the unchunked ones take Ids and queue names (short): a SOQL statement is <= 100k chars.
values = st.lists(text, max_size=6)
short_values = st.lists(st.one_of(short_text, st.sampled_from(INJECTIONS)), min_size=1, max_size=6)
stamps = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
)


def F(name: str) -> FieldPath:  # noqa: N802 - reads like the AST it builds
    return FieldPath((name,))


def _in(field: str, items: Iterable[str], negated: bool = False) -> InList:
    return InList(F(field), tuple(items), negated)


def _utc(at: datetime) -> datetime:
    """Compare in UTC: aware datetimes in a DST gap/fold never compare equal across zones."""
    return at.astimezone(UTC).replace(microsecond=0)


def _where(query: str, sobject: str) -> Condition | None:
    parsed: Query = parse(query)
    assert parsed.sobject == sobject
    return parsed.where


def _kept(items: Iterable[str], lower: bool = False) -> list[str]:
    """What the chunked builders promise to look up: distinct, non-empty, cut to 255."""
    return list(dict.fromkeys((v.lower() if lower else v)[:255] for v in items if v))


def _in_chunks(queries: list[str], sobject: str, field: str) -> list[str]:
    """The values of ``WHERE field IN (...)`` over all chunk queries (nothing else allowed)."""
    out: list[str] = []
    for q in queries:
        where = _where(q, sobject)
        assert isinstance(where, InList) and where.field == F(field) and not where.negated
        assert all(isinstance(v, str) for v in where.values)
        out += where.values  # type: ignore[arg-type]
    return out


@FAST
@given(owners=short_values, since=st.one_of(st.none(), stamps))
def test_intake_query(owners: list[str], since: datetime | None) -> None:
    where = _where(soql.intake_query(owners, since, LEAD_FIELDS), "Lead")
    items: list[Condition] = [_in("OwnerId", owners), Comparison(F("IsConverted"), "=", False)]
    if since is not None:
        items.append(Comparison(F("SystemModstamp"), ">=", _utc(since)))
    assert where == BoolOp("AND", tuple(items))


@FAST
@given(ids=values)
def test_id_list_queries(ids: list[str]) -> None:
    assert _in_chunks(soql.leads_by_id_queries(ids, ("Id",)), "Lead", "Id") == _kept(ids)
    assert _in_chunks(soql.users_active_queries(ids), "User", "Id") == _kept(ids)
    assert _in_chunks(soql.tasks_for_leads_queries(ids), "Task", "WhoId") == _kept(ids)


@FAST
@given(emails=values)
def test_email_queries(emails: list[str]) -> None:
    assert _in_chunks(soql.contacts_queries(emails), "Contact", "Email") == _kept(emails, True)
    seen: list[str] = []
    for q in soql.users_by_email_queries(emails):
        where = _where(q, "User")
        assert isinstance(where, BoolOp) and where.op == "OR" and len(where.items) == 2
        by_email, by_username = where.items
        assert isinstance(by_email, InList) and by_email.field == F("Email")
        assert by_username == _in("Username", by_email.values)  # type: ignore[arg-type]
        seen += by_email.values  # type: ignore[arg-type]
    assert seen == _kept(emails, lower=True)


@FAST
@given(names=short_values)
def test_queue_ids_query(names: list[str]) -> None:
    where = _where(soql.queue_ids_query(names), "Group")
    assert where == BoolOp(
        "AND", (Comparison(F("Type"), "=", "Queue"), _in("DeveloperName", names))
    )


@FAST
@given(
    owners=short_values,
    closed=st.lists(st.one_of(short_text, st.sampled_from(INJECTIONS)), max_size=4),
)
def test_open_leads_by_owner_query(owners: list[str], closed: list[str]) -> None:
    where = _where(soql.open_leads_by_owner_query(owners, closed), "Lead")
    items: list[Condition] = [_in("OwnerId", owners), Comparison(F("IsConverted"), "=", False)]
    if closed:
        items.append(_in("Status", closed, negated=True))
    assert where == BoolOp("AND", tuple(items))


@FAST
@given(after=st.one_of(st.none(), short_text, st.sampled_from(INJECTIONS)))
def test_accounts_by_id_query(after: str | None) -> None:
    where = _where(soql.accounts_by_id_query(after, 2000), "Account")
    if not after:
        assert where is None
    else:
        assert where == Comparison(F("Id"), ">", after)


@FAST
@given(at=stamps, after=st.one_of(short_text, st.sampled_from(INJECTIONS)))
def test_accounts_changed_query(at: datetime, after: str) -> None:
    where = _where(soql.accounts_changed_query(at, after, 2000), "Account")
    if not after:
        assert where == Comparison(F("SystemModstamp"), ">=", _utc(at))
        return
    same_second = BoolOp(
        "AND",
        (Comparison(F("SystemModstamp"), "=", _utc(at)), Comparison(F("Id"), ">", after)),
    )
    assert where == BoolOp("OR", (Comparison(F("SystemModstamp"), ">", _utc(at)), same_second))


@FAST
@given(since=stamps)
def test_users_changed_query(since: datetime) -> None:
    where = _where(soql.users_changed_query(since), "User")
    assert where == Comparison(F("SystemModstamp"), ">=", _utc(since))


@settings(max_examples=20, deadline=None)
@given(n=st.integers(150, 400), head=text, tail=short_text)
def test_many_long_values_are_split_and_none_is_lost(n: int, head: str, tail: str) -> None:
    ids = [f"{head[:240]}{i:05d}{tail}" * 2 for i in range(n)]
    queries = soql.leads_by_id_queries(ids, LEAD_FIELDS)
    assert _in_chunks(queries, "Lead", "Id") == _kept(ids)
