"""The account mirror's repository on SQLite and PostgreSQL: versions and deletions in
any order, and the context it builds (what a decision's trace says while it loads)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.routing import Lead, RoutingConfig, empty_state, route_lead
from worker.routing.model import Account, Pool, PoolMember, Rep, RepStatus, Rule
from worker.store import accounts_repo
from worker.store.db import make_engine, session_scope, upgrade

pytestmark = pytest.mark.integration

T = datetime(2026, 11, 23, 12, tzinfo=UTC)
ACME = Account("001A00000000001AAA", "Acme GmbH", website="acme.de", country="DE")


def _engine(url: str) -> Engine:
    upgrade(url)
    return make_engine(url)


def _names(engine: Engine) -> dict[str, str]:
    with Session(engine) as s:
        return {a.id: a.name for a in accounts_repo.accounts_where(s, ids=[ACME.id])}


def test_an_older_version_never_replaces_a_newer_one(store_url: str) -> None:
    engine = _engine(store_url)
    renamed = Account(ACME.id, "Acme Renamed", website="acme.de")
    with session_scope(engine) as s:
        accounts_repo.apply_changes(s, [(renamed, T + timedelta(seconds=5))])
    with session_scope(engine) as s:
        assert accounts_repo.apply_changes(s, [(ACME, T)]) == 0
    assert _names(engine) == {ACME.id: "Acme Renamed"}
    with Session(engine) as s:  # the name index follows the row that stayed
        assert accounts_repo.accounts_where(s, name_keys=["acme renamed"]) == [renamed]
        assert accounts_repo.accounts_where(s, name_keys=["acme"]) == []


def test_a_deletion_older_than_the_stored_version_is_an_undelete_and_is_ignored(
    store_url: str,
) -> None:
    engine = _engine(store_url)
    with session_scope(engine) as s:
        accounts_repo.apply_changes(s, [(ACME, T)])
    with session_scope(engine) as s:
        assert accounts_repo.apply_changes(s, deletions={ACME.id: T - timedelta(minutes=1)}) == 0
    assert _names(engine) == {ACME.id: "Acme GmbH"}
    with session_scope(engine) as s:
        assert accounts_repo.apply_changes(s, deletions={ACME.id: T + timedelta(minutes=1)}) == 1
        assert accounts_repo.apply_changes(s, deletions={ACME.id: T + timedelta(minutes=2)}) == 0
    assert _names(engine) == {}
    with Session(engine) as s:
        assert accounts_repo.name_blocks(s, ["acme"]) == {}
        assert accounts_repo.count(s) == 0


def test_decisions_say_when_the_mirror_was_still_loading(store_url: str) -> None:
    engine = _engine(store_url)
    with session_scope(engine) as s:
        accounts_repo.apply_changes(s, [(ACME, T)], generation=1)
        row = accounts_repo.sync_state(s)
        row.phase, row.generation, row.full_loaded, row.full_expected = "full", 1, 1, 900_000
        accounts_repo.save_sync(s, row)
    config = RoutingConfig(
        reps={"a@x.example": Rep("a@x.example", "A")},
        pools={"p": Pool("p", (PoolMember("a@x.example"),))},
        rules=(Rule("all", "pool", pool="p"),),
    )
    leads = [Lead("00QA1", {"Company": "Initech", "Email": "x@initech.com"})]
    reps = {"a@x.example": RepStatus("a@x.example", "005A00000000001AAA")}
    context = accounts_repo.routing_context(engine, leads, config, reps=reps)
    decision, _ = route_lead(leads[0], config=config, context=context, state=empty_state(), now=T)
    notes = [step.message for step in decision.trace if step.kind == "match"]
    assert "still loading (1 of about 900,000 accounts)" in notes[-1]
    with session_scope(engine) as s:
        row = accounts_repo.sync_state(s)
        row.complete = True
        accounts_repo.save_sync(s, row)
    context = accounts_repo.routing_context(engine, leads, config, reps=reps)
    assert context.account_note == ""
