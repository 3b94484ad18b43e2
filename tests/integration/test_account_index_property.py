"""Differential property test: matching against the store-backed candidates of a batch
(:func:`worker.store.accounts_repo.account_index`) gives exactly what matching against an
index of every account gives, candidate lists included, after any sequence of pages of
upserts, renames and deletions; and the derived tables (accounts per name, blocks and
their sizes and names) always equal a recount from the mirrored rows.

``MAX_BLOCK`` is lowered so that a handful of names make a block too common to search:
the store must leave out exactly the blocks the full index leaves out.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlmodel import Session

from worker.routing import _libs, matching
from worker.routing.facts import lead_facts
from worker.routing.matching import AccountIndex, blocking_keys, match_account
from worker.routing.model import Account, AccountMatching, KnownEmail, Lead
from worker.store import accounts_repo
from worker.store.db import make_engine, session_scope, upgrade

pytestmark = pytest.mark.integration

WORDS = ["acme", "acmes", "acme's", "ÄCME", "globex", "globe", "north", "northern", "peak",
         "peaks", "blue"]  # fmt: skip
SUFFIXES = ["", " Inc", ", Inc.", " GmbH", " Ltd", " Group", " & Co"]
DOMAINS = ["acme.com", "shop.acme.com", "acme.co.uk", "globex.de", "gmail.com", "river.io", None]
COUNTRIES = ["DE", "Germany", "US", "United States", "fr", None]
PHONES = ["+49 30 1234567", "030 1234567", "+1 (555) 010-2000", "555 0102000", None]
OWNERS = ["005A00000000001AAA", "005A00000000002AAA", None]

names = st.builds(
    lambda ws, suffix, upper: (" ".join(ws) + suffix).upper() if upper else " ".join(ws) + suffix,
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.sampled_from(SUFFIXES),
    st.booleans(),
)


def _website(domain: str | None, style: int) -> str | None:
    if domain is None:
        return None
    return (f"https://www.{domain}/about", domain, f"http://{domain.upper()}")[style % 3]


account_fields = st.fixed_dictionaries({
    "name": names,
    "website": st.builds(_website, st.sampled_from(DOMAINS), st.integers(0, 2)),
    "owner_id": st.sampled_from(OWNERS),
    "owner_active": st.booleans(),
    "employees": st.one_of(st.none(), st.integers(1, 5)),
    "country": st.sampled_from(COUNTRIES),
    "phone": st.sampled_from(PHONES),
    "last_activity": st.one_of(st.none(), st.sampled_from([date(2026, 1, 1), date(2026, 6, 1)])),
    "open_opportunities": st.integers(0, 2),
})  # fmt: skip

lead_fields = st.fixed_dictionaries({
    "Company": st.one_of(names, st.sampled_from(["acme globe", "northern summit", "", "x"])),
    "Email": st.builds(lambda d: f"ana@{d}" if d else None, st.sampled_from(DOMAINS)),
    "Website": st.builds(_website, st.sampled_from(DOMAINS), st.integers(0, 2)),
    "Country": st.sampled_from(COUNTRIES),
    "Phone": st.sampled_from(PHONES),
})  # fmt: skip

settings_st = st.builds(
    AccountMatching,
    by_email_domain=st.booleans(),
    by_website=st.booleans(),
    by_name=st.just(True) | st.booleans(),
    fuzzy_threshold=st.sampled_from([70.0, 85.0, 90.0]),
    corroborate_with=st.sampled_from([
        frozenset({"domain", "country", "phone"}), frozenset({"country"}), frozenset({"phone"}),
    ]),
)  # fmt: skip


@st.composite
def histories(draw: st.DrawFn) -> list[tuple[dict[str, Account], set[str]]]:
    """Pages of changes: (accounts written, Ids deleted), over a pool of 12 Ids."""
    ids = [f"001A{i:011d}AAA" for i in range(12)]
    pages = []
    for _ in range(draw(st.integers(1, 4))):
        written = draw(st.dictionaries(st.sampled_from(ids), account_fields, max_size=10))
        deleted = draw(st.sets(st.sampled_from(ids), max_size=3)) - written.keys()
        pages.append(({i: Account(id=i, **f) for i, f in written.items()}, deleted))
    return pages


def _clear(engine: object) -> None:
    with session_scope(engine) as s:  # type: ignore[arg-type]
        for table in ("account_block", "account_block_size", "account_name", "account_mirror"):
            s.execute(text(f"DELETE FROM {table}"))


def _replay(engine: object, pages: list[tuple[dict[str, Account], set[str]]]) -> list[Account]:
    org: dict[str, Account] = {}
    at = datetime(2026, 11, 23, 12, tzinfo=UTC)
    for written, deleted in pages:
        at += timedelta(seconds=1)
        with session_scope(engine) as s:  # type: ignore[arg-type]
            accounts_repo.apply_changes(s, [(a, at) for a in written.values()], generation=1)
            accounts_repo.apply_changes(s, deletions=dict.fromkeys(deleted, at))
        org.update(written)
        for i in deleted:
            org.pop(i, None)
    return list(org.values())


def check_derived_tables(s: Session) -> None:
    """Accounts per name, block members and sizes equal a recount from the rows."""
    keys = Counter(k for (k,) in s.execute(text("SELECT name_key FROM account_mirror")))
    stored = dict(s.execute(text("SELECT name_key, accounts FROM account_name")).all())
    assert stored == dict(keys)
    blocks: dict[str, set[str]] = {}
    for k in keys:
        for b in blocking_keys(k):
            blocks.setdefault(b, set()).add(k)
    pairs = {(b, n) for b, n in s.execute(text("SELECT block, name_key FROM account_block"))}
    assert pairs == {(b, n) for b, ns in blocks.items() for n in ns}
    sizes = {b: (n, m, o) for b, n, m, o in s.execute(text("SELECT * FROM account_block_size"))}
    assert sizes.keys() == blocks.keys()
    for b, ns in blocks.items():
        count, members, ordered = sizes[b]
        assert count == len(ns)
        if count > matching.MAX_BLOCK:
            assert members is None and ordered is None
        else:
            assert members.split("\n") == sorted(ns)
            assert ordered.split("\n") == [_libs.sorted_tokens(n) for n in sorted(ns)]


def _run(engine: object, pages: list, leads: list, matching_settings: AccountMatching) -> None:  # type: ignore[type-arg]
    _clear(engine)
    with patch.object(matching, "MAX_BLOCK", 2):
        accounts = _replay(engine, pages)
        with Session(engine) as s:  # type: ignore[call-overload]
            check_derived_tables(s)
        batch = [Lead(f"00QA{i:011d}AAA", f) for i, f in enumerate(leads)]
        ids = [a.id for a in accounts] + ["001A00000000099AAA"]
        known = {
            "ana@acme.com": [KnownEmail("ana@acme.com", "contact", "003A1", ids[0], "005B1")],
            "ana@globex.de": [KnownEmail("ana@globex.de", "contact", "003A2", ids[-1], "005B2")],
        }
        stored = accounts_repo.account_index(engine, batch, matching_settings, known)  # type: ignore[arg-type]
        full = AccountIndex.build(accounts)
        for lead in batch:
            facts = lead_facts(lead)
            got = match_account(facts, known, stored, matching_settings)
            assert got == match_account(facts, known, full, matching_settings), lead.fields


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> object:
    url = f"sqlite:///{tmp_path_factory.mktemp('prop')}/p.db"
    upgrade(url)
    return make_engine(url)


@settings(max_examples=150, deadline=None)
@given(pages=histories(), leads=st.lists(lead_fields, min_size=1, max_size=12), s=settings_st)
def test_store_candidates_match_exactly_like_the_full_index_sqlite(
    sqlite_engine: object,
    pages: list,
    leads: list,
    s: AccountMatching,  # type: ignore[type-arg]
) -> None:
    _run(sqlite_engine, pages, leads, s)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pages=histories(), leads=st.lists(lead_fields, min_size=1, max_size=12), s=settings_st)
def test_store_candidates_match_exactly_like_the_full_index_postgres(
    pg_url: str,
    pages: list,
    leads: list,
    s: AccountMatching,  # type: ignore[type-arg]
) -> None:
    upgrade(pg_url)  # a no-op after the first example
    engine = make_engine(pg_url, pool=False)
    try:
        _run(engine, pages, leads, s)
    finally:
        engine.dispose()


def test_a_block_too_common_in_the_org_is_left_out_even_when_rare_among_the_candidates(
    sqlite_engine: object,
) -> None:
    """Lead A brings "Acme Peak" by its e-mail domain; lead B ("Acme Peaks") shares only
    the token "acme" with it, and "acme" is on more names than MAX_BLOCK: the full index
    never searches that block, so B must not find "Acme Peak" by name either (an index
    built from the candidates alone would search it: they hold one "acme" name)."""
    _clear(sqlite_engine)
    common = [
        Account(f"001A{i:011d}AAA", f"Acme {w}") for i, w in enumerate(["Blue", "North", "Globe"])
    ]
    peak = Account("001A00000000009AAA", "Acme Peak", website="acme-peak.com", country="DE")
    s = AccountMatching(fuzzy_threshold=70.0)
    leads = [
        Lead("00QA1", {"Email": "ana@acme-peak.com"}),
        Lead("00QA2", {"Company": "Acme Peaks", "Country": "DE"}),
    ]
    with patch.object(matching, "MAX_BLOCK", 2):
        with session_scope(sqlite_engine) as session:  # type: ignore[arg-type]
            accounts_repo.apply_changes(session, [(a, None) for a in [*common, peak]])
        stored = accounts_repo.account_index(sqlite_engine, leads, s)  # type: ignore[arg-type]
        full = AccountIndex.build([*common, peak])
        naive = AccountIndex.build(list(stored.by_id.values()))
        b = lead_facts(leads[1])
        assert match_account(b, {}, naive, s) is not None  # the trap is real
        assert match_account(b, {}, stored, s) == match_account(b, {}, full, s) is None
