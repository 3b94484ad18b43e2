"""Lead-to-account matching and value normalisation."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.routing import (
    Account,
    AccountIndex,
    AccountMatching,
    KnownEmail,
    Lead,
    _libs,
    match_account,
    normalise,
)
from worker.routing.facts import lead_facts

SETTINGS = AccountMatching()


def _match(
    accounts: list[Account], known: dict[str, list[KnownEmail]] | None = None, **fields: object
):  # type: ignore[no-untyped-def]
    return match_account(
        lead_facts(Lead("00Q", fields)), known or {}, AccountIndex.build(accounts), SETTINGS
    )


@pytest.mark.parametrize(
    ("value", "code"),
    [("USA", "US"), ("United States", "US"), ("us", "US"), ("U.S.A.", "US"), ("Deutschland", "DE"),
     ("germany ", "DE"), ("UK", "GB"), ("Côte d'Ivoire", "CI"), ("", None), ("Narnia", None), (None, None)],
)  # fmt: skip
def test_country_spellings_normalise_to_one_code(value: object, code: str | None) -> None:
    assert normalise.country_code(value) == code


@pytest.mark.parametrize(
    ("value", "country", "code"),
    [
        ("California", "US", "US-CA"),
        ("ca", "US", "US-CA"),
        ("US-NY", None, "US-NY"),
        ("Bayern", "DE", "DE-BY"),
        ("CA", None, None),
    ],
)
def test_state_names_and_codes_normalise_within_the_country(
    value: str, country: str | None, code: str | None
) -> None:
    assert normalise.state_code(value, country) == code


@pytest.mark.parametrize(
    ("url", "domain"),
    [("https://www.Acme.com/about?x=1", "acme.com"), ("shop.acme.co.uk", "acme.co.uk"), ("http://acme.com:8080", "acme.com"),
     ("www.acme.com.au/", "acme.com.au"), ("", ""), ("not a url", "")],
)  # fmt: skip
def test_website_domain_strips_www_subdomains_and_paths(url: str, domain: str) -> None:
    assert normalise.website_domain(url) == domain


@pytest.mark.parametrize(
    "host",
    ["a.com", "www.shop.acme.co.uk", "foo.sch.uk", "x.foo.sch.uk", "a.b.kawasaki.jp", "city.kawasaki.jp", "x.ck",
     "mail.acme.com.au", "com", "co.uk", "a.pvt.k12.ma.us", "x.y.example.io", "localhost", "a..com", "x.blogspot.com"],
)  # fmt: skip
def test_fast_registered_domain_agrees_with_tldextract(host: str) -> None:
    ext = _libs._EXTRACT(host)
    expected = f"{ext.domain}.{ext.suffix}" if ext.domain and ext.suffix else ""
    assert _libs.registered_domain(host) == expected


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME, Inc.", "acme"),
        ("Müller GmbH & Co. KG", "muller"),
        ("The Acme Group Ltd", "the acme"),
    ],
)
def test_company_key_drops_legal_suffixes_punctuation_and_case(name: str, key: str) -> None:
    assert normalise.company_key(name) == key


def test_gmail_lead_is_not_matched_to_an_account_by_domain() -> None:
    gmail_account = Account("001G", "Gmail Fan Club", "https://gmail.com", owner_id="005X")
    assert _match([gmail_account], Email="jo@gmail.com", Company="Something Else") is None


def test_disposable_domain_is_never_evidence() -> None:
    acct = Account("001M", "Mailinator", "mailinator.com", owner_id="005X")
    assert _match([acct], Email="x@mailinator.com") is None


def test_matches_account_by_email_domain_ignoring_www_and_subdomains() -> None:
    acct = Account("001A", "Acme", "https://www.acme.com/en", owner_id="005A")
    m = _match([acct], Email="jo@eu.sales.acme.com")
    assert m is not None and (m.account, m.via) == (acct, "email_domain")


def test_matches_by_lead_website_when_email_is_free_mail() -> None:
    acct = Account("001A", "Acme", "acme.io", owner_id="005A")
    m = _match([acct], Email="jo@gmail.com", Website="https://acme.io/pricing")
    assert m is not None and m.via == "website"


def test_tie_breakers_prefer_open_opportunities_then_recent_activity_then_size() -> None:
    quiet = Account("001Q", "Acme", "acme.com", owner_id="005Q", employees=9000)
    recent = Account("001R", "Acme", "acme.com", owner_id="005R", last_activity=date(2026, 11, 1))
    oppy = Account("001O", "Acme", "acme.com", owner_id="005O", open_opportunities=2)
    assert _match([quiet, recent, oppy], Email="a@acme.com").account == oppy  # type: ignore[union-attr]
    assert _match([quiet, recent], Email="a@acme.com").account == recent  # type: ignore[union-attr]
    assert (
        _match(
            [quiet, Account("001S", "Acme", "acme.com", owner_id="005S", employees=5)],
            Email="a@acme.com",
        ).account
        == quiet
    )  # type: ignore[union-attr]


def test_fuzzy_company_name_needs_a_corroborating_field() -> None:
    acct = Account(
        "001H", "Hooli Incorporated", None, owner_id="005H", country="US", phone="+1 (555) 010-2030"
    )
    assert (
        _match([acct], Email="jo@gmail.com", Company="Hooli Inc.", Country="France").account is None
    )  # type: ignore[union-attr]
    by_country = _match([acct], Email="jo@gmail.com", Company="Hooli Inc.", Country="USA")
    assert by_country is not None and by_country.account == acct and by_country.via == "name"
    by_phone = _match([acct], Email="jo@gmail.com", Company="Hoolie", Phone="555-010-2030")
    assert by_phone is not None and by_phone.account == acct and by_phone.score >= 90


def test_rejected_name_candidates_are_reported_for_the_trace() -> None:
    acct = Account("001H", "Hooli", None, owner_id="005H", country="US")
    m = _match([acct], Email="jo@gmail.com", Company="Hooli", Country="DE")
    assert m is not None and m.owner_id is None
    assert "no corroborating" in str(m.candidates[0]["verdict"])


def test_existing_contact_with_the_same_email_wins() -> None:
    acct = Account("001A", "Acme", "acme.com", owner_id="005A")
    other = Account("001B", "Beta", "beta.com", owner_id="005B")
    known = {"jo@acme.com": [KnownEmail("jo@acme.com", "contact", "003C", "001B", "005B")]}
    m = _match([acct, other], known, Email="Jo@Acme.com")
    assert m is not None and (m.via, m.account, m.owner_id) == ("known_email", other, "005B")


def test_matching_can_be_switched_off() -> None:
    acct = Account("001A", "Acme", "acme.com", owner_id="005A")
    facts = lead_facts(Lead("00Q", {"Email": "a@acme.com"}))
    assert (
        match_account(facts, {}, AccountIndex.build([acct]), AccountMatching(enabled=False)) is None
    )


_NAME_TOKENS = st.sampled_from(
    ["acme", "acmee", "globex", "initech", "north", "systems", "system", "müller", "zürich",
     "data", "soft", "a", "ab", "x"]
)  # fmt: skip
_NAMES = st.lists(_NAME_TOKENS, min_size=1, max_size=4).map(" ".join)


@given(query=_NAMES, choices=st.lists(_NAMES, min_size=1, max_size=40),
       cutoff=st.sampled_from([0.0, 60.0, 85.0]))  # fmt: skip
def test_presorted_fuzzy_ranking_equals_token_sort_ratio(
    query: str, choices: list[str], cutoff: float
) -> None:
    """The index sorts each name's tokens once; the ranking must be exactly rapidfuzz's
    token_sort_ratio ranking over the raw names (scores, order and positions)."""
    from rapidfuzz import fuzz, process

    expected = process.extract(
        query, choices, scorer=fuzz.token_sort_ratio, score_cutoff=cutoff, limit=5
    )
    got = _libs.best_sorted_matches(
        _libs.sorted_tokens(query), [_libs.sorted_tokens(c) for c in choices], cutoff
    )
    assert [(s, i) for _, s, i in got] == [(float(s), i) for _, s, i in expected]


@given(query=_NAMES, names=st.lists(_NAMES, min_size=1, max_size=40),
       cutoff=st.sampled_from([0.0, 60.0, 85.0]))  # fmt: skip
def test_fuzzy_search_is_the_best_five_sharing_a_block_ties_by_name(
    query: str, names: list[str], cutoff: float
) -> None:
    """Block-at-a-time search = brute force over every name sharing a blocking key."""
    from rapidfuzz import fuzz

    from worker.routing.matching import blocking_keys

    index = AccountIndex.build([Account(f"001{i:03d}", n) for i, n in enumerate(names)])
    kept = index.name_blocks.keys()  # blocks of at most MAX_BLOCK names
    shared = {k for k in index.by_name if blocking_keys(k) & blocking_keys(query) & kept}
    scored = [(k, float(fuzz.token_sort_ratio(query, k))) for k in shared]
    expected = sorted(
        [(k, s) for k, s in scored if s >= cutoff], key=lambda hit: (-hit[1], hit[0])
    )[:5]
    assert index.fuzzy_matches(query, cutoff) == expected


def test_fuzzy_search_gives_the_same_answer_whatever_the_string_hashing() -> None:
    import subprocess
    import sys

    code = (
        "from worker.routing import Account, AccountIndex\n"
        "names = ['Acme Data', 'Acme Systems', 'Data Acme Soft', 'Systems North', 'Acmeco Data',"
        " 'Acme Dta', 'Acme Datas']\n"
        "idx = AccountIndex.build([Account(f'001{i}', n) for i, n in enumerate(names)])\n"
        "print(idx.fuzzy_matches('acme data systems', 0.0, limit=20))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": ""},
        ).stdout  # fmt: skip
        for seed in (1, 2, 3, 4)
    }
    assert len(outputs) == 1, outputs


def test_a_remembered_fuzzy_answer_is_the_answer() -> None:
    names = ["Acme Data", "Acme Datas", "Acme Dta", "Acme Systems", "Northwind"]
    index = AccountIndex.build([Account(f"001{i}", n) for i, n in enumerate(names)])
    first = index.fuzzy_matches("acme data", 60.0)
    assert first and first == index.fuzzy_matches("acme data", 60.0)
    assert index.fuzzy_matches("acme data", 60.0, limit=2) == first[:2]
    assert index.fuzzy_matches("acme data", 99.0) == [("acme data", 100.0)]  # cutoff is keyed
    assert index.fuzzy_matches("acme data", 0.0, limit=50) == index._fuzzy_search(
        "acme data", 0.0, 50
    )


# --- a batch's index from part of the org (the account mirror's candidates) -------------

WORDS = ["acme", "acmes", "globex", "globe", "north", "peak"]
_names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join)
_domains = st.sampled_from(["acme.com", "globex.de", "gmail.com", None])
_accounts = st.lists(
    st.builds(
        lambda i, n, d, c: Account(f"001A{i:011d}AAA", n.title(), website=d, country=c),
        st.integers(0, 30), _names, _domains, st.sampled_from(["DE", "US", None]),
    ),
    max_size=12,
    unique_by=lambda a: a.id,
)  # fmt: skip
_leads = st.builds(
    lambda n, d, c: Lead("00QA", {"Company": n, "Email": f"ana@{d}" if d else None, "Country": c}),
    _names, _domains, st.sampled_from(["DE", "US", None]),
)  # fmt: skip


@given(accounts=_accounts, lead=_leads, known_hit=st.booleans())
def test_decided_before_names_says_exactly_when_name_evidence_is_not_read(
    accounts: list[Account], lead: Lead, known_hit: bool
) -> None:
    from worker.routing.matching import decided_before_names

    facts = lead_facts(lead)
    email = facts.email
    known = (
        {email: [KnownEmail(email, "contact", "003A", None, "005A")]} if known_hit and email else {}
    )
    index = AccountIndex.build(accounts)
    decided = decided_before_names(facts, known, index, SETTINGS)
    match = match_account(facts, known, index, SETTINGS)
    assert decided == (match is not None and match.via != "name")


@given(accounts=_accounts, lead=_leads)
def test_an_index_of_the_name_candidates_matches_like_the_full_one(
    accounts: list[Account], lead: Lead
) -> None:
    from worker.routing.matching import _fuzzy_blocks, name_candidates

    full = AccountIndex.build(accounts)
    name_blocks, sorted_blocks = _fuzzy_blocks(full.by_name)
    probe = AccountIndex.of_blocks({b: (n, sorted_blocks[b]) for b, n in name_blocks.items()})
    facts = lead_facts(lead)
    wanted = name_candidates(facts.company_key, probe, SETTINGS)
    domain = {facts.email_domain}
    part = [a for a in accounts if normalise.company_key(a.name) in wanted
            or normalise.website_domain(a.website) in domain]  # fmt: skip
    assert match_account(facts, {}, probe.with_accounts(part), SETTINGS) == match_account(
        facts, {}, full, SETTINGS
    )


def test_a_leads_facts_are_computed_once_while_it_is_recent() -> None:
    from worker.routing import facts as facts_module

    lead = Lead("00QA", {"Company": "Acme"})
    same_fields = Lead("00QA", {"Company": "Acme"})
    first = lead_facts(lead)
    assert lead_facts(lead) is first
    assert lead_facts(same_fields) is not first  # another object: its own facts
    for i in range(facts_module.RECENT_MAX):
        lead_facts(Lead(f"00QB{i}", {}))
    assert lead_facts(lead) is not first  # forgotten once older than the last RECENT_MAX
    assert len(facts_module._RECENT) <= facts_module.RECENT_MAX
