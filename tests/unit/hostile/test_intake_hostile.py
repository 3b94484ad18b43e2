"""A full intake cycle (fake Salesforce, real SQLite store) over a batch of hostile leads:
the cycle completes, every lead ends up written or held with a reason in the journal
(none lost), held leads stay in the intake queue, and no log line at INFO or above
carries a lead's field values.

Each example gets its own store (a fresh SQLite file; migrating one takes ~30 ms).
"""

from __future__ import annotations

import logging
import tempfile
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from tests.unit.hostile.strategies import lead_records
from tests.unit.jobs.fakes import QUEUE_ID, FakeGateway
from worker.jobs.deps import Deps
from worker.jobs.directory import Directory
from worker.jobs.intake import run_cycle
from worker.routing.model import Caps, Condition, Pool, PoolMember, Rep, RoutingConfig, Rule
from worker.sfdc.mapping import UserRow
from worker.store.db import make_engine, upgrade
from worker.store.models import JournalRow

REPS = ("ann@x.example", "bob@x.example", "cat@x.example")
REP_IDS = {f"005{i:015d}": key for i, key in enumerate(REPS)}
PII_FIELDS = ("FirstName", "LastName", "Email", "Company", "Website", "City", "Title")
MARK = "Qz\u24df\u24d8\u24d8"  # appended to every text PII value: must never reach a log line


def _config() -> RoutingConfig:
    reps = {k: Rep(key=k, name=k.split("@")[0].title(), caps=Caps(per_day=2)) for k in REPS}
    pool = Pool("sales", tuple(PoolMember(k) for k in REPS))
    rules = (
        Rule("quoted", "hold", (Condition("Company", "contains", "'"),), reason="check by hand"),
        Rule("default", "pool", pool="sales"),
    )
    return RoutingConfig(reps=reps, pools={"sales": pool}, rules=rules)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # message + traceback text, if any


def _hostile(record: dict[str, Any], i: int) -> dict[str, Any]:
    """A hostile record that is really waiting in the intake queue."""
    out = record | {"Id": f"00Q{i:015d}", "OwnerId": QUEUE_ID, "IsConverted": False}
    for name in PII_FIELDS:
        if isinstance(out.get(name), str):
            out[name] += MARK
    return out


def _journal(engine: Any) -> list[JournalRow]:
    with Session(engine) as s:
        return list(s.exec(select(JournalRow).order_by(JournalRow.id)).all())  # type: ignore[arg-type]


def _cycles(
    org: FakeGateway, n: int, between: Any = None
) -> tuple[list[Any], list[JournalRow], list[str]]:
    """Run ``n`` intake cycles an hour apart on a fresh store; (reports, journal, log lines)."""
    handler = _Lines()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/leadrouter.db"
        upgrade(url)
        engine = make_engine(url)
        try:
            config = _config()
            deps = Deps(engine=engine, gateway=org, directory=Directory(org),
                        config=lambda _s: config, worker_id="hostile", now=lambda: org.clock,
                        **org.clock_ports())  # fmt: skip
            for i in range(n):
                if i:
                    org.tick(3600)
                    if between is not None:
                        between()
                reports.append(run_cycle(deps))
            rows = _journal(engine)
        finally:
            engine.dispose()
            root.removeHandler(handler)
            root.setLevel(old_level)
    return reports, rows, handler.lines


def _org() -> FakeGateway:
    return FakeGateway(users=[UserRow(uid, k, k, k, True) for uid, k in REP_IDS.items()])


@settings(max_examples=20, deadline=None)
@given(records=st.lists(lead_records(), min_size=1, max_size=12))
def test_a_cycle_of_hostile_leads_loses_none_and_logs_no_lead_values(
    records: list[dict[str, Any]],
) -> None:
    org = _org()
    for i, record in enumerate(records):
        org.leads[f"00Q{i:015d}"] = _hostile(record, i)
    (report, again), rows, lines = _cycles(org, 2)  # the second retries the held leads

    assert report.read == len(records) and report.decided == len(records)
    assert report.applied + report.held == len(records) and report.applied <= 2 * len(REPS)
    if any(r.get("Company") is None for r in records):  # no quote to hold it by rule
        assert report.applied >= 1
    assert again.applied == 0  # the day's caps are spent
    by_lead = {r.lead_id: r for r in rows}
    assert set(by_lead) == set(org.leads), "a lead was read but never journalled"
    for lead_id, row in by_lead.items():
        if row.status == "applied":
            assert org.owner(lead_id) == row.owner_id and row.owner_id in REP_IDS
        else:
            assert row.status == "held", (row.status, row.reason, row.error)
            assert row.reason and org.owner(lead_id) == QUEUE_ID
    leaked = [line for line in lines if MARK in line]
    assert not leaked, f"lead values in the log: {leaked[:2]}"


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00.000+0000", "9999-12-31T23:59:59.000+0000"])
def test_an_absurd_modstamp_does_not_stop_later_cycles_or_hide_later_leads(stamp: str) -> None:
    """Year 1 as the watermark overflowed ``watermark - overlap`` in every later cycle;
    year 9999 made every later lead look older than the watermark."""
    org = _org()
    org.add_lead("00Q000000000000001", SystemModstamp=stamp)

    def one_more() -> None:
        org.add_lead("00Q000000000000002")

    reports, rows, _ = _cycles(org, 2, between=one_more)
    assert [r.read for r in reports] == [1, 1]
    assert {r.lead_id: r.status for r in rows} == dict.fromkeys(org.leads, "applied")
