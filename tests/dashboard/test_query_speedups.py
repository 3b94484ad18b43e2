"""The dashboard's faster queries (issue 20: every page under 2 s at a million decisions)
return what the queries they replaced returned, on SQLite and PostgreSQL; the e-mail
domain column is written at insert, backfilled by its migration and blanked by a purge.

The replaced queries are kept below, as they were, as the oracle of a differential test
on a small fake journal (the dashboard's demo generator: names, companies, e-mails,
ratings, sources, SLA moves)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import and_, case, func, or_, select

from devkit.commands.dashboard_fake import insert_fake
from worker.store import journal_repo, privacy
from worker.store.db import alembic_config, make_engine, session_scope, upgrade
from worker.store.journal_entry import JournalEntry
from worker.store.models.journal import DecisionKind, DecisionStatus, JournalRow, email_domain
from worker.store.queries import journal_log, overview, quality
from worker.store.queries._sql import seconds_between
from worker.store.queries.journal_log import LogFilter

D: Any = JournalRow
NOW = datetime.now(UTC)


@pytest.fixture
def fake_store(store_url: str):  # type: ignore[no-untyped-def]
    upgrade(store_url)
    engine = make_engine(store_url)
    insert_fake(engine, 1200, days=10, seed=3)
    yield engine
    engine.dispose()


# --- the queries as they were before 0011 (the oracle) -----------------------------------


def _old_contains(column: Any, text: str) -> Any:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _old_search(text: str) -> Any:
    text = text.strip()
    if "@" in text and not text.startswith("@"):
        return D.lead_email.in_({text, text.lower()})
    if journal_log._SF_ID.fullmatch(text) and text[:3] == "00Q":
        if len(text) == 18:
            return D.lead_id == text
        return or_(D.lead_id == text, and_(D.lead_id >= text, D.lead_id < text + "~"))
    named = or_(_old_contains(D.lead_company, text), _old_contains(D.lead_name, text))
    if journal_log._DOMAIN.fullmatch(text):
        domain = text.lstrip("@").lower()
        escaped = domain.replace("%", "\\%").replace("_", "\\_")
        at_domain = D.lead_email.ilike(f"%@{escaped}", escape="\\")
        return at_domain if text.startswith("@") else or_(at_domain, named)
    return named


def _old_log_ids(engine: sa.Engine, text: str, limit: int) -> list[int]:
    stmt = (
        select(D.id)
        .where(_old_search(text))
        .order_by(D.decided_at.desc(), D.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [int(i) for i in conn.execute(stmt).scalars()]


_SIZE = case(
    (D.lead_employees.is_(None), "unknown"),
    (D.lead_employees < 50, "1-49"),
    (D.lead_employees < 250, "50-249"),
    (D.lead_employees < 1000, "250-999"),
    else_="1000+",
)


def _old_lead_mix(engine: sa.Engine, pool: str, start: datetime, end: datetime) -> list[Any]:
    base = (D.pool == pool, D.decided_at >= start, D.decided_at < end,
            D.kind == DecisionKind.ROUTE, D.status == DecisionStatus.APPLIED)  # fmt: skip
    dims = {"rating": func.coalesce(D.lead_rating, "unknown"), "size": _SIZE,
            "source": func.coalesce(D.lead_source, "unknown")}  # fmt: skip
    out = []
    with engine.connect() as conn:
        for dim, expr in dims.items():
            stmt = (
                select(D.owner_id, func.max(D.owner_name), expr.label("bucket"), func.count())
                .where(*base)
                .group_by(D.owner_id, expr)
            )
            for owner_id, name, bucket, n in conn.execute(stmt).all():
                out.append({"owner_id": owner_id, "owner": name or owner_id, "dimension": dim,
                            "bucket": str(bucket), "leads": int(n)})  # fmt: skip
    return out


def _old_rep_service(engine: sa.Engine, pool: str, start: datetime, end: datetime) -> list[Any]:
    period = (D.pool == pool, D.decided_at >= start, D.decided_at < end)
    touch = seconds_between(D.first_touch_at, D.applied_at)
    routed = (*period, D.kind == DecisionKind.ROUTE, D.status == DecisionStatus.APPLIED)
    with engine.connect() as conn:
        breaches = dict(conn.execute(
            select(D.previous_owner_id, func.count())
            .where(*period, D.kind == DecisionKind.SLA_REASSIGN).group_by(D.previous_owner_id)
        ).all())  # fmt: skip
        rows = conn.execute(
            select(D.owner_id, func.max(D.owner_name), func.count(),
                   func.count(D.first_touch_at), func.avg(touch))
            .where(*routed).group_by(D.owner_id)
        ).all()  # fmt: skip
        values: dict[str, list[float]] = defaultdict(list)
        stmt = select(D.owner_id, touch).where(*routed, touch.is_not(None))
        for oid, secs in conn.execute(stmt.order_by(D.owner_id, touch)):
            values[str(oid)].append(float(secs))
    medians = {oid: v[len(v) // 2] for oid, v in values.items() if v}
    return [{"owner_id": oid, "owner": name or oid, "leads": int(n), "touched": int(touched),
             "sla_breaches": int(breaches.get(oid, 0)),
             "median_first_touch_min": (medians[oid] / 60) if medians.get(oid) is not None else None,
             "avg_first_touch_min": (float(avg) / 60) if avg is not None else None}
            for oid, name, n, touched, avg in rows]  # fmt: skip


# --- differential ---------------------------------------------------------------------------


def _some_values(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        email, name, company, lead_id = conn.execute(
            select(D.lead_email, D.lead_name, D.lead_company, D.lead_id)
            .where(D.lead_email.is_not(None), D.lead_name.is_not(None))
            .order_by(D.id)
            .limit(1)
        ).one()
    return {"email": email, "name": name, "company": company, "lead_id": lead_id}


def test_search_returns_the_rows_the_old_query_returned(fake_store: sa.Engine) -> None:
    v = _some_values(fake_store)
    domain = v["email"].rpartition("@")[2]
    texts = [
        domain, "@" + domain, domain.upper(), "@" + domain.upper(),  # the domain column
        "nobody-here.example", "@nobody-here.example",
        v["email"], v["lead_id"], v["lead_id"][:15],  # exact: unchanged
        v["name"].split()[0].lower(), v["company"][:5].upper(), "zzqxnothing", "co_pany",
    ]  # fmt: skip
    hits = 0
    for text in texts:
        old = _old_log_ids(fake_store, text, 5000)
        new = [int(r["id"]) for r in journal_log.log_page(fake_store, LogFilter(search=text),
                                                           limit=5000)]  # fmt: skip
        assert new == old, text
        assert journal_log.log_count(fake_store, LogFilter(search=text)) == len(old), text
        hits += bool(old)
    assert hits >= 6  # most searches find something: the comparison is not of empty lists


def test_a_name_search_reads_only_the_newest_decisions(
    fake_store: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with fake_store.connect() as conn:
        newest = conn.execute(
            select(D.id, D.decided_at, D.lead_company).order_by(D.decided_at.desc()).limit(41)
        ).all()
    before, newest = newest[-1], newest[:40]
    cutoff = newest[-1][1]
    word = newest[0][2].split()[0]
    monkeypatch.setattr(journal_log, "SEARCH_WINDOW", 40)
    got = journal_log.log_page(fake_store, LogFilter(search=word), limit=5000)
    old = _old_log_ids(fake_store, word, 5000)
    assert got and len(got) < len(old)  # found in the window, not beyond it
    assert all(journal_log.as_utc(r["decided_at"]) >= journal_log.as_utc(cutoff) for r in got)
    assert [r["id"] for r in got] == [i for i in old if i in {r[0] for r in newest}]
    # the window ends at the period's end: an older period is searched in its own newest rows
    end = journal_log.as_utc(cutoff)
    older_word = before[2].split()[0]
    older = journal_log.log_page(fake_store, LogFilter(end=end, search=older_word), limit=5000)
    assert before[0] in {r["id"] for r in older}
    assert all(r["decided_at"] < end for r in older)


def test_fairness_leftover_figures_match_the_old_queries(fake_store: sa.Engine) -> None:
    start, end = NOW - timedelta(days=11), NOW + timedelta(days=1)
    with fake_store.connect() as conn:
        pools = [str(p) for p in conn.execute(select(D.pool).distinct()).scalars() if p]
    assert pools
    breaches = 0
    for pool in pools:
        key = lambda r: (str(r["owner_id"]), r.get("dimension", ""), r.get("bucket", ""))  # noqa: E731
        assert sorted(quality.lead_mix(fake_store, pool, start, end), key=key) == sorted(
            _old_lead_mix(fake_store, pool, start, end), key=key
        )
        new = sorted(quality.rep_service(fake_store, pool, start, end), key=key)
        old = sorted(_old_rep_service(fake_store, pool, start, end), key=key)
        assert [r["owner_id"] for r in new] == [r["owner_id"] for r in old]
        for n, o in zip(new, old, strict=True):
            assert n == {**o, "avg_first_touch_min": n["avg_first_touch_min"]}
            assert n["avg_first_touch_min"] == pytest.approx(o["avg_first_touch_min"])
        breaches += sum(r["sla_breaches"] for r in new)
    assert breaches > 0  # the fake journal has SLA moves: the breach counts are compared too


def test_the_overview_reads_its_week_of_timings_from_the_covering_index(
    sqlite_url: str,
) -> None:
    """SQLite's planner (no statistics) would take the status index: every applied row."""
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    insert_fake(engine, 200, days=3, seed=1)
    plans: list[str] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _plan(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if "julianday" in statement:
            rows = cursor.connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            plans.extend(str(r[-1]) for r in rows.fetchall())

    got = overview.overview(engine, NOW)
    assert got.time_to_assign.samples > 0
    assert plans == ["SEARCH decision USING COVERING INDEX "
                     "ix_decision_decided_at_kind_status_times (decided_at>?)"]  # fmt: skip
    engine.dispose()


# --- the e-mail domain column ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("email", "domain"),
    [
        ("Jane@Acme.COM", "acme.com"),
        ("a@b@c.io", "c.io"),
        ("no-at-sign", None),
        ("x@", None),
        (None, None),
        ("", None),
        ("j@ gmail.com ", "gmail.com"),
    ],  # fmt: skip
)
def test_email_domain(email: str | None, domain: str | None) -> None:
    assert email_domain(email) == domain


