"""Synthetic, seeded workloads for the routing benchmark and the simulator: reps, pools,
rules, territories, accounts and leads with a realistic field mix (country spellings,
free-mail and disposable addresses, company-name variants, employee counts spread over
four orders of magnitude). Randomness lives here, never in the routing core."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, overload

from worker.routing import (
    Account,
    Caps,
    Condition,
    Lead,
    Pool,
    PoolMember,
    Rep,
    RepStatus,
    RoutingConfig,
    Rule,
    Target,
    Territory,
    TimeBlock,
)  # fmt: skip

COUNTRIES: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("US", ("United States", "USA", "us", "US", "United States of America"), 0.34),
    ("CA", ("Canada", "CA"), 0.04),
    ("GB", ("United Kingdom", "UK", "GB"), 0.08),
    ("DE", ("Germany", "Deutschland", "DE"), 0.08),
    ("FR", ("France", "FR"), 0.06),
    ("NL", ("Netherlands", "NL"), 0.03),
    ("ES", ("Spain", "ES"), 0.03),
    ("IT", ("Italy", "IT"), 0.03),
    ("SE", ("Sweden", "SE"), 0.02),
    ("JP", ("Japan", "JP"), 0.05),
    ("AU", ("Australia", "AU"), 0.04),
    ("IN", ("India", "IN"), 0.05),
    ("SG", ("Singapore", "SG"), 0.02),
    ("BR", ("Brazil", "BR"), 0.04),
    ("MX", ("Mexico", "MX"), 0.02),
    ("ZA", ("South Africa", "ZA"), 0.02),
)
US_STATES = (
    "California",
    "CA",
    "New York",
    "NY",
    "Texas",
    "TX",
    "Washington",
    "Florida",
    "Illinois",
    "Colorado",
    "Massachusetts",
)
INDUSTRIES = (
    "Technology",
    "Finance",
    "Healthcare",
    "Manufacturing",
    "Retail",
    "Education",
    "Energy",
    "Media",
    "Telecommunications",
    "Government",
)
SOURCES = ("Web", "Chat", "Partner Referral", "Trade Show", "Webinar", "Cold Call", "Advertisement")
FREE = ("gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "gmx.de", "icloud.com")
DISPOSABLE = ("mailinator.com", "guerrillamail.com", "10minutemail.com")
WORDS = ("acme globex initech umbrella stark wayne hooli vandelay soylent cyberdyne tyrell wonka "
         "aperture oscorp pied piper dunder mifflin gringotts monarch nakatomi zorg massive dynamic "
         "blue river north peak harbor summit lattice quantum vertex nimbus orbit atlas cobalt ember").split()  # fmt: skip
SUFFIXES = ("Inc", "Inc.", "LLC", "Ltd", "GmbH", "SA", "Corp", "Group", "", "")


def _pick_country(rng: random.Random) -> tuple[str, str]:
    code, names, _ = rng.choices(COUNTRIES, weights=[c[2] for c in COUNTRIES])[0]
    return code, rng.choice(names)


@dataclass(frozen=True)
class Workload:
    config: RoutingConfig
    statuses: dict[str, RepStatus]
    accounts: SyntheticAccounts  # made on demand: iterate, or index
    leads: list[Lead]
    stable_pools: tuple[str, ...]


def _reps_and_pools(
    rng: random.Random, n_reps: int, n_pools: int
) -> tuple[dict[str, Rep], dict[str, Pool], tuple[str, ...]]:
    reps: dict[str, Rep] = {}
    pools: dict[str, Pool] = {}
    stable: list[str] = []
    weights = (0.5, 1.0, 1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 0.75)
    per_pool = max(1, n_reps // n_pools)
    for p in range(n_pools):
        unstable = p >= n_pools - max(1, n_pools // 5)  # the last fifth: hours, caps, tags
        members = []
        for r in range(per_pool):
            key = f"rep{p:02d}{r:02d}@bench.example"
            hours = tuple((TimeBlock(8 * 60, 17 * 60),) if d < 5 else () for d in range(7))
            reps[key] = Rep(
                key=key, name=f"Rep {p}-{r}", timezone=rng.choice(("America/New_York", "Europe/Berlin", "Asia/Tokyo")),
                weight=rng.choice(weights), caps=Caps(per_day=rng.choice((20, 40, None))) if unstable else Caps(),
                tags=frozenset({rng.choice(("lang:en", "lang:de", "lang:fr"))}), working_hours=hours if unstable else None,
            )  # fmt: skip
            members.append(PoolMember(key))
        name = f"pool{p:02d}"
        pools[name] = Pool(
            name=name, members=tuple(members), tags_mode="prefer" if unstable else "ignore",
            fallback=(Target("pool", "pool00"),) if p else (Target("hold"),),
        )  # fmt: skip
        if not unstable:
            stable.append(name)
    return reps, pools, tuple(stable)


def _rules(rng: random.Random, pools: list[str], n_rules: int) -> tuple[Rule, ...]:
    codes = [c[0] for c in COUNTRIES]
    rules = [
        Rule(
            "free mail without country",
            "hold",
            (Condition("$free_mail", "equals", True), Condition("Country", "is_blank")),
        )
    ]
    for i in range(n_rules - 3):
        kind = i % 5
        pool = rng.choice(pools)
        if kind == 0:
            conds: tuple[Condition, ...] = (
                Condition("Country", "in", tuple(rng.sample(codes, 2))),
                Condition("NumberOfEmployees", "between", (rng.choice((500, 1000, 5000)), None)),
            )
        elif kind == 1:
            conds = (
                Condition("LeadSource", "equals", rng.choice(SOURCES)),
                Condition("Industry", "in", tuple(rng.sample(INDUSTRIES, 2))),
            )
        elif kind == 2:
            conds = (
                Condition("Title", "regex", rng.choice(("^vp", "chief", "director", "head of"))),
                Condition("Country", "equals", rng.choice(codes)),
            )
        elif kind == 3:
            conds = (
                Condition("Rating", "equals", "Hot"),
                Condition("AnnualRevenue", "between", (None, rng.choice((1e6, 5e6)))),
            )
        else:
            conds = (
                Condition("Company", "contains", rng.choice(WORDS)),
                Condition("State", "in", ("US-CA", "US-NY")),
            )
        rules.append(Rule(f"rule {i + 1}", "pool", conds, pool=pool))
    rules.append(Rule("by territory", "territory"))
    rules.append(Rule("default", "pool", pool=pools[0]))
    return tuple(rules)


def _territories(pools: list[str]) -> tuple[Territory, ...]:
    out = []
    for i, (code, _, _) in enumerate(COUNTRIES):
        out.append(Territory(f"t-{code}", pools[i % len(pools)], 0, frozenset({code})))
    out.append(
        Territory("us-west", pools[-1], 10, frozenset({"US"}), frozenset({"US-CA", "US-WA"}))
    )
    return tuple(sorted(out, key=lambda t: -t.priority))


class SyntheticAccounts(Sequence[Account]):
    """``n`` accounts, each made from its own index when asked for (a million of them
    never sit in memory at once); the same seed gives the same accounts."""

    def __init__(self, seed: int, n: int, owners: Sequence[str]) -> None:
        self.seed, self.n, self.owners = seed, n, tuple(owners)

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> Account: ...
    @overload
    def __getitem__(self, i: slice) -> list[Account]: ...
    def __getitem__(self, i: int | slice) -> Account | list[Account]:
        if isinstance(i, slice):
            return [self._make(j) for j in range(*i.indices(self.n))]
        if not -self.n <= i < self.n:
            raise IndexError(i)
        return self._make(i % self.n)

    def _make(self, i: int) -> Account:
        rng = random.Random(self.seed * 1_000_003 + i)
        today = date(2026, 11, 23)
        a, b = rng.choice(WORDS), rng.choice(WORDS)
        code, _ = _pick_country(rng)
        return Account(
            id=f"001B{i:011d}", name=f"{a.title()} {b.title()} {i} {rng.choice(SUFFIXES)}".strip(),
            website=f"https://www.{a}-{b}-{i}.com/about" if rng.random() < 0.9 else None,
            owner_id=rng.choice(self.owners), owner_active=rng.random() > 0.05,
            employees=int(10 ** rng.uniform(0.5, 4.7)), country=code,
            phone=f"+1 555 {rng.randrange(10**7):07d}",
            last_activity=today - timedelta(days=rng.randrange(400)) if rng.random() < 0.7 else None,
            open_opportunities=rng.choice((0, 0, 0, 1, 2)),
        )  # fmt: skip


def lead_fields(rng: random.Random, accounts: Sequence[Account], i: int) -> dict[str, Any]:
    roll = rng.random()
    first, last = (
        rng.choice(("ana", "bo", "chen", "dara", "eli", "femi")),
        rng.choice(("smith", "ng", "meyer", "rossi")),
    )
    code, spelled = _pick_country(rng)
    fields: dict[str, Any] = {
        "FirstName": first.title(), "LastName": last.title(), "Country": spelled,
        "State": rng.choice(US_STATES) if code == "US" else None,
        "Industry": rng.choice(INDUSTRIES), "LeadSource": rng.choice(SOURCES),
        "NumberOfEmployees": int(10 ** rng.uniform(0, 4.5)), "AnnualRevenue": float(rng.randrange(10**4, 10**8)),
        "Rating": rng.choice(("Hot", "Warm", "Cold", None)), "Title": rng.choice(("VP Sales", "Director IT", "Engineer", "Chief of Staff", "Head of Ops", None)),
        "PostalCode": f"{rng.randrange(10**5):05d}", "Phone": f"+1 555 {rng.randrange(10**7):07d}",
    }  # fmt: skip
    if roll < 0.35 and accounts:  # a known company: its domain, its name
        acc = rng.choice(accounts)
        domain = (
            (acc.website or "https://www.unknown.com")
            .split("//")[1]
            .split("/")[0]
            .removeprefix("www.")
        )
        fields |= {
            "Email": f"{first}.{last}@{domain}",
            "Company": acc.name.upper() if rng.random() < 0.3 else acc.name,
        }
    elif roll < 0.45 and accounts:  # the company's name, a personal mailbox: fuzzy + corroboration
        acc = rng.choice(accounts)
        fields |= {
            "Email": f"{first}{i}@{rng.choice(FREE)}",
            "Company": acc.name.replace(" Inc", ", Inc."),
            "Country": acc.country,
        }
    elif roll < 0.65:
        fields |= {
            "Email": f"{first}{i}@{rng.choice(FREE)}",
            "Company": f"{rng.choice(WORDS).title()} Consulting",
        }
        if rng.random() < 0.2:
            fields["Country"] = None
    elif roll < 0.68:
        fields |= {"Email": f"x{i}@{rng.choice(DISPOSABLE)}", "Company": "Test"}
    else:
        w = rng.choice(WORDS)
        fields |= {
            "Email": f"{first}@{w}-new-{i}.io",
            "Company": f"{w.title()} New {i} Ltd",
            "Website": f"{w}-new-{i}.io",
        }
    return fields


def make_workload(seed: int = 7, n_reps: int = 100, n_pools: int = 10, n_rules: int = 50,
                  n_accounts: int = 100_000, n_leads: int = 100_000) -> Workload:  # fmt: skip
    rng = random.Random(seed)
    reps, pools, stable = _reps_and_pools(rng, n_reps, n_pools)
    statuses = {
        k: RepStatus(k, f"005B{i:011d}", True, rng.randrange(0, 30)) for i, k in enumerate(reps)
    }
    owners = [s.user_id for s in statuses.values() if s.user_id] + [
        f"005X{i:011d}" for i in range(50)
    ]
    accounts = SyntheticAccounts(seed, n_accounts, owners)
    pool_names = list(pools)
    config = RoutingConfig(
        reps=reps, pools=pools, rules=_rules(rng, pool_names, n_rules), territories=_territories(pool_names),
    )  # fmt: skip
    leads = [Lead(f"00QB{i:011d}", lead_fields(rng, accounts, i)) for i in range(n_leads)]
    return Workload(config, statuses, accounts, leads, stable)
