"""Notifications end to end against real local receivers, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from devkit.sink import Sink
from worker.notify import (
    Contact,
    EventKind,
    NotificationEvent,
    deliver_due,
    enqueue_event,
    enqueue_for_decision,
    enqueue_sla_reminders,
    outbox_summary,
    signing,
)
from worker.notify.outbox import claim
from worker.store.db import session_scope
from worker.store.models.journal import JournalRow

from .conftest import NOW, SECRET, Receiver, a_decision, add_decision, notify_settings

pytestmark = pytest.mark.integration


def _enqueue(engine: Engine, decision: JournalRow, settings, **kw) -> int:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        session.add(decision)
        session.flush()
        return enqueue_for_decision(session, decision, settings=settings, now=NOW, **kw)


def _mails(sink: Sink) -> list[dict]:  # type: ignore[type-arg]
    return [e for e in sink.log.entries() if e["via"] == "smtp"]


def test_each_event_reaches_the_right_people_on_the_right_channels(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)
    directory = {"005BEN": Contact(email="ben@acme.example", name="Ben Carter")}
    _enqueue(engine, a_decision(), settings)
    _enqueue(
        engine,
        a_decision(lead_id="00Q2", kind="sla_reassign", previous_owner_id="005BEN"),
        settings,
        directory=directory,
    )
    _enqueue(
        engine,
        a_decision(lead_id="00Q3", status="held", owner_id=None, rep_key=None, owner_name=None),
        settings,
    )
    with session_scope(engine) as session:
        api = NotificationEvent(
            EventKind.API_ALLOCATION,
            "api:2026-11-23",
            reason="95% used",
            facts={"used": "14250", "max": "15000"},
        )
        enqueue_event(session, api, settings=settings, now=NOW)

    report = deliver_due(engine, settings=settings, now=NOW)

    mails = sorted((m["to"][0], m["subject"]) for m in _mails(smtp_sink))
    assert mails == [
        (
            "ben@acme.example",
            "Ada Lovelace (Analytical Engines) moved from Ben Carter to Sarah Johnson: response time missed",
        ),
        (
            "maria@acme.example",
            "Ada Lovelace (Analytical Engines) moved from Ben Carter to Sarah Johnson: response time missed",
        ),
        ("revops@acme.example", "Lead held, nobody eligible: Ada Lovelace (Analytical Engines)"),
        (
            "sarah@acme.example",
            "Ada Lovelace (Analytical Engines) moved from Ben Carter to Sarah Johnson: response time missed",
        ),
        ("sarah@acme.example", "New lead for Sarah Johnson: Ada Lovelace (Analytical Engines)"),
    ]
    assert (
        "https://acme.my.salesforce.com/lightning/r/Lead/00Q5e00000AbCdEAAV/view"
        in _mails(smtp_sink)[0]["text"]
    )
    slack = [r.json for r in receiver.on("/slack")]
    assert [s["text"] for s in slack] == [
        "New lead for Sarah Johnson: Ada Lovelace (Analytical Engines)",
        "Ada Lovelace (Analytical Engines) moved from Ben Carter to Sarah Johnson: response time missed",
    ]
    assert "<@U0SARAH01>" in slack[0]["blocks"][1]["elements"][0]["text"]
    hooks = [r.json for r in receiver.on("/hook")]
    assert [h["event"] for h in hooks] == ["lead_held", "api_allocation"]
    assert hooks[0]["recipients"] == [
        {"role": "revops", "email": "revops@acme.example", "name": None, "slack": None}
    ]
    assert report.sent == 9 and report.retried == report.dead == 0


def test_webhook_signature_verifies_with_the_shared_secret(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)
    with session_scope(engine) as session:
        enqueue_event(
            session,
            NotificationEvent(EventKind.API_ALLOCATION, "api:d1", reason="r"),
            settings=settings,
            now=NOW,
        )

    deliver_due(engine, settings=settings, now=NOW)

    (hit,) = receiver.on("/hook")
    assert signing.verify(SECRET.encode(), hit.body, hit.headers, now=NOW.timestamp() + 5)
    assert not signing.verify(b"wrong", hit.body, hit.headers, now=NOW.timestamp() + 5)
    assert hit.headers[signing.DELIVERY_HEADER] == hit.json["delivery_id"]


def test_failed_salesforce_write_notifies_nobody(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)

    assert _enqueue(engine, a_decision(status="failed"), settings) == 0
    assert deliver_due(engine, settings=settings, now=NOW).sent == 0
    assert receiver.attempts == 0 and _mails(smtp_sink) == []


def test_enqueueing_the_same_decision_twice_queues_it_once(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)
    decision = add_decision(engine, a_decision())

    with session_scope(engine) as session:
        first = enqueue_for_decision(session, decision, settings=settings, now=NOW)
    with session_scope(engine) as session:
        second = enqueue_for_decision(session, decision, settings=settings, now=NOW)

    assert (first, second) == (2, 0)


def test_receiver_failing_three_times_then_recovering_gets_each_message_exactly_once(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(
        receiver, smtp_sink, events={"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}}
    )
    receiver.fail_first = 3
    for n in range(2):
        _enqueue(engine, a_decision(lead_id=f"00Q{n}"), settings)

    now, sent, rng = NOW, 0, random.Random(1)
    for _ in range(6):
        sent += deliver_due(engine, settings=settings, now=now, rng=rng).sent
        now += timedelta(seconds=settings.delivery.max_backoff_seconds)

    assert receiver.attempts == 5  # 3 failures, then one success per message
    assert sorted(r.json["text"] for r in receiver.on("/slack")) == sorted(
        ["New lead for Sarah Johnson: Ada Lovelace (Analytical Engines)"] * 2
    )
    assert sent == 2 and outbox_summary(engine)["totals"]["sent"] == 2


def test_retry_waits_for_its_backoff(engine: Engine, receiver: Receiver, smtp_sink: Sink) -> None:
    settings = notify_settings(
        receiver, smtp_sink, events={"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}}
    )
    receiver.fail_first = 1
    _enqueue(engine, a_decision(), settings)

    assert deliver_due(engine, settings=settings, now=NOW).retried == 1
    assert (
        deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=4)).sent == 0
    )  # < 10 s * 0.5
    assert deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=10)).sent == 1


def test_worker_killed_after_claiming_sends_once_after_the_lease_expires(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(
        receiver, smtp_sink, events={"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}}
    )
    _enqueue(engine, a_decision(), settings)
    (crashed,) = claim(engine, "slack", 10, NOW, timedelta(seconds=60))  # ...and the process died

    before_expiry = deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=30))
    after_expiry = deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=61))
    again = deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=600))

    assert (before_expiry.sent, after_expiry.sent, again.sent) == (0, 1, 0)
    assert len(receiver.on("/slack")) == 1
    assert crashed.attempts == 1


def test_channel_rate_limit_defers_the_rest_to_the_next_minute(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(
        receiver,
        smtp_sink,
        rate=2,
        events={"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}},
    )
    for n in range(5):
        _enqueue(engine, a_decision(lead_id=f"00Q{n}"), settings)

    first = deliver_due(engine, settings=settings, now=NOW)
    same_minute = deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=30))
    next_minute = deliver_due(engine, settings=settings, now=NOW + timedelta(seconds=61))

    assert (first.sent, first.deferred) == (2, 3)
    assert same_minute.sent == 0
    assert next_minute.sent == 2


def test_permanent_rejection_is_dead_and_visible_in_the_summary(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(
        receiver, smtp_sink, events={"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}}
    )
    receiver.fail_first, receiver.fail_status = 1, 404
    _enqueue(engine, a_decision(), settings)

    report = deliver_due(engine, settings=settings, now=NOW)
    summary = outbox_summary(engine)

    assert report.dead == 1
    assert summary["channels"]["slack"]["dead"] == 1
    assert summary["errors"][0] | {"at": None} == {
        "channel": "slack",
        "event": "lead_assigned",
        "status": "dead",
        "attempts": 1,
        "error": "HTTP 404",
        "at": None,
    }


def test_sla_reminder_is_queued_once_after_seventy_percent_of_the_window(
    engine: Engine, receiver: Receiver, smtp_sink: Sink
) -> None:
    settings = notify_settings(receiver, smtp_sink)
    add_decision(engine, a_decision(applied_at=NOW, sla_due_at=NOW + timedelta(minutes=30)))

    def remind(minutes: int) -> int:
        with session_scope(engine) as session:
            return enqueue_sla_reminders(
                session, settings=settings, now=NOW + timedelta(minutes=minutes)
            )

    assert [remind(20), remind(21), remind(25), remind(31)] == [0, 1, 0, 0]
    deliver_due(engine, settings=settings, now=NOW + timedelta(minutes=22))
    (mail,) = _mails(smtp_sink)
    assert mail["to"] == ["sarah@acme.example"]
    assert (
        mail["subject"]
        == "Reminder: Ada Lovelace (Analytical Engines) needs a first touch by 2026-11-23 10:30 UTC"
    )


def test_unreachable_webhook_url_never_appears_in_logs_or_the_store(
    engine: Engine, receiver: Receiver, smtp_sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    secret_url = "http://127.0.0.1:9/services/T000/B000/XXXXSECRETXXXX"  # port 9: refused
    channels = {"slack": {"type": "slack", "url": secret_url}}
    settings = notify_settings(
        receiver,
        smtp_sink,
        channels=channels,
        events={"lead_assigned": {"notify": ["owner"], "channels": ["slack"]}},
    )
    _enqueue(engine, a_decision(), settings)
    caplog.set_level(logging.DEBUG, logger="worker.notify")

    report = deliver_due(engine, settings=settings, now=NOW)

    assert report.retried == 1
    errors = outbox_summary(engine)["errors"]
    assert errors[0]["error"] == "connection failed (ConnectionError)"
    assert "XXXXSECRETXXXX" not in caplog.text and "Ada Lovelace" not in caplog.text
