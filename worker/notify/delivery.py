"""The delivery job: claim due outbox rows, send them, settle them. Never raises.

Per channel, a run sends at most ``rate_per_minute`` minus what that channel sent in the
last minute (counted in the store, so it holds across runs and processes); the rest
waits for a later run. A failure schedules a retry with exponential backoff and jitter
(``backoff_seconds * 2**(attempt-1)``, capped, times a random factor in [0.5, 1]) or a
server-given ``Retry-After``; a permanent failure or the last attempt marks the row
``dead``, which the dashboard shows.
"""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from worker.notify import signing
from worker.notify.model import Channel, DeliveryPolicy, NotifySettings
from worker.notify.outbox import (
    Claimed,
    claim,
    due_counts,
    mark_dead,
    mark_retry,
    mark_sent,
    recent_use,
)
from worker.notify.transports import SendError, Transports

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    deferred: int = 0  # due but over the channel's rate limit this minute
    lost_lease: int = 0  # settled by another run after our lease expired
    error: str | None = None  # the store failed: nothing (more) was sent this run
    by_channel: dict[str, int] = field(default_factory=dict)  # sent per channel


def deliver_due(
    engine: Engine,
    *,
    settings: NotifySettings,
    now: datetime | None = None,
    transports: Transports | None = None,
    rng: random.Random | None = None,
) -> DeliveryReport:
    """Send what is due now. Safe to run on a schedule and from several processes."""
    report = DeliveryReport()
    if not settings.enabled:
        return report
    now = (now or datetime.now(UTC)).astimezone(UTC)
    own = transports is None
    sender = transports or Transports(settings.smtp, timeout=settings.delivery.timeout_seconds)
    try:
        for name, rows in _claim_all(engine, settings, now, report):
            for row in rows:
                _deliver(
                    engine,
                    row,
                    settings.channels.get(name),
                    settings.delivery,
                    sender,
                    now,
                    rng or random.Random(),
                    report,
                )
    except SQLAlchemyError as exc:
        report.error = f"store unavailable ({type(exc).__name__})"
        log.warning("notify: delivery stopped: %s", report.error)
    except Exception as exc:  # noqa: BLE001 - never raise into the worker's loop
        report.error = f"unexpected {type(exc).__name__}"
        log.warning(
            "notify: delivery stopped: %s", report.error, exc_info=log.isEnabledFor(logging.DEBUG)
        )
    finally:
        if own:
            sender.close()
    if report.sent or report.retried or report.dead:
        log.info(
            "notify: sent %d, retry %d, dead %d, deferred %d",
            report.sent,
            report.retried,
            report.dead,
            report.deferred,
        )
    return report


def _claim_all(
    engine: Engine, settings: NotifySettings, now: datetime, report: DeliveryReport
) -> list[tuple[str, list[Claimed]]]:
    with engine.connect() as conn:
        due = due_counts(conn, now)
        used = recent_use(conn, now)
    lease = timedelta(seconds=settings.delivery.lease_seconds)
    out: list[tuple[str, list[Claimed]]] = []
    for name, count in sorted(due.items()):
        channel = settings.channels.get(name)
        budget = settings.delivery.batch_size
        if channel is not None:
            budget = min(budget, max(0, channel.rate_per_minute - used.get(name, 0)))
        report.deferred += max(0, count - budget)
        out.append((name, claim(engine, name, budget, now, lease)))
    return out


def _deliver(
    engine: Engine,
    row: Claimed,
    channel: Channel | None,
    policy: DeliveryPolicy,
    sender: Transports,
    now: datetime,
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    try:
        if channel is None:
            raise SendError(f"channel {row.channel!r} is no longer configured", permanent=True)
        _send(row, channel, sender, now)
    except SendError as exc:
        _failed(engine, row, exc, policy, now, rng, report)
        return
    except Exception as exc:  # noqa: BLE001 - a bad row must not stop the others
        _failed(
            engine, row, SendError(f"unexpected {type(exc).__name__}"), policy, now, rng, report
        )
        return
    if mark_sent(engine, row, now):
        report.sent += 1
        report.by_channel[row.channel] = report.by_channel.get(row.channel, 0) + 1
    else:
        report.lost_lease += 1


def _send(row: Claimed, channel: Channel, sender: Transports, now: datetime) -> None:
    send_payload(channel, row.payload, delivery_id=row.dedup_key, sender=sender, now=now)


def send_payload(
    channel: Channel, payload_json: str, *, delivery_id: str, sender: Transports, now: datetime
) -> None:
    """Send one rendered outbox payload on ``channel``; raises :class:`SendError`."""
    payload = json.loads(payload_json)
    if channel.kind == "email":
        sender.send_mail(
            payload["to"], payload["subject"], payload["text"], payload["html"], delivery_id
        )
        return
    assert channel.url is not None
    headers: dict[str, str] = {}
    if channel.kind == "webhook":
        payload = {"delivery_id": delivery_id, "timestamp": int(now.timestamp()), **payload}
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if channel.kind == "webhook":
        assert channel.secret is not None
        headers = {
            signing.SIGNATURE_HEADER: signing.sign(
                channel.secret.get_secret_value().encode(), body
            ),
            signing.TIMESTAMP_HEADER: str(payload["timestamp"]),
            signing.DELIVERY_HEADER: delivery_id,
        }
    sender.post(channel.url.get_secret_value(), body, headers)


def _failed(
    engine: Engine,
    row: Claimed,
    exc: SendError,
    policy: DeliveryPolicy,
    now: datetime,
    rng: random.Random,
    report: DeliveryReport,
) -> None:
    message = str(exc)
    if exc.permanent or row.attempts >= policy.max_attempts:
        if not exc.permanent:
            message = f"gave up after {row.attempts} attempts: {message}"
        settled = mark_dead(engine, row, message)
        report.dead += settled
        log.warning("notify: %s message %d on %s dead: %s", row.event, row.id, row.channel, message)
    else:
        at = now + timedelta(seconds=backoff_seconds(row.attempts, policy, rng, exc.retry_after))
        settled = mark_retry(engine, row, at, message)
        report.retried += settled
        log.info(
            "notify: %s message %d on %s failed (%s); retry at %s",
            row.event,
            row.id,
            row.channel,
            message,
            at.isoformat(timespec="seconds"),
        )
    report.lost_lease += not settled


def backoff_seconds(
    attempt: int, policy: DeliveryPolicy, rng: random.Random, retry_after: float | None = None
) -> float:
    """Delay before attempt ``attempt + 1``: exponential, capped, "equal jitter"."""
    if retry_after is not None:
        return min(retry_after, policy.max_backoff_seconds)
    ceiling = min(policy.max_backoff_seconds, policy.backoff_seconds * 2.0 ** max(0, attempt - 1))
    return ceiling * (0.5 + rng.random() / 2)
