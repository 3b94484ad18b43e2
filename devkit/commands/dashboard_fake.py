"""Synthetic journal rows for load tests and screenshots (``leadrouter dashboard fake-data``).

Rows look like what the worker journals: the demo roster's reps in three pools, weighted
round-robin picks with the eligible reps' weights in the trace, people out of office on
some days, caps skipping reps, held/failed/skipped decisions, SLA re-assignments, lead
snapshots from a small pre-generated vocabulary (Faker is too slow per row for 10^6 rows).
Inserted in bulk with Core ``executemany``, in one transaction per batch.
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from worker.commands._common import one_line_errors, settings_or_exit
from worker.store.models.core import ApiUsage
from worker.store.models.journal import Decision

POOLS = {"na": "NA-AE", "emea": "EMEA-AE", "apac": "APAC-AE"}
RULES = {
    "NA-AE": ("NA inbound", "NA enterprise"),
    "EMEA-AE": ("EMEA inbound", "EMEA enterprise"),
    "APAC-AE": ("APAC inbound",),
}
COUNTRIES = {
    "NA-AE": ("US", "CA"),
    "EMEA-AE": ("DE", "FR", "GB", "ES", "NL"),
    "APAC-AE": ("JP", "AU", "SG", "IN"),
}
SOURCES = ("Web", "Webinar", "Partner Referral", "Trade Show", "Purchased List", "Chat")
RATINGS = ("Hot", "Warm", "Cold")
HOLD_REASONS = (
    "nobody eligible in pool EMEA-AE (all out of office or at cap)",
    "outside intake business hours",
    "rule 'Blocked domains' holds the lead for review",
)


@dataclass(frozen=True)
class FakeRep:
    key: str
    name: str
    user_id: str
    pool: str
    weight: float


def _user_id(key: str) -> str:
    return "005" + hashlib.sha1(key.encode()).hexdigest()[:15].upper()


def demo_reps() -> list[FakeRep]:
    """Active AEs/SDRs of the demo roster, one pool per team, a few weights off 1.0."""
    from devkit.sandbox.roster import ROSTER  # the roster is plain data, no I/O

    reps = []
    people = [p for p in ROSTER if p.active and p.role != "manager" and p.team in POOLS]
    for i, person in enumerate(people):
        weight = (1.0, 1.0, 1.5, 0.5, 1.0)[i % 5]
        reps.append(
            FakeRep(person.email, person.name, _user_id(person.email), POOLS[person.team], weight)
        )
    return reps


class _Vocabulary:
    def __init__(self, rng: random.Random, size: int = 1500) -> None:
        from faker import Faker

        fake = Faker(["en_US", "de_DE", "fr_FR", "ja_JP", "en_GB"])
        fake.seed_instance(rng.randrange(1 << 30))
        self.companies = [fake.company() for _ in range(size)]
        self.people = [(fake.first_name(), fake.last_name()) for _ in range(size)]


def _trace(
    rep: FakeRep,
    rule: str,
    country: str,
    employees: int,
    eligible: dict[str, float],
    skipped: list[tuple[FakeRep, str]],
    share: float,
) -> str:
    steps: list[dict[str, Any]] = [
        {
            "kind": "rule",
            "message": f"Rule '{rule}' matched: Country = {country}, Employees {employees:,}.",
            "data": {"rule": rule},
        },
        {
            "kind": "pool",
            "message": f"Pool {rep.pool}: {len(eligible)} of {len(eligible) + len(skipped)} reps eligible.",
            "data": {"pool": rep.pool},
        },
    ]
    for other, why in skipped:
        steps.append(
            {
                "kind": "candidate",
                "message": f"{other.name} skipped ({why}).",
                "data": {"rep": other.key, "skip": why},
            }
        )
    steps.append(
        {
            "kind": "pick",
            "message": f"{rep.name} chosen (weighted round-robin, {share} leads behind their share).",
            "data": {
                "rep": rep.key,
                "method": "weighted_round_robin",
                "pool": rep.pool,
                "eligible_weights": eligible,
            },
        }
    )
    return json.dumps(steps)


def _one(
    rng: random.Random,
    at: datetime,
    n: int,
    reps: list[FakeRep],
    vocab: _Vocabulary,
    away: Callable[[FakeRep, datetime], str | None],
) -> dict[str, Any]:
    pool = rng.choice(list(RULES))
    members = [r for r in reps if r.pool == pool]
    skipped = [(r, why) for r in members if (why := away(r, at))]
    eligible = {r.key: r.weight for r in members if not any(r is s for s, _ in skipped)}
    rule = rng.choice(RULES[pool])
    country = rng.choice(COUNTRIES[pool])
    employees = int(rng.lognormvariate(4.5, 1.6)) + 1
    first, last = rng.choice(vocab.people)
    company = rng.choice(vocab.companies)
    roll = rng.random()
    kind, status = "route", "applied"
    if roll < 0.05:
        kind = "sla_reassign"
    elif roll < 0.055:
        kind = "escalate"
    elif roll < 0.08 or not eligible:
        status = "held"
    elif roll < 0.09:
        status = "failed"
    elif roll < 0.095:
        status = "skipped"
    rep = (
        rng.choices([r for r in members if r.key in eligible], [eligible[k] for k in eligible])[0]
        if eligible
        else None
    )
    created = at - timedelta(seconds=rng.uniform(1.0, 25.0))
    applied = at + timedelta(seconds=rng.uniform(0.3, 2.5)) if status == "applied" else None
    touched = (
        applied + timedelta(minutes=rng.lognormvariate(2.3, 0.9))
        if applied and rng.random() < 0.85
        else None
    )
    held = status == "held"
    previous = rng.choice(members) if kind != "route" else None
    return {
        "lead_id": f"00Q{n:015d}"[:18],
        "cycle_id": f"fake-{at:%Y%m%d%H%M}",
        "kind": kind,
        "status": status,
        "owner_id": None if held or rep is None else rep.user_id,
        "owner_name": None if held or rep is None else rep.name,
        "rep_key": None if held or rep is None else rep.key,
        "sla_state": None if applied is None else ("touched" if touched else "open"),
        "attempts": 1 if applied else 0,
        "previous_owner_id": previous.user_id if previous else None,
        "pool": pool,
        "rule": rule,
        "method": None if held else "weighted_round_robin",
        "reason": rng.choice(HOLD_REASONS) if held else f"rule '{rule}' -> pool {pool}",
        "trace": "[]"
        if held or rep is None
        else _trace(rep, rule, country, employees, eligible, skipped, round(rng.random() * 0.9, 1)),
        "error": "UNABLE_TO_LOCK_ROW: unable to obtain exclusive access"
        if status == "failed"
        else None,
        "hop": 1 if kind != "route" else 0,
        "decided_at": at,
        "applied_at": applied,
        "lead_created_at": created,
        "first_touch_at": touched,
        "sla_due_at": (applied + timedelta(minutes=30)) if applied else None,
        "lead_name": f"{first} {last}",
        "lead_email": _email(first, last, company, n),
        "lead_company": company,
        "lead_country": country,
        "lead_source": rng.choice(SOURCES),
        "lead_rating": rng.choices(RATINGS, (2, 5, 3))[0],
        "lead_employees": employees,
        "worker_id": "fake-data",
    }


def _email(first: str, last: str, company: str, n: int) -> str:
    def ascii_part(text: str, default: str) -> str:
        kept = "".join(c for c in text.lower() if c.isascii() and c.isalnum())
        return kept or default

    domain = ascii_part(company.split()[0], f"company{n % 500}")
    return f"{ascii_part(first, 'lead')}.{ascii_part(last, str(n))}@{domain}.example"


def fake_rows(
    count: int, *, days: int, seed: int, now: datetime | None = None
) -> Iterator[dict[str, Any]]:
    """``count`` decisions spread over the last ``days`` days, oldest first."""
    rng = random.Random(seed)
    reps, vocab = demo_reps(), _Vocabulary(rng)
    now = now or datetime.now(UTC)
    start = now - timedelta(days=days)
    ooo = {(r.key, d) for r in reps for d in range(days + 1) if rng.random() < 0.08}
    capped_hour = {
        (r.key, h) for r in reps for h in range(0, (days + 1) * 24, 7) if rng.random() < 0.1
    }

    def away(rep: FakeRep, at: datetime) -> str | None:
        day = (at - start).days
        if (rep.key, day) in ooo:
            return f"out of office until {(start + timedelta(days=day + 1)):%d %b}"
        if (rep.key, int((at - start).total_seconds() // 3600)) in capped_hour:
            return "daily cap 10/10"
        return None

    step = (now - start) / max(count, 1)
    for n in range(count):
        yield _one(rng, start + step * n, n, reps, vocab, away)


def insert_fake(
    engine: Engine,
    count: int,
    *,
    days: int = 90,
    seed: int = 7,
    batch: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert ``count`` synthetic decisions plus hourly API-usage samples; returns rows."""
    table = Decision.__table__  # type: ignore[attr-defined]
    buffer: list[dict[str, Any]] = []
    done = 0
    for row in fake_rows(count, days=days, seed=seed):
        buffer.append(row)
        if len(buffer) >= batch:
            with engine.begin() as conn:
                conn.execute(insert(table), buffer)
            done += len(buffer)
            buffer.clear()
            if progress:
                progress(done)
    if buffer:
        with engine.begin() as conn:
            conn.execute(insert(table), buffer)
        done += len(buffer)
    _insert_api_usage(engine, days=days, seed=seed)
    return done


