from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import Session, select

from tests.unit.jobs.conftest import REPS, uid
from tests.unit.jobs.fakes import QUEUE_ID, FakeGateway, sf_time
from worker.jobs.deps import Deps
from worker.jobs.intake import run_cycle
from worker.sfdc.mapping import UserRow
from worker.store.models import JournalRow

REP_IDS = {uid(k) for k in REPS}


def journal(deps: Deps) -> list[JournalRow]:
    with Session(deps.engine) as s:
        return list(s.exec(select(JournalRow).order_by(JournalRow.id)).all())  # type: ignore[arg-type]


def writes(org: FakeGateway) -> int:
    """Owner write calls of either kind (Composite of 25, or collections of 200)."""
    return org.calls.get("composite", 0) + org.calls.get("collections", 0)


def test_routes_new_leads_and_marks_them_applied(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    for i in range(7):
        org.add_lead(f"00Q{i:015d}")
    report = run_cycle(make_deps())
    assert report.applied == 7
    assert {org.owner(i) for i in org.leads} <= REP_IDS
    rows = journal(make_deps())
    assert [r.status for r in rows] == ["applied"] * 7
    assert all(org.owner(r.lead_id) == r.owner_id for r in rows)


def test_spreads_leads_round_robin_over_the_pool(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    for i in range(9):
        org.add_lead(f"00Q{i:015d}")
    run_cycle(make_deps())
    owners = [org.owner(i) for i in org.leads]
    assert sorted(owners.count(u) for u in REP_IDS) == [3, 3, 3]


def test_never_overwrites_an_owner_a_human_set_before_the_write(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    org.add_lead("00QB")
    human = "005HUMAN"
    real = org.current_owners

    def owners_then_human(ids):  # type: ignore[no-untyped-def]
        org.current_owners = real  # type: ignore[method-assign]
        org.set_owner("00QA", human)  # the human wins the race before our guard read
        return real(ids)

    org.current_owners = owners_then_human  # type: ignore[method-assign]
    report = run_cycle(make_deps())
    assert org.owner("00QA") == human
    assert org.owner("00QB") in REP_IDS
    by_lead = {r.lead_id: r for r in journal(make_deps())}
    assert by_lead["00QA"].status == "skipped"
    assert by_lead["00QA"].error == "owner changed by someone else"
    assert report.skipped == 1


def test_rereading_the_same_second_does_not_route_twice(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    run_cycle(make_deps())
    org.add_lead("00QB")  # same second as 00QA's write
    run_cycle(make_deps())
    run_cycle(make_deps())
    assert [r.lead_id for r in journal(make_deps())] == ["00QA", "00QB"]


def test_reads_only_leads_changed_since_the_watermark(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    run_cycle(make_deps())
    org.tick(60)
    org.add_lead("00QB")
    report = run_cycle(make_deps())
    assert report.read == 1


def test_held_lead_is_retried_every_cycle_until_routed(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    for user in org.users:
        object.__setattr__(user, "is_active", False)
    org.add_lead("00QA")
    deps = make_deps()
    run_cycle(deps)
    assert [r.status for r in journal(deps)] == ["held"]
    org.tick(3600)
    run_cycle(deps)
    assert [r.status for r in journal(deps)] == ["held"]  # one held row, updated in place
    for user in org.users:
        object.__setattr__(user, "is_active", True)
    run_cycle(make_deps())  # fresh directory: users active again
    assert [r.status for r in journal(deps)] == ["applied"]
    assert org.owner("00QA") in REP_IDS


@pytest.mark.parametrize(("conditional", "kind", "calls"), [(True, "composite", 18),
                                                             (False, "collections", 3)])  # fmt: skip
def test_a_page_is_guarded_by_one_owner_read_and_written_25_or_200_records_per_call(
    org: FakeGateway, make_deps: Callable[..., Deps], conditional: bool, kind: str, calls: int
) -> None:
    """Conditional writes (the default) go 25 to a Composite call, the opt-out's 200 to
    a collections call; one owner re-read before them either way."""
    for i in range(450):
        org.add_lead(f"00Q{i:015d}")
    org.tick(2)  # read seconds after their creation: none waits for a later re-read
    report = run_cycle(make_deps(config=_config(conditional)))
    assert report.applied == 450
    assert org.calls[kind] == calls and writes(org) == calls
    assert org.calls["owners"] == 1


def test_lock_errors_are_retried_until_the_write_lands(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    org.write_errors["00QA"] = ["UNABLE_TO_LOCK_ROW", "UNABLE_TO_LOCK_ROW"]
    run_cycle(make_deps())
    assert org.owner("00QA") in REP_IDS
    assert journal(make_deps())[0].status == "applied"


def test_lock_retries_back_off_on_the_injected_sleep_and_jitter(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Nothing really sleeps: the back-off goes to ``deps.sleep``, its jitter comes from
    ``deps.rng`` (here always at its top: 0.05 s doubled per retry, plus 0.05 s)."""
    from random import Random

    class Highest(Random):
        def uniform(self, a: float, b: float) -> float:
            return b

    org.add_lead("00QA")
    org.write_errors["00QA"] = ["UNABLE_TO_LOCK_ROW", "UNABLE_TO_LOCK_ROW"]
    deps = make_deps()
    naps: list[float] = []
    deps.sleep = lambda s: (naps.append(s), org.tick(s))  # type: ignore[func-returns-value]
    deps.rng = Highest()
    org.tick(2)  # the lead's last change is seconds old: no wait for a later second
    run_cycle(deps)
    assert naps == pytest.approx([0.1, 0.15])
    assert journal(deps)[0].status == "applied"


def test_inactive_owner_marks_rep_unavailable_and_reroutes(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    first = uid(REPS[0])
    deps = make_deps()

    def reject_first(lead_id: str = "00QA") -> None:
        org.write_errors[lead_id] = ["INACTIVE_OWNER_OR_USER"]

    org.before_write = reject_first
    run_cycle(deps)
    run_cycle(deps)
    rows = journal(deps)
    assert rows[0].owner_id == first and rows[0].status == "failed"
    assert rows[-1].status == "applied" and rows[-1].owner_id != first
    assert org.owner("00QA") == rows[-1].owner_id


def test_deleted_and_converted_leads_are_closed_out(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    org.add_lead("00QB")
    org.write_errors["00QA"] = ["ENTITY_IS_DELETED"]
    org.write_errors["00QB"] = ["CANNOT_UPDATE_CONVERTED_LEAD"]
    run_cycle(make_deps())
    errors = {r.lead_id: (r.status, r.error) for r in journal(make_deps())}
    assert errors == {"00QA": ("skipped", "lead deleted"), "00QB": ("skipped", "lead converted")}


def test_the_journal_names_salesforces_code_for_an_inactive_owner_and_a_rejection(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """The dashboard shows these errors as they are journalled: the code, then why."""
    org.add_lead("00QA")
    org.add_lead("00QB")
    org.write_errors["00QA"] = ["INACTIVE_OWNER_OR_USER"]
    org.write_errors["00QB"] = ["FIELD_CUSTOM_VALIDATION_EXCEPTION"]
    run_cycle(make_deps())
    errors = {r.lead_id: (r.status, r.error) for r in journal(make_deps()) if r.error}
    assert errors == {
        "00QA": ("failed", "INACTIVE_OWNER_OR_USER: re-routing"),
        "00QB": ("failed", "FIELD_CUSTOM_VALIDATION_EXCEPTION: injected"),
    }


def test_stops_writing_at_95_percent_of_the_api_allocation(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    org.usage = (9_600, 10_000)
    report = run_cycle(make_deps())
    assert report.pace == "stop"
    assert org.owner("00QA") == QUEUE_ID
    assert "collections" not in org.calls


def test_transient_write_failure_leaves_pending_and_next_cycle_applies(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    deps = make_deps()
    org.fail_writes = deps.lock_retries + 1  # every resend in this cycle fails too
    run_cycle(deps)
    assert journal(make_deps())[0].status == "pending"
    run_cycle(make_deps())
    rows = journal(make_deps())
    assert len(rows) == 1 and rows[0].status == "applied"
    assert org.owner("00QA") == rows[0].owner_id


def test_absurd_lead_values_never_crash_a_cycle(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA", Company="x" * 10_000, Email=None)
    org.add_lead(
        "00QB",
        Company="x' OR Name LIKE '%",
        Email="ünï@例え.jp",
        Country="🏳️",
        NumberOfEmployees=10**30,
    )
    org.add_lead("00QC", LastName=None, Company=None, Website="http://[::1", AnnualRevenue="NaN")
    report = run_cycle(make_deps())
    assert report.decided == 3
    rows = journal(make_deps())
    assert all(r.status in {"applied", "held"} and r.reason for r in rows)
    assert len(rows[0].lead_company or "") == 255


def test_lead_parked_by_a_hold_rule_is_not_retried_every_cycle(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    from dataclasses import replace

    from tests.unit.jobs.conftest import a_config
    from worker.routing.model import Condition, Rule

    base = a_config()
    park = Rule("Qualify by hand", "hold", (Condition("Company", "equals", "Parked"),))
    deps = make_deps(replace(base, rules=(park, *base.rules)))
    org.add_lead("00QA", Company="Parked")
    org.add_lead("00QB")
    run_cycle(deps)
    org.tick(60)
    org.add_lead("00QC")  # moves the watermark past the parked lead
    run_cycle(deps)
    run_cycle(deps)  # the first held refresh (a worker re-reads held leads once at start)
    report = run_cycle(deps)
    assert report.decided == 0 and report.api_calls == 1  # just the intake poll
    deps.state.held_read_at = float("-inf")  # the periodic refresh re-reads and retries it
    assert run_cycle(deps).decided == 1


def test_held_lead_taken_by_a_human_is_closed_at_the_refresh(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    for user in org.users:
        object.__setattr__(user, "is_active", False)
    org.add_lead("00QA")
    deps = make_deps()
    run_cycle(deps)
    org.set_owner("00QA", "005HUMAN")
    org.tick(60)
    deps.state.held_read_at = float("-inf")  # refresh due
    run_cycle(deps)
    (row,) = journal(deps)
    assert (row.status, row.error) == ("skipped", "owner changed by someone else")
    assert org.owner("00QA") == "005HUMAN"


def test_leads_created_by_a_named_integration_user_are_intake_too(
    make_deps: Callable[..., Deps],
) -> None:
    integration = UserRow("005INTEGRATION0001", "api@x.example", "api@x.example", "API", True)
    other = UserRow("005SOMEONEELSE0001", "eve@x.example", "eve@x.example", "Eve", True)
    org = make_deps().gateway
    assert isinstance(org, FakeGateway)
    org.users += [integration, other]
    org.add_lead("00QFROMAPI", owner=integration.id)
    org.add_lead("00QFROMEVE", owner=other.id)
    deps = make_deps()
    deps.intake_user_keys = ("api@x.example",)

    report = run_cycle(deps)

    assert report.applied == 1
    assert org.owner("00QFROMAPI") in REP_IDS
    assert org.owner("00QFROMEVE") == other.id


def test_a_held_backlog_is_retried_in_turn_a_slice_per_cycle(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    from worker.jobs.held import held_batches

    for user in org.users:  # nobody eligible: every lead is held
        object.__setattr__(user, "is_active", False)
    for i in range(7):
        org.add_lead(f"00Q{i:015d}")
    deps = make_deps()
    run_cycle(deps)
    assert {r.status for r in journal(deps)} == {"held"}
    deps.held_retry_per_cycle = 3
    config = deps.config(Session(deps.engine))
    seen: list[str] = []
    for _ in range(3):  # 3 + 3 + (1, then wrap to the oldest for 2): all once, then again
        batch = [i for ids in held_batches(deps, config, refresh=False) for i in ids]
        assert len(batch) == 3
        seen += batch
    assert sorted(seen[:7]) == sorted(org.leads)
    assert seen[7:] == seen[:2]
    everyone = [i for batch in held_batches(deps, config, refresh=True) for i in batch]
    assert sorted(everyone) == sorted(org.leads)


def test_a_write_lost_in_transit_is_resent_only_after_the_owners_are_read_again(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    org.add_lead("00QB")
    human = "005HUMAN"
    org.before_write = lambda: org.set_owner("00QA", human)  # a person acts meanwhile ...
    org.fail_writes = 1  # ... and our PATCH's answer never arrives
    report = run_cycle(make_deps())
    assert org.owner("00QA") == human
    assert org.owner("00QB") in REP_IDS
    assert writes(org) == 2 and report.applied == 1
    assert {r.lead_id: r.status for r in journal(make_deps())} == {
        "00QA": "skipped",
        "00QB": "applied",
    }


def test_a_person_who_picks_our_rep_first_is_not_taken_for_our_write(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    org.add_lead("00QA")
    real = org.current_owners

    def person_picks_the_same_rep(ids):  # type: ignore[no-untyped-def]
        org.current_owners = real  # type: ignore[method-assign]
        (row,) = journal(make_deps())
        org.set_owner("00QA", str(row.owner_id))
        return real(ids)

    org.current_owners = person_picks_the_same_rep  # type: ignore[method-assign]
    run_cycle(make_deps())
    (row,) = journal(make_deps())
    # the person's choice, not ours: no SLA clock of ours runs on it
    assert (row.status, row.error, row.sla_due_at) == (
        "skipped",
        "owner changed by someone else",
        None,
    )
    assert writes(org) == 0


@pytest.mark.parametrize(("conditional", "calls"), [(True, 40), (False, 5)])
def test_each_burst_of_patches_follows_its_own_owner_read(
    org: FakeGateway, make_deps: Callable[..., Deps], conditional: bool, calls: int
) -> None:
    for i in range(1_000):
        org.add_lead(f"00Q{i:015d}")
    org.tick(2)
    deps = make_deps(config=_config(conditional))
    report = run_cycle(deps)
    assert report.applied == 1_000
    assert writes(org) == calls
    # 800 decisions (write_concurrency x 200) per owner re-read: one burst each
    assert org.calls["owners"] == 2 and deps.write_concurrency == 4


def test_the_cycle_thread_stands_aside_from_the_owners_answer_to_the_patches(
    org: FakeGateway, make_deps: Callable[..., Deps], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the owners' answer is in and until the burst's PATCHes have started, the
    write-back holds the hush (the cycle thread pauses at its next lead); not while
    Salesforce is still reading the owners, and never after, whatever happens. (This
    fake answers without HTTP: the hold is taken when the read returns; over HTTP it is
    taken when the answer starts to arrive, see test_gateway_http.)"""
    from worker.jobs import send_owners

    for i in range(3):
        org.add_lead(f"00Q{i:015d}")
    deps = make_deps()
    seen: dict[str, bool] = {}
    real_owners, real_update, real_guard = org.current_owners, org.update_owners, send_owners.judge

    def owners(ids):  # type: ignore[no-untyped-def]
        seen["held during the owner read"] = deps.hush.held
        return real_owners(ids)

    def guard(*args):  # type: ignore[no-untyped-def]
        seen["held while judging the owners"] = deps.hush.held
        return real_guard(*args)

    def update(updates, **conditions):  # type: ignore[no-untyped-def]
        seen["held during the PATCH"] = deps.hush.held
        return real_update(updates, **conditions)

    org.current_owners, org.update_owners = owners, update  # type: ignore[method-assign]
    monkeypatch.setattr(send_owners, "judge", guard)
    org.fail_writes = 1  # the first PATCH fails in transit: re-read, resend
    report = run_cycle(deps)
    assert report.applied == 3
    assert seen == {"held during the owner read": False, "held while judging the owners": True,
                    "held during the PATCH": False}  # fmt: skip
    assert not deps.hush.held


def test_applied_time_is_when_salesforce_answered_not_when_journaled(
    org: FakeGateway, make_deps: Callable[..., Deps], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Outcomes reach the journal when the next page hands its writes over (or at the
    end of the cycle); the applied time and the speed-to-lead figure must not include
    that wait."""
    from datetime import timedelta

    from worker.jobs import outcome_journal

    org.add_lead("00QA")
    answered = org.clock + timedelta(seconds=1)
    clock = {"now": org.clock}
    deps = make_deps(now=lambda: clock["now"])
    real_update, real_journal = org.update_owners, outcome_journal._journal

    def update(updates, **conditions):  # type: ignore[no-untyped-def]
        result = real_update(updates, **conditions)
        clock["now"] = answered
        return result

    def journal_later(deps, out):  # type: ignore[no-untyped-def]
        clock["now"] = answered + timedelta(seconds=30)  # e.g. the next page was decided
        real_journal(deps, out)

    org.update_owners = update  # type: ignore[method-assign]
    monkeypatch.setattr(outcome_journal, "_journal", journal_later)
    assert run_cycle(deps).applied == 1
    (row,) = journal(deps)
    assert row.applied_at is not None
    assert row.applied_at.replace(tzinfo=None) == answered.replace(tzinfo=None)


def _config(conditional: bool = True):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from tests.unit.jobs.conftest import a_config
    from worker.routing.config_model import Writeback

    return replace(a_config(), writeback=Writeback(conditional=conditional))


def test_a_change_inside_the_write_window_is_overwritten_by_the_unconditional_opt_out(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """The window conditional writes (the default) close, open again with the opt-out
    (1 API call per 200 writes instead of per 25)."""
    from datetime import timedelta

    org.add_lead("00QA")

    def person_acts() -> None:  # after our owner re-read, before our PATCH lands
        org.clock += timedelta(seconds=1)
        org.set_owner("00QA", "005HUMAN")

    org.before_write = person_acts
    run_cycle(make_deps(config=_config(conditional=False)))
    assert org.owner("00QA") in REP_IDS  # the person's choice is lost


def test_writes_never_overwrite_a_change_inside_the_write_window_by_default(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    from datetime import timedelta

    org.add_lead("00QA")
    org.add_lead("00QB")
    org.clock += timedelta(seconds=5)  # our re-read happens seconds after the leads' creation

    def person_acts() -> None:
        org.clock += timedelta(seconds=1)
        org.set_owner("00QA", "005HUMAN")

    org.before_write = person_acts
    deps = make_deps()
    report = run_cycle(deps)
    assert org.owner("00QA") == "005HUMAN"  # Salesforce refused ours (412) ...
    assert org.owner("00QB") in REP_IDS
    assert report.applied == 1
    rows = {r.lead_id: (r.status, r.error) for r in journal(deps)}
    # ... and the re-read that followed saw the person's owner
    assert rows == {"00QA": ("skipped", "owner changed by someone else"), "00QB": ("applied", None)}
    assert org.calls["composite"] == 1 and "collections" not in org.calls
    assert org.calls["owners"] == 2


def test_a_refused_write_on_a_lead_still_in_the_queue_is_sent_again(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Someone edited another field after our re-read: our write is refused, the lead is
    re-read (still the queue's; it waits until a second after that edit) and written with
    the new precondition."""
    from datetime import timedelta

    org.add_lead("00QA")
    org.clock += timedelta(seconds=5)

    def someone_edits() -> None:
        org.clock += timedelta(seconds=1)
        lead = org.leads["00QA"]
        lead["Status"] = "Working"
        lead["LastModifiedDate"] = lead["SystemModstamp"] = sf_time(org.clock)

    org.before_write = someone_edits
    deps = make_deps()  # deps.sleep moves the org's clock on while we wait
    assert run_cycle(deps).applied == 1
    assert org.owner("00QA") in REP_IDS and org.calls["composite"] == 2


def test_a_lead_reread_in_the_second_of_its_last_change_waits_for_a_later_reread(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """If-Unmodified-Since has second precision: a person's change after our re-read but
    in the same second as the lead's creation leaves its stamps as they were, so the
    precondition cannot see it. Such a lead is not written on that re-read; it waits
    until Salesforce's clock has left that second (the rest of it and the clock margin,
    not a whole second) and is re-read then, which sees the person's owner."""
    from datetime import timedelta

    from worker.jobs.precondition import CLOCK_SKEW

    org.add_lead("00QA")
    org.add_lead("00QB", at=org.clock - timedelta(seconds=10))  # settled long ago
    org.clock += timedelta(milliseconds=400)  # re-read 0.4 s into 00QA's creation second
    real = org.current_owners
    reads = 0

    def person_in_the_same_second(ids):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        owners = real(ids)
        if reads == 1:
            org.set_owner("00QA", "005HUMAN")  # same second: the stamps do not move
        return owners

    naps: list[float] = []
    org.current_owners = person_in_the_same_second  # type: ignore[method-assign]
    deps = make_deps()
    deps.sleep = lambda s: (naps.append(s), org.tick(s))  # type: ignore[func-returns-value]
    report = run_cycle(deps)
    assert org.owner("00QA") == "005HUMAN"
    assert org.owner("00QB") in REP_IDS and report.applied == 1
    assert reads == 2  # waited into a later second, just long enough:
    assert naps == [pytest.approx(0.6 + CLOCK_SKEW.total_seconds())]
    assert org.calls["composite"] == 1  # 00QB in the first burst; nothing left to send


def test_the_overlap_window_is_read_again_only_until_it_is_settled(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Right after a burst, idle polls re-read the last seconds (late commits, same-second
    leads); once the watermark is settle_seconds old they read from the watermark itself,
    so a burst's held leads are not re-read by every idle poll for ever."""
    from datetime import timedelta

    from worker.jobs.intake import intake_since

    org.add_lead("00QA")
    mark = org.clock.replace(microsecond=0)  # its SystemModstamp
    clock = {"now": org.clock}
    deps = make_deps(now=lambda: clock["now"])
    asked: list[object] = []
    real = org.intake_pages

    def pages(owner_ids, since, fields):  # type: ignore[no-untyped-def]
        asked.append(since)
        return real(owner_ids, since, fields)

    org.intake_pages = pages  # type: ignore[method-assign]
    run_cycle(deps)  # reads 00QA: the watermark is its SystemModstamp
    clock["now"] = mark + timedelta(seconds=5)
    run_cycle(deps)
    clock["now"] = mark + timedelta(seconds=deps.settle_seconds)
    run_cycle(deps)
    assert asked == [None, mark - timedelta(seconds=deps.overlap_seconds), mark]
    # the rule itself, at its edges
    assert intake_since(mark, mark + timedelta(seconds=119), 2, 120) == mark - timedelta(seconds=2)
    assert intake_since(mark, mark + timedelta(seconds=120), 2, 120) == mark


def test_a_lead_locked_through_every_retry_is_written_by_a_later_cycle(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """Not 'failed' for ever: a failed lead stays in the queue and no query reads it
    again (its SystemModstamp does not move). Left pending, the next cycle's reconcile
    re-reads it and writes it."""
    org.add_lead("00QA")
    deps = make_deps()
    org.write_errors["00QA"] = ["UNABLE_TO_LOCK_ROW"] * (deps.lock_retries + 1)
    first = run_cycle(deps)
    assert first.applied == 0 and first.left_pending == 1 and first.failed == 0
    assert org.owner("00QA") == QUEUE_ID
    second = run_cycle(make_deps())
    assert second.applied == 1 and org.owner("00QA") in REP_IDS
    assert [r.status for r in journal(deps)] == ["applied"]


def test_decisions_are_made_and_journaled_at_the_decision_clock_when_one_is_set(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """``bench e2e`` pins routing to weekday business hours (``decide_now``); the intake's
    own clock (watermark, settle) stays the real one."""
    from datetime import UTC, datetime

    org.add_lead("00Q000000000000001")
    deps = make_deps()
    at = datetime(2026, 12, 8, 15, 0, tzinfo=UTC)
    deps.decide_now = lambda: at
    run_cycle(deps)
    (row,) = journal(deps)
    assert row.decided_at.replace(tzinfo=None) == at.replace(tzinfo=None)


def test_the_long_running_worker_leaves_an_unsettled_lead_pending_for_a_cycle_of_its_own(
    org: FakeGateway, make_deps: Callable[..., Deps]
) -> None:
    """With ``Deps.settling`` on (the scheduler's worker), a lead re-read in the second of
    its last change does not hold the cycle: it is left pending, with the moment its
    second is over, and the next cycle's reconcile writes it as a decision never sent.
    A person's change in that second is seen then and kept (and, as nothing of ours was
    sent, journaled without "our write may have landed first")."""
    from datetime import timedelta

    from worker.jobs.precondition import CLOCK_SKEW

    org.add_lead("00QA")
    org.add_lead("00QB")
    org.add_lead("00QC", at=org.clock - timedelta(seconds=10))  # settled long ago
    org.clock += timedelta(milliseconds=300)
    real = org.current_owners

    def person_in_the_same_second(ids):  # type: ignore[no-untyped-def]
        org.current_owners = real  # type: ignore[method-assign]
        owners = real(ids)
        org.set_owner("00QA", "005HUMAN")  # after our re-read, in the same second
        return owners

    org.current_owners = person_in_the_same_second  # type: ignore[method-assign]
    deps = make_deps()
    deps.settling.enabled = True
    naps: list[float] = []
    deps.sleep = naps.append
    first = run_cycle(deps)
    assert (first.applied, first.left_pending, naps) == (1, 2, [])  # nothing waited
    assert {r.lead_id: r.status for r in journal(deps)} == {
        "00QA": "pending", "00QB": "pending", "00QC": "applied"}  # fmt: skip
    due = deps.settling.due()
    assert due == pytest.approx(deps.monotonic() + 0.7 + CLOCK_SKEW.total_seconds())
    org.tick(0.7 + CLOCK_SKEW.total_seconds())  # the worker's next cycle, at that moment
    second = run_cycle(deps)
    assert (second.applied, second.skipped, second.left_pending) == (1, 1, 0)
    assert org.owner("00QA") == "005HUMAN" and org.owner("00QB") in REP_IDS
    rows = {r.lead_id: (r.status, r.error) for r in journal(deps)}
    assert rows["00QA"] == ("skipped", "owner changed by someone else")
    assert rows["00QB"] == ("applied", None)
    assert deps.settling.due() is None


def test_settling_remembers_unsent_decisions_and_the_earliest_settle_time() -> None:
    from worker.jobs.precondition import Settling

    settling = Settling(enabled=True)
    settling.hold([1, 2], at=10.5)
    settling.hold([3], at=10.2)
    assert settling.unsent([2, 3, 4]) == {2, 3}
    assert settling.unsent([2, 3]) == set()  # handed over once
    assert settling.due() == 10.2 and settling.due() is None
