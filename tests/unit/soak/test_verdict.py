"""The soak's verdict catches what it must: a lost lead, a double assignment, an owner
Salesforce shows that the journal does not explain, an overwritten human, a wrong SLA
hop; and passes a clean run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devkit.soak.verdict import Act, Entry, Evidence, judge
from worker.jobs.write_items import OWNER_CHANGED, OWNER_CHANGED_AFTER_SEND

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
QUEUE, A, B, C, HUMAN = "00G000000000001", "005A", "005B", "005C", "005H"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def route(i: int, lead: str, owner: str, status: str = "applied", **kw: object) -> Entry:
    fields: dict = {"decided_at": at(1), "applied_at": at(2), "sla_due_at": at(62)} | kw
    return Entry(i, lead, "route", status, owner, **fields)


def hop(i: int, lead: str, owner: str, previous: str, decided: float) -> Entry:
    return Entry(i, lead, "sla_reassign", "applied", owner, "SLA missed", previous,
                 at(decided), at(decided + 1), at(decided + 61))  # fmt: skip


def evidence(final: dict[str, str], journal: list[Entry], **kw: object) -> Evidence:
    created = dict.fromkeys(final, at(0))
    kw = {"ended_at": at(70)} | kw
    return Evidence(frozenset({QUEUE}), final, journal, created, **kw)  # type: ignore[arg-type]


def test_a_clean_run_passes_with_its_figures() -> None:
    journal = [route(1, "L1", A), Entry(2, "L2", "route", "held", None, "qualify by hand")]
    v = judge(evidence({"L1": A, "L2": QUEUE}, journal))
    assert (v.created, v.routed, v.held, v.failures) == (2, 1, 1, [])
    assert v.quantile(0.95) == 2.0


def test_a_lead_left_in_the_queue_without_a_held_reason_is_lost() -> None:
    journal = [route(1, "L1", A), Entry(2, "L2", "route", "held", None, "  ")]
    v = judge(evidence({"L1": A, "L2": QUEUE, "L3": QUEUE}, journal))
    assert v.lost == 2 and v.held == 0
    assert any(f.startswith("lost=2") for f in v.failures)


def test_a_created_lead_missing_from_the_org_is_lost() -> None:
    ev = evidence({"L1": A}, [route(1, "L1", A)])
    ev.created_at = {**ev.created_at, "L9": at(0)}
    assert judge(ev).lost == 1


def test_two_applied_routings_are_a_double_assignment() -> None:
    v = judge(evidence({"L1": B}, [route(1, "L1", A), route(2, "L1", B)]))
    assert v.double_assigned == 1 and v.failures


def test_an_owner_seen_in_salesforce_but_not_in_the_journal_is_a_double_assignment() -> None:
    journal = [route(1, "L1", A)]
    v = judge(evidence({"L1": A}, journal, observed={"L1": [QUEUE, C, A]}))
    assert (v.double_assigned, v.unexplained_owner) == (1, 1)
    assert C in v.examples["double_assigned"][0]


def test_a_rep_our_lost_write_gave_the_lead_before_a_person_re_owned_it_is_explained() -> None:
    """Our write to A landed, its answer was lost, a person re-owned the lead, our re-read
    saw the person: skipped, saying our write may have landed first."""
    maybe = OWNER_CHANGED_AFTER_SEND
    journal = [route(1, "L1", A, status="skipped", applied_at=None, error=maybe)]
    humans = {"L1": Act(HUMAN, at(1.5))}
    v = judge(evidence({"L1": HUMAN}, journal, observed={"L1": [QUEUE, A, HUMAN]}, humans=humans))
    assert (v.double_assigned, v.unexplained_owner, v.failures) == (0, 0, [])


def test_only_that_reason_explains_a_passing_owner_and_never_the_final_one() -> None:
    humans = {"L1": Act(HUMAN, at(1.5))}
    plain = [route(1, "L1", A, status="skipped", applied_at=None, error=OWNER_CHANGED)]
    v = judge(evidence({"L1": HUMAN}, plain, observed={"L1": [A]}, humans=humans))
    assert v.unexplained_owner == 1
    maybe = [route(1, "L1", A, status="skipped", applied_at=None, error=OWNER_CHANGED_AFTER_SEND)]
    assert judge(evidence({"L1": A}, maybe, observed={"L1": [A]})).unexplained_owner == 1


def test_a_final_owner_other_than_the_last_applied_decision_is_caught() -> None:
    # the journal says applied to B (an SLA hop) but Salesforce still shows A
    journal = [route(1, "L1", A), hop(2, "L1", B, A, 65)]
    assert judge(evidence({"L1": A}, journal)).double_assigned == 1


def test_a_rep_owned_lead_with_no_applied_decision_is_caught() -> None:
    journal = [route(1, "L1", A, status="skipped")]
    assert judge(evidence({"L1": A}, journal)).double_assigned == 1


def test_a_humans_choice_overwritten_is_caught() -> None:
    humans = {"L1": Act(HUMAN, at(1.5)), "L2": Act(HUMAN, at(3))}
    journal = [route(1, "L1", A), route(2, "L2", A, status="skipped")]
    v = judge(evidence({"L1": A, "L2": HUMAN}, journal, humans=humans))
    assert v.overwritten == 1 and "L1" in v.examples["overwritten"][0]
    assert v.double_assigned == 0  # the human explains L2's owner
    # L1's person acted at 1.5 s, between our decision (1 s) and its applied write (2 s)
    assert v.overwritten_in_flight == 1 and "in flight" in v.examples["overwritten"][0]


def test_an_overwrite_with_no_write_of_ours_in_flight_is_told_apart() -> None:
    """A person's change well after our write, then an SLA hop over it: not the write
    window but a logic bug (the SLA sweep must close such a lead, not move it)."""
    humans = {"L1": Act(HUMAN, at(10))}
    journal = [route(1, "L1", A), hop(2, "L1", B, A, 63)]
    v = judge(evidence({"L1": B}, journal, humans=humans))
    assert (v.overwritten, v.overwritten_in_flight) == (1, 0)
    assert "sla_reassign decided" in v.examples["overwritten"][0]


def test_sla_hops_are_checked_for_touch_timing_and_going_back() -> None:
    journal = [
        route(1, "L1", A), hop(2, "L1", B, A, 63),  # correct
        route(3, "L2", A), hop(4, "L2", B, A, 63),  # touched before: wrong
        route(5, "L3", A), hop(6, "L3", B, A, 30),  # before it was due: wrong
        route(7, "L4", A), hop(8, "L4", B, A, 63), hop(9, "L4", A, B, 125),  # back to A: wrong
    ]  # fmt: skip
    final = {"L1": B, "L2": B, "L3": B, "L4": A}
    v = judge(evidence(final, journal, touches={"L2": Act(A, at(10))}, ended_at=at(100)))
    assert (v.sla_reassigned, v.sla_incorrect, v.sla_missed) == (5, 3, 0)
    assert {e.split(":")[0] for e in v.examples["sla_incorrect"]} == {"L2", "L3", "L4"}


def test_an_untouched_lead_long_past_its_sla_is_counted_as_missed() -> None:
    ev = evidence({"L1": A, "L2": A}, [route(1, "L1", A), route(2, "L2", A)],
                  touches={"L2": Act(A, at(5))})  # fmt: skip
    ev.ended_at = at(62 + ev.sla_margin_s + 1)
    v = judge(ev)
    assert (v.sla_missed, v.sla_incorrect) == (1, 0)
    assert "L1" in v.examples["sla_missed"][0]


def test_a_pending_decision_left_over_fails() -> None:
    v = judge(evidence({"L1": A}, [route(1, "L1", A), route(2, "L1", B, status="pending")]))
    assert v.pending_left == 1 and any("pending_left" in f for f in v.failures)