def _entry(n: int, email: str | None) -> JournalEntry:
    return JournalEntry(lead_id=f"00Q{n:015d}", cycle_id="c", kind="route", status="applied",
                        reason="", trace="[]", hop=0, decided_at=NOW, worker_id="w",
                        lead_email=email)  # fmt: skip


def _domains(engine: sa.Engine) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(D.lead_id, D.lead_email_domain)).all())  # type: ignore[arg-type]


def test_the_journal_writes_the_domain_and_a_purge_blanks_it(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    emails = ["Jo@Gmail.com", None, "bad-address", "ann@shop.acme.co.uk"]
    with session_scope(engine) as session:  # the worker's tuned insert path
        journal_repo.insert_decisions(session, [_entry(n, e) for n, e in enumerate(emails)])
    ids = [f"00Q{n:015d}" for n in range(len(emails))]
    assert _domains(engine) == dict(
        zip(ids, ["gmail.com", None, None, "shop.acme.co.uk"], strict=True)
    )
    got = journal_log.log_page(engine, LogFilter(search="gmail.com"))
    assert [r["lead_id"] for r in got] == [ids[0]]
    with session_scope(engine) as session:  # a deletion request
        privacy.scrub_lead(session, ids[0], privacy.lead_traces(session, ids[0]))
    assert _domains(engine)[ids[0]] is None
    assert journal_log.log_page(engine, LogFilter(search="gmail.com")) == []
    with session_scope(engine) as session:  # retention
        assert privacy.scrub_expired(session, NOW + timedelta(days=1)).tables["decision"] == 2
    assert set(_domains(engine).values()) == {None}
    with session_scope(engine) as session:  # the domain alone is still a snapshot to scrub
        session.execute(sa.update(JournalRow).values(lead_email_domain="left.example"))
    with session_scope(engine) as session:
        assert privacy.scrub_expired(session, NOW + timedelta(days=1)).tables["decision"] == 4
    assert set(_domains(engine).values()) == {None}
    engine.dispose()


def test_migration_0011_backfills_the_domain_and_goes_down_and_up(store_url: str) -> None:
    upgrade(store_url, "0010_revoked_sessions")
    engine = make_engine(store_url)
    emails = ["Jo@Gmail.com", None, "no-at", "a@b@Deep.Example", "x@", "k@ river.io "]
    with engine.begin() as conn:
        for n, email in enumerate(emails):
            conn.execute(
                sa.text(
                    "INSERT INTO decision (lead_id, cycle_id, kind, status, reason, trace, "
                    "hop, decided_at, lead_email) VALUES (:l, 'c', 'route', 'applied', '', "
                    "'[]', 0, :at, :e)"
                ),  # fmt: skip
                {"l": f"00Q{n:015d}", "at": NOW.replace(tzinfo=None), "e": email},
            )
    upgrade(store_url)
    want = {f"00Q{n:015d}": email_domain(e) for n, e in enumerate(emails)}
    assert _domains(engine) == want
    assert list(want.values()) == ["gmail.com", None, None, "deep.example", None, "river.io"]
    indexes = {i["name"] for i in sa.inspect(engine).get_indexes("decision")}
    assert {
        "ix_decision_email_domain_decided_at",
        "ix_decision_decided_at_kind_status_times",
    } <= indexes
    assert "ix_decision_decided_at_kind_status" not in indexes

    command.downgrade(alembic_config(store_url), "0010_revoked_sessions")
    engine.dispose()
    engine = make_engine(store_url)
    inspected = sa.inspect(engine)
    assert "lead_email_domain" not in {c["name"] for c in inspected.get_columns("decision")}
    indexes = {i["name"] for i in inspected.get_indexes("decision")}
    assert "ix_decision_decided_at_kind_status" in indexes
    assert not indexes & {"ix_decision_email_domain_decided_at",
                          "ix_decision_decided_at_kind_status_times"}  # fmt: skip
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM decision")).scalar_one() == len(emails)
    upgrade(store_url)
    assert _domains(engine) == want
    engine.dispose()
