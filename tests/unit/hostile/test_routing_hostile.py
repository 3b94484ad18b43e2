"""The routing core with hostile leads and arbitrary rep states.

For each decision the test checks, with its own reading of the rep's state (not the
engine's helpers), that an assigned rep really could take the lead at that moment:
turned on, a Salesforce user that is active, not out of office on their local date,
inside their local working hours, under their daily cap and open-lead cap (counting the
leads assigned earlier in the same batch), and a member of the pool (or the pool's
fallback rep). A hold must carry a reason and happen only when nobody could take it.
The same input routed twice gives the same decisions and state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.unit.hostile.strategies import any_value, lead_records, short_text, text
from worker.routing import (
    Account,
    AccountIndex,
    AccountMatching,
    Caps,
    Condition,
    Counter,
    DateRange,
    KnownEmail,
    Lead,
    Pool,
    PoolMember,
    Rep,
    RepStatus,
    RoutingConfig,
    RoutingContext,
    RoutingState,
    Rule,
    Target,
    TimeBlock,
    decision_to_json,
    match_account,
    normalise,
    route_batch,
    state_to_json,
)
from worker.routing.facts import lead_facts
from worker.sfdc.mapping import lead_row

ZONES = ("UTC", "Europe/Berlin", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata")
OFFICE = (TimeBlock(9 * 60, 17 * 60),)


@dataclass(frozen=True)
class RepSpec:
    in_pool: bool
    enabled: bool
    user: str  # "none" (no Salesforce user), "missing" (no status at all), "inactive", "active"
    zone: str
    ooo_from: int | None  # days from today (UTC) the out-of-office range starts, or None
    ooo_days: int
    office_hours: bool
    per_day: int | None
    used_today: int
    max_open: int | None
    open_leads: int
    weight: float


mostly = st.sampled_from([True, True, True, False])  # one failing condition at a time
rep_specs = st.builds(
    RepSpec,
    in_pool=mostly,
    enabled=mostly,
    user=st.sampled_from(["none", "missing", "inactive", "active", "active", "active", "active"]),
    zone=st.sampled_from(ZONES),
    ooo_from=st.sampled_from([None, None, -2, -1, 0, 0, 1]),  # around today: edges matter
    ooo_days=st.integers(0, 2),
    office_hours=st.booleans(),
    per_day=st.sampled_from([None, None, 0, 1, 2, 3]),
    used_today=st.integers(0, 3),
    max_open=st.sampled_from([None, None, 0, 1, 2, 3]),
    open_leads=st.sampled_from([0, 0, 1, 2, 5]),
    weight=st.sampled_from([0.5, 1.0, 2.0, 3.0]),
)
nows = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1), timezones=st.just(UTC)
)


def _key(i: int) -> str:
    return f"r{i}@x.example"


def _uid(i: int) -> str:
    return f"005{i:015d}"


def _world(
    specs: list[RepSpec], fallback: int | None, now: datetime
) -> tuple[RoutingConfig, RoutingContext, RoutingState]:
    reps = {}
    for i, s in enumerate(specs):
        start = now.date() + timedelta(days=s.ooo_from or 0)
        ooo = (
            (DateRange(start, start + timedelta(days=s.ooo_days)),)
            if s.ooo_from is not None
            else ()
        )
        reps[_key(i)] = Rep(
            key=_key(i), name=f"Rep {i}", timezone=s.zone, weight=s.weight,
            caps=Caps(per_day=s.per_day, max_open=s.max_open),
            working_hours=(OFFICE,) * 7 if s.office_hours else None,
            out_of_office=ooo, enabled=s.enabled,
        )  # fmt: skip
    members = tuple(PoolMember(_key(i)) for i, s in enumerate(specs) if s.in_pool)
    targets = (Target("rep", _key(fallback)),) if fallback is not None else ()
    pool = Pool("p", members, fallback=(*targets, Target("hold")))
    rules = (
        Rule("spam", "stop", (Condition("LeadSource", "equals", "spam"),), reason="spam"),
        Rule("default", "pool", pool="p"),
    )
    config = RoutingConfig(reps=reps, pools={"p": pool}, rules=rules)
    statuses = {
        _key(i): RepStatus(_key(i), None if s.user == "none" else _uid(i), s.user == "active", s.open_leads)
        for i, s in enumerate(specs)
        if s.user != "missing"
    }  # fmt: skip
    counters = {
        _key(i): Counter(now.astimezone(ZoneInfo(s.zone)).date().isoformat(), s.used_today)
        for i, s in enumerate(specs)
    }
    return config, RoutingContext(reps=statuses), RoutingState(reps=counters)


def _free(s: RepSpec, now: datetime, taken: int) -> bool:
    """Could this rep take one more lead at ``now``, having had ``taken`` in this batch?"""
    local = now.astimezone(ZoneInfo(s.zone))
    if not s.enabled or s.user != "active":
        return False
    if s.ooo_from is not None:
        start = now.date() + timedelta(days=s.ooo_from)
        if start <= local.date() <= start + timedelta(days=s.ooo_days):
            return False
    if s.office_hours and not 9 * 60 <= local.hour * 60 + local.minute < 17 * 60:
        return False
    if s.per_day is not None and s.used_today + taken >= s.per_day:
        return False
    return s.max_open is None or s.open_leads + taken < s.max_open


def _spam(lead: Lead) -> bool:
    value = lead.fields.get("LeadSource")
    return isinstance(value, str) and value.strip().lower() == "spam"


ONE_OPEN_SLOT = RepSpec(True, True, "active", "UTC", None, 0, False, None, 0, 1, 0, 1.0)
AWAY_TODAY = RepSpec(True, True, "active", "UTC", 0, 0, False, None, 0, None, 0, 1.0)
EXAMPLE_NOW = datetime(2026, 11, 23, 14, tzinfo=UTC)


@settings(max_examples=120, deadline=None)
@example(specs=[ONE_OPEN_SLOT], fallback=None, records=[{"Id": "00QA"}, {"Id": "00QB"}],
         spam=[False] * 8, now=EXAMPLE_NOW)  # fmt: skip
@example(
    specs=[AWAY_TODAY], fallback=None, records=[{"Id": "00QA"}], spam=[False] * 8, now=EXAMPLE_NOW
)
@given(
    specs=st.lists(rep_specs, min_size=1, max_size=6),
    fallback=st.one_of(st.none(), st.integers(0, 5)),
    records=st.lists(lead_records(), min_size=1, max_size=8),
    spam=st.lists(st.booleans(), min_size=8, max_size=8),
    now=nows,
)
def test_every_assignment_goes_to_a_rep_who_can_take_it(
    specs: list[RepSpec],
    fallback: int | None,
    records: list[dict[str, Any]],
    spam: list[bool],
    now: datetime,
) -> None:
    fallback = fallback if fallback is not None and fallback < len(specs) else None
    config, context, state = _world(specs, fallback, now)
    leads = [lead_row(r | ({"LeadSource": " SPAM "} if s else {})).lead for r, s in zip(records, spam, strict=False)]  # fmt: skip
    decisions, new_state = route_batch(leads, config=config, context=context, state=state, now=now)

    again, again_state = route_batch(leads, config=config, context=context, state=state, now=now)
    assert [decision_to_json(d) for d in again] == [decision_to_json(d) for d in decisions]
    assert state_to_json(again_state) == state_to_json(new_state)

    taken = [0] * len(specs)
    assert [d.lead_id for d in decisions] == [lead.id for lead in leads]
    for lead, d in zip(leads, decisions, strict=True):
        free = [i for i, s in enumerate(specs) if _free(s, now, taken[i])]
        can_get = {i for i in free if specs[i].in_pool or i == fallback}
        if _spam(lead):
            assert d.action == "stop" and d.owner_id is None, d
            continue
        if d.action == "hold":
            assert d.owner_id is None and d.reason, d
            assert not can_get, f"held while {[_key(i) for i in can_get]} could take it: {d.reason}"
            continue
        assert d.action == "assign", d
        i = int(d.rep_key.split("@")[0][1:]) if d.rep_key else -1
        assert i in free, f"{d.rep_key} is not free: {specs[i] if i >= 0 else None}"
        assert d.owner_id == _uid(i)
        assert specs[i].in_pool if d.method != "fallback_rep" else i == fallback
        taken[i] += 1


# ---------------------------------------------------------------------------------------
# account matching
# ---------------------------------------------------------------------------------------


@st.composite
def accounts(draw: st.DrawFn) -> list[Account]:
    names = draw(st.lists(text, max_size=6))
    return [
        Account(
            id=f"001{i:015d}",
            name=name,
            website=draw(
                st.one_of(
                    st.none(), text, st.sampled_from(["https://www.acme.co.uk/x", "acme.com"])
                )
            ),
            owner_id=draw(st.one_of(st.none(), st.just(f"005{i:015d}"), short_text)),
            owner_active=draw(st.booleans()),
            employees=draw(st.one_of(st.none(), st.integers(-(2**40), 2**40))),
            country=draw(
                st.one_of(st.none(), text, st.sampled_from(["USA", "DE", "Côte d'Ivoire"]))
            ),
            phone=draw(st.one_of(st.none(), text, st.just("+1 (555) 010-9999"))),
            last_activity=draw(st.one_of(st.none(), st.dates())),
            open_opportunities=draw(st.integers(0, 3)),
        )  # fmt: skip
        for i, name in enumerate(names)
    ]


@settings(max_examples=150, deadline=None)
@given(snapshot=accounts(), data=st.data())
def test_matching_returns_only_accounts_in_the_snapshot(
    snapshot: list[Account], data: st.DataObject
) -> None:
    related = [a.name for a in snapshot] + [f"x@{a.website}" for a in snapshot if a.website]
    pick = st.one_of(any_value, st.sampled_from(related)) if related else any_value
    fields = {k: data.draw(pick) for k in ("Company", "Email", "Website", "Phone", "Country")}
    facts = lead_facts(Lead("00Q000000000000001", fields))
    known_for = st.builds(
        KnownEmail, email=st.just(facts.email), kind=st.sampled_from(["contact", "lead"]),
        record_id=short_text, account_id=st.one_of(st.none(), st.sampled_from([a.id for a in snapshot] or ["001x"])),
        owner_id=short_text,
    )  # fmt: skip
    known = {facts.email: data.draw(st.lists(known_for, max_size=2))} if facts.email else {}
    settings_ = AccountMatching(corroborate_with=frozenset({"domain", "country", "phone"}))

    m = match_account(facts, known, AccountIndex.build(snapshot), settings_)

    if m is None:
        return
    ids = {a.id for a in snapshot}
    assert {c["account_id"] for c in m.candidates if "account_id" in c} <= ids
    if m.account is not None:
        assert any(m.account is a for a in snapshot)
        assert m.owner_id == m.account.owner_id
    elif m.via == "known_email":
        assert m.owner_id in {k.owner_id for k in known.get(facts.email, ())}
    else:
        assert m.owner_id is None


@settings(max_examples=200, deadline=None)
@given(value=any_value, country=st.one_of(st.none(), st.sampled_from(["US", "DE", "ZZ"])))
def test_normalisers_take_anything(value: object, country: str | None) -> None:
    code = normalise.country_code(value)
    assert code is None or (len(code) == 2 and code.isupper())
    state = normalise.state_code(value, country)
    assert state is None or "-" in state
    for domain in (normalise.email_domain(value), normalise.website_domain(value)):
        assert isinstance(domain, str)
        normalise.is_public_mail_domain(domain)
    assert isinstance(normalise.company_key(value), str)
    phone = normalise.phone_key(value)
    assert phone == "" or (phone.isdigit() and 7 <= len(phone) <= 10)


def test_the_local_date_decides_out_of_office() -> None:
    """Guards the test's own eligibility check: 23:30 UTC is already tomorrow in Berlin."""
    now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    spec = RepSpec(True, True, "active", "Europe/Berlin", 1, 0, False, None, 0, None, 0, 1.0)
    assert not _free(spec, now, 0)
    assert _free(RepSpec(**{**spec.__dict__, "zone": "UTC"}), now, 0)
    assert date(2026, 11, 24) == now.astimezone(ZoneInfo("Europe/Berlin")).date()
