"""The pre-write guard on an owner that is already our decision: our landed write (to be
journaled applied), or someone else's choice (skipped, never an SLA clock of ours); and
an owner someone else set after a write of ours may have landed (skipped, saying so)."""

from __future__ import annotations

from worker.jobs.owner_guard import judge
from worker.jobs.write_items import OWNER_CHANGED, OWNER_CHANGED_AFTER_SEND, Outcomes, WriteItem
from worker.sfdc.mapping import owner_row

US = "005WORKER000001AAA"  # the integration user we write as
QUEUE = "00GQUEUE0000001AAA"
A, B = "005REPA00000001AAA", "005REPB00000001AAA"  # the rep we move from, and to
INTEGRATION = "005INTEGRATION1AAA"  # an intake user: its leads are new leads too
PERSON = "005MANAGER00001AAA"


def guard(modified_by: str, *, expected: str, sent: bool = True, owner: str = B) -> Outcomes:
    row = owner_row({"Id": "00QA", "OwnerId": owner, "IsConverted": False,
                     "LastModifiedById": modified_by}, US)  # fmt: skip
    item = WriteItem(1, "00QA", B, frozenset({expected}), "b@x", "p", None, None, sent)
    out = Outcomes()
    assert judge({"00QA": row}, [item], out) == []
    return out


def test_an_sla_move_whose_answer_was_lost_is_ours_though_the_rep_we_moved_it_from_edited_it():
    """Rep A updates the lead's status just as our SLA move to B lands (their screen
    still showed it as theirs): A did not pick B, our write did."""
    out = guard(A, expected=A)
    assert [i.lead_id for i in out.applied] == ["00QA"] and not out.skipped


def test_a_route_whose_answer_was_lost_is_ours_though_the_intake_user_edited_it_since():
    out = guard(INTEGRATION, expected=INTEGRATION)
    assert [i.lead_id for i in out.applied] == ["00QA"]


def test_our_rep_set_by_someone_else_is_still_their_choice():
    out = guard(PERSON, expected=A)
    assert not out.applied and [i.lead_id for i in out.skipped[OWNER_CHANGED_AFTER_SEND]] == [
        "00QA"
    ]


def test_before_any_write_of_ours_an_owner_equal_to_ours_is_never_ours():
    out = guard(A, expected=A, sent=False)
    assert not out.applied and out.skipped[OWNER_CHANGED]


def test_ours_when_we_or_the_owner_made_the_last_change():
    assert guard(US, expected=QUEUE).applied
    assert guard(B, expected=QUEUE).applied


def test_a_person_who_re_owned_the_lead_after_our_lost_answer_is_journaled_as_maybe_after_us():
    """Our PATCH to B may have landed (its answer was lost), then a person chose someone
    else: B may have owned the lead for a moment, so the journal must not say we never
    wrote (the soak's verdict counts B as a passing owner only with this reason)."""
    out = guard(PERSON, expected=QUEUE, owner=PERSON)
    assert not out.applied and list(out.skipped) == [OWNER_CHANGED_AFTER_SEND]


def test_a_person_who_re_owned_the_lead_before_we_wrote_is_plainly_their_change():
    out = guard(PERSON, expected=QUEUE, owner=PERSON, sent=False)
    assert not out.applied and list(out.skipped) == [OWNER_CHANGED]
