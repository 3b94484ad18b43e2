"""Who gets told: contacts from the decision, the User directory and config overrides."""

from __future__ import annotations

from worker.notify import Contact, EventKind, event_for_decision, parse_notify_section
from worker.notify.recipients import people_for
from worker.store.models.journal import JournalRow

SETTINGS = parse_notify_section(
    {
        "channels": {"mail": {"type": "email"}},
        "events": {
            "sla_reassigned": {
                "notify": ["previous_owner", "owner", "manager"],
                "channels": ["mail"],
            }
        },
        "revops": ["ops@acme.example"],
        "people": {
            "ben@acme.example": {"slack": "U0BEN0001", "manager": "thomas@acme.example"},
            "anna@acme.example": {"email": "anna+leads@acme.example"},
        },
        "salesforce_url": "https://acme.my.salesforce.com",
    },
    environ={},
)
DIRECTORY = {
    "005PREV": Contact(email="Ben@acme.example", name="Ben Carter"),
    "thomas@acme.example": Contact(email="thomas@acme.example", name="Thomas Muller"),
}


def _reassigned() -> JournalRow:
    return JournalRow(
        id=9,
        lead_id="00Q9",
        cycle_id="c",
        kind="sla_reassign",
        status="applied",
        owner_id="005ANNA",
        owner_name="Anna Schmidt",
        rep_key="anna@acme.example",
        previous_owner_id="005PREV",
        reason="Ben did not respond within 30 minutes",
    )


def test_reassignment_reaches_previous_owner_new_owner_and_the_previous_owners_manager() -> None:
    event = event_for_decision(_reassigned(), settings=SETTINGS, directory=DIRECTORY)
    assert event is not None and event.kind == EventKind.SLA_REASSIGNED

    people = people_for(event, ("previous_owner", "owner", "manager"), SETTINGS)

    assert [(role, c.email) for role, c in people] == [
        ("previous_owner", "ben@acme.example"),
        ("owner", "anna+leads@acme.example"),
        ("manager", "thomas@acme.example"),
    ]
    assert people[0][1].slack == "U0BEN0001" and people[0][1].name == "Ben Carter"
    assert people[1][1].name == "Anna Schmidt"


def test_lead_link_points_at_the_lightning_record_page() -> None:
    event = event_for_decision(_reassigned(), settings=SETTINGS)

    assert event is not None and event.lead is not None
    assert event.lead.url == "https://acme.my.salesforce.com/lightning/r/Lead/00Q9/view"


def test_failed_pending_and_skipped_decisions_announce_nothing() -> None:
    for status in ("failed", "pending", "skipped"):
        decision = _reassigned()
        decision.status = status
        assert event_for_decision(decision, settings=SETTINGS) is None


def test_held_decision_goes_to_revops_not_to_an_owner() -> None:
    decision = _reassigned()
    decision.status = "held"

    event = event_for_decision(decision, settings=SETTINGS)

    assert event is not None and event.kind == EventKind.LEAD_HELD and event.owner is None
    assert [c.email for _, c in people_for(event, ("owner", "revops"), SETTINGS)] == [
        "ops@acme.example"
    ]
