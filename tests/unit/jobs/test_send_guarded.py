"""Guarded writes (:func:`worker.jobs.send_owners.send_all` for fresh leads known from
their create events): one call per 5 leads, guarded by Salesforce's own query just
before the PATCH, with no owner re-read first; anything the guard or the precondition
refuses goes through the re-read rounds, and a person's change is never overwritten."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from tests.unit.jobs.fakes import QUEUE_ID, FakeGateway
from worker.jobs.deps import Deps
from worker.jobs.send_owners import GUARDED_LEADS, send_all
from worker.jobs.write_items import OWNER_CHANGED, WriteItem, merged
from worker.sfdc.errors import SfdcPermanentError, SfdcTransientError
from worker.sfdc.mapping import GuardedUpdate, WriteResult
from worker.sfdc.outcomes import GUARD_FAILED

REP = "005ann000000000000"
OTHER_REP = "005person000000000"


def lead(n: int) -> str:
    return f"00Q{n:015d}"


def fresh(org: FakeGateway, n: int, **kw: object) -> WriteItem:
    """The write item of lead ``n``, created ``org.clock`` and known from its event."""
    org.add_lead(lead(n))
    stamp = org.clock
    item = WriteItem(n, lead(n), REP, frozenset({QUEUE_ID}), "ann", "sales", None, stamp)
    return replace(item, **{"changed_at": stamp, **kw})  # type: ignore[arg-type]


@pytest.fixture
def deps(make_deps: Callable[..., Deps]) -> Deps:
    return make_deps()


def test_fresh_leads_are_written_in_one_call_without_a_re_read(
    org: FakeGateway, deps: Deps
) -> None:
    count = GUARDED_LEADS
    items = [fresh(org, n) for n in range(1, count + 1)]
    org.tick(2)  # Salesforce's clock has left the leads' creation second
    out = merged(send_all(deps, items))
    assert sorted(i.lead_id for i in out.applied) == [lead(n) for n in range(1, count + 1)]
    assert org.calls == {"guarded": 1}  # no "owners": the guard ran inside Salesforce
    assert {org.owner(lead(n)) for n in range(1, count + 1)} == {REP}


def test_a_person_who_took_the_lead_keeps_it(org: FakeGateway, deps: Deps) -> None:
    item = fresh(org, 1)
    org.tick(2)
    org.set_owner(lead(1), OTHER_REP)  # after creation, before our write
    out = merged(send_all(deps, [item]))
    assert org.owner(lead(1)) == OTHER_REP
    assert not out.applied and [i.lead_id for i in out.skipped[OWNER_CHANGED]] == [lead(1)]
    # the guard query found no lead of ours: the PATCH never ran; the re-read judged it
    assert org.calls == {"guarded": 1, "owners": 1}


def test_a_lead_changed_after_its_event_is_re_read_and_written(
    org: FakeGateway, deps: Deps
) -> None:
    """Another field changed in a later second (a rep's status, a flow): the precondition
    refuses the guarded write (412) and the re-read rounds write it on the new stamp."""
    item = fresh(org, 1)
    org.tick(2)
    org.leads[lead(1)]["Status"] = "Working"
    org.leads[lead(1)]["LastModifiedDate"] = org.leads[lead(1)]["SystemModstamp"] = (
        org.clock.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    )
    org.tick(2)
    out = merged(send_all(deps, [item]))
    assert [i.lead_id for i in out.applied] == [lead(1)] and org.owner(lead(1)) == REP
    assert org.calls == {"guarded": 1, "owners": 1, "composite": 1}


def test_a_call_lost_in_transit_is_re_read_as_possibly_sent(org: FakeGateway, deps: Deps) -> None:
    item = fresh(org, 1)
    org.tick(2)
    org.fail_writes = 1
    out = merged(send_all(deps, [item]))
    assert [i.lead_id for i in out.applied] == [lead(1)] and org.owner(lead(1)) == REP
    assert org.calls == {"guarded": 1, "owners": 1, "composite": 1}


def test_a_guarded_write_landed_before_its_answer_was_lost_is_journaled_applied(
    org: FakeGateway, deps: Deps
) -> None:
    item = fresh(org, 1)
    org.tick(2)
    real = org.update_owners_guarded

    def landed_then_lost(updates: list[GuardedUpdate]) -> list[WriteResult]:
        real(updates)
        raise SfdcTransientError("connection reset", status=None)

    org.update_owners_guarded = landed_then_lost  # type: ignore[method-assign,assignment]
    out = merged(send_all(deps, [item]))
    assert [i.lead_id for i in out.applied] == [lead(1)]  # ours: our user made the change
    assert org.calls == {"guarded": 1, "owners": 1}  # no second PATCH


def test_guarded_writes_refused_as_a_whole_turn_themselves_off(
    org: FakeGateway, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    items = [fresh(org, 1), fresh(org, 2)]
    org.tick(2)

    def refused(updates: list[GuardedUpdate]) -> list[WriteResult]:
        org.calls["guarded"] = org.calls.get("guarded", 0) + 1
        raise SfdcPermanentError("INVALID_API_INPUT: no references here", status=400)

    org.update_owners_guarded = refused  # type: ignore[method-assign,assignment]
    out = merged(send_all(deps, items[:1]))
    assert [i.lead_id for i in out.applied] == [lead(1)]
    assert deps.state.guarded_off and "guarded owner writes refused" in caplog.text
    merged(send_all(deps, items[1:]))
    assert org.calls["guarded"] == 1  # not asked again
    assert org.owner(lead(2)) == REP


def test_a_write_waits_until_salesforce_has_left_the_second_of_the_creation(
    org: FakeGateway, deps: Deps
) -> None:
    """A person's change later in the creation second keeps its stamp: the guard query
    must run after that second, by Salesforce's clock, for the PATCH's precondition to
    see every change it did not."""
    item = fresh(org, 1)
    org.tick(0.4)
    sent_at: list[datetime] = []
    real = org.update_owners_guarded

    def spy(updates: list[GuardedUpdate]) -> list[WriteResult]:
        sent_at.append(org.clock)
        return real(updates)

    org.update_owners_guarded = spy  # type: ignore[method-assign,assignment]
    merged(send_all(deps, [item]))
    created = item.changed_at
    assert created is not None
    assert sent_at and sent_at[0] >= created.replace(microsecond=0) + timedelta(seconds=1.1)


def test_many_fresh_leads_go_by_re_read_and_composite(org: FakeGateway, deps: Deps) -> None:
    items = [fresh(org, n) for n in range(1, GUARDED_LEADS + 2)]
    org.tick(2)
    out = merged(send_all(deps, items))
    assert len(out.applied) == GUARDED_LEADS + 1
    assert "guarded" not in org.calls and org.calls["owners"] == 1


def test_leads_not_from_events_and_possibly_sent_ones_are_re_read(
    org: FakeGateway, deps: Deps
) -> None:
    polled = fresh(org, 1, changed_at=None)
    sent = fresh(org, 2, sent=True)
    org.tick(2)
    out = merged(send_all(deps, [polled, sent]))
    assert len(out.applied) == 2 and "guarded" not in org.calls


def test_the_guard_names_the_owners_the_decision_may_replace(org: FakeGateway, deps: Deps) -> None:
    item = fresh(org, 1)
    org.tick(2)
    asked: list[GuardedUpdate] = []
    real = org.update_owners_guarded

    def spy(updates: list[GuardedUpdate]) -> list[WriteResult]:
        asked.extend(updates)
        return real(updates)

    org.update_owners_guarded = spy  # type: ignore[method-assign,assignment]
    send_all(deps, [item])
    assert [(g.update.lead_id, g.owners, g.unmodified_since) for g in asked] == [
        (lead(1), frozenset({QUEUE_ID}), item.changed_at)
    ]


def test_a_refused_guard_query_turns_guarded_writes_off_and_the_lead_is_re_read(
    org: FakeGateway, deps: Deps, caplog: pytest.LogCaptureFixture
) -> None:
    """An org that will not run the guard query would make every lead pay a guarded call
    and a re-read: the worker stops sending them, and says why."""
    item = fresh(org, 1)
    org.tick(2)

    def guard_refused(updates: list[GuardedUpdate]) -> list[WriteResult]:
        org.calls["guarded"] = org.calls.get("guarded", 0) + 1
        return [WriteResult(g.update.lead_id, False, GUARD_FAILED, "MALFORMED_QUERY: no")
                for g in updates]  # fmt: skip

    org.update_owners_guarded = guard_refused  # type: ignore[method-assign,assignment]
    out = merged(send_all(deps, [item]))
    assert [i.lead_id for i in out.applied] == [lead(1)] and org.owner(lead(1)) == REP
    assert deps.state.guarded_off and "MALFORMED_QUERY" in caplog.text
    assert org.calls == {"guarded": 1, "owners": 1, "composite": 1}