def _insert_api_usage(engine: Engine, *, days: int, seed: int) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    rows = []
    for h in range(min(days, 30) * 24, -1, -1):
        at = now - timedelta(hours=h)
        rows.append(
            {
                "at": at,
                "used": int(at.hour * 1800 + rng.uniform(0, 900)),
                "max": 100_000,
                "calls_this_cycle": rng.randint(1, 6),
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(ApiUsage.__table__), rows)  # type: ignore[attr-defined]


def demo_routing_yaml() -> str:
    """A routing config matching the fake journal (same reps, pools and rule names), so
    Team settings and What-if have something real to work on in tests and screenshots."""
    from worker.routing.model import Caps, Condition, Pool, PoolMember, Rep, RoutingConfig, Rule
    from worker.routing_config import dump_config

    reps = {
        r.key: Rep(key=r.key, name=r.name, weight=r.weight, caps=Caps(per_day=40))
        for r in demo_reps()
    }
    pools = {
        pool: Pool(
            name=pool,
            members=tuple(PoolMember(r.key) for r in demo_reps() if r.pool == pool),
        )
        for pool in RULES
    }
    rules = tuple(
        Rule(
            name=name,
            action="pool",
            conditions=(Condition("Country", "in", COUNTRIES[pool]),)
            + (
                (Condition("NumberOfEmployees", "between", (1000, None)),)
                if "enterprise" in name
                else ()
            ),
            pool=pool,
        )
        for pool, names in RULES.items()
        for name in sorted(names, key=lambda n: "enterprise" not in n)
    ) + (Rule(name="Everything else", action="hold", reason="no territory for this country"),)
    return dump_config(RoutingConfig(reps=reps, pools=pools, rules=rules))


# --- `leadrouter dashboard fake-data` ----------------------------------------------------


def _advance(bar: object, done: int) -> None:
    bar.update(done - bar.n)  # type: ignore[attr-defined]


@click.command("fake-data")
@click.option(
    "--decisions",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Journal rows to insert.",
)
@click.option(
    "--days",
    default=90,
    show_default=True,
    type=click.IntRange(1, 3650),
    help="Spread them over the last N days.",
)
@click.option("--seed", default=7, show_default=True, help="Random seed (same seed, same data).")
@click.option(
    "--write-config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a routing config (YAML) with the same reps, pools and rules.",
)
@one_line_errors
def fake_data(decisions: int, days: int, seed: int, write_config: Path | None) -> None:
    """Fill the store (LEADROUTER_DATABASE_URL) with synthetic decisions for load tests."""
    from tqdm import tqdm

    from worker.root import engine_for
    from worker.store.db import check_connection, upgrade

    settings = settings_or_exit()
    engine = engine_for(settings.database_url, pool=False)
    check_connection(engine)
    upgrade(settings.database_url)
    started = time.perf_counter()
    with tqdm(total=decisions, unit="row", disable=not sys.stderr.isatty()) as bar:
        done = insert_fake(
            engine, decisions, days=days, seed=seed, progress=lambda n: _advance(bar, n)
        )
    elapsed = time.perf_counter() - started
    click.echo(f"inserted {done:,} decisions in {elapsed:.1f} s ({done / elapsed:,.0f} rows/s)")
    if write_config is not None:
        write_config.parent.mkdir(parents=True, exist_ok=True)
        write_config.write_text(demo_routing_yaml(), encoding="utf-8")
        click.echo(f"wrote the matching routing config to {write_config}")
