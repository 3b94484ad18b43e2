"""The change event subscriber: one Subscribe stream at a time, kept alive.

What it does, in order of the Pub/Sub API guide ("Subscribe RPC Method", "Flow
Control", "Handle Errors", "Retry RPC Calls"):

- every call carries ``accesstoken``, ``instanceurl`` and ``tenantid`` (:class:`Auth`);
  an UNAUTHENTICATED answer gets a new token once, then the usual back-off;
- the first ``FetchRequest`` asks for ``num_requested`` (at most 100) events; as events
  arrive, as many more are asked for (never more than 100 outstanding);
- events are decoded (schemas by ``GetSchema``, cached by schema id) and gathered into
  micro-batches: a batch is handed over ``window`` seconds after its first event or at
  ``max_batch`` events, whichever comes first, and the batch's last replay id with it;
  the handler journals the batch's decisions and only then stores that id;
- a keepalive (an empty ``FetchResponse``) hands over what is gathered, then its
  ``latest_replay_id`` is checkpointed (nothing of ours is behind it);
- a stream that ends or fails is opened again after the last replay id the handler
  committed (``CUSTOM``), after a capped, jittered back-off (``sleep`` and ``rng`` are
  ports, as in :mod:`worker.sfdc.retry`);
- a stored replay id that the server refuses (corrupted, or past the 72-hour retention)
  resubscribes from ``EARLIEST``, and the handler is asked for a catch-up (a SOQL sweep:
  events between the stored id and the earliest retained one are gone); if ``EARLIEST``
  is refused too, ``LATEST`` and a catch-up.

The subscriber knows nothing of routing or the store: :class:`Handler` does.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from random import Random
from typing import Any, Protocol

import grpc

from worker.sfdc.connection import CLIENT_ID
from worker.sfdc.pubsub import pubsub_api_pb2 as pb
from worker.sfdc.pubsub.events import (
    ChangeHeader,
    EventSchema,
    SchemaCache,
    change_header,
    decode_payload,
)

log = logging.getLogger("leadrouter.subscriber")

MAX_REQUESTED = 100  # the server owes at most this many events at once
ERR = "sfdc.platform.eventbus.grpc."
REPLAY_REFUSED = (
    ERR + "subscription.fetch.replayid.corrupted",
    ERR + "subscription.fetch.replayid.validation.failed",
)
LIMIT_EXCEEDED = ERR + "subscription.limit.exceeded"
Preset = pb.ReplayPreset  # EARLIEST, LATEST or CUSTOM


@dataclass(frozen=True)
class ChangeEvent:
    """A delivered change event: its replay id, decoded header and field values, and the
    schema they were written with (which fields the event can carry at all)."""

    replay_id: bytes
    header: ChangeHeader
    fields: dict[str, Any]
    schema: EventSchema | None = None

    @property
    def ours(self) -> bool:
        """Caused by our own write (``Sforce-Call-Options: client=leadrouter``)."""
        return f"client={CLIENT_ID}" in self.header.change_origin


class Handler(Protocol):
    def resume_from(self) -> bytes | None:
        """The stored replay id (None: never subscribed)."""

    def handle(self, events: Sequence[ChangeEvent], replay_id: bytes) -> None:
        """Route what ``events`` call for, journal it, then store ``replay_id``."""

    def checkpoint(self, replay_id: bytes) -> None:
        """Store ``replay_id`` (a keepalive's: nothing undecided is behind it)."""

    def catch_up(self, reason: str) -> None:
        """Events may have been missed: read what they would have said (SOQL)."""

    def tick(self) -> None:
        """Called often (at least every ``poll`` seconds) on the subscriber's thread."""

    def arrived(self, events: Sequence[ChangeEvent]) -> None:
        """``events`` were delivered: called on the stream's reader thread as they come,
        while the subscriber's thread may still be handling an earlier batch, so work
        that does not need the batch (a lookup) can start. Must not block."""

    def drain(self) -> None:
        """The stream has ended: finish what the batches handed over are still doing
        (their writes' outcomes journaled) before the subscriber backs off."""


class Auth(Protocol):
    def metadata(self) -> tuple[tuple[str, str], ...]:
        """``accesstoken``, ``instanceurl`` and ``tenantid``."""

    def refresh(self) -> None:
        """The session was refused: get a new one."""


class Stub(Protocol):  # eventbus.v1.PubSub, as far as the subscriber uses it
    def Subscribe(self, requests: Iterator[Any], *, metadata: Any) -> Any: ...  # noqa: N802
    def GetSchema(self, request: Any, *, metadata: Any) -> Any: ...  # noqa: N802


@dataclass(frozen=True)
class Failure:
    """How a stream ended badly: the gRPC status and Salesforce's ``error-code``."""

    code: grpc.StatusCode | None
    error_code: str
    details: str

    @classmethod
    def of(cls, exc: BaseException) -> Failure:
        if isinstance(exc, grpc.RpcError):
            code = exc.code() if hasattr(exc, "code") else None
            details = exc.details() if hasattr(exc, "details") else str(exc)
            trailers: Any = getattr(exc, "trailing_metadata", lambda: None)()
            error_code = next((v for k, v in trailers or () if k == "error-code"), "")
            return cls(code, str(error_code), str(details or ""))
        return cls(None, type(exc).__name__, str(exc))


class _Ended:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error


@dataclass(frozen=True)
class _Delivered:
    """One response, decoded on the reader thread (no events: a keepalive)."""

    events: list[ChangeEvent]
    latest_replay_id: bytes


class Subscriber:
    """Subscribe to ``topic`` until ``stop`` is set (see the module docstring)."""

    def __init__(
        self,
        stub: Stub,
        auth: Auth,
        handler: Handler,
        *,
        topic: str = "/data/LeadChangeEvent",
        window: float = 0.2,
        max_batch: int = 200,
        num_requested: int = MAX_REQUESTED,
        poll: float = 0.25,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], object] = time.sleep,
        rng: Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < num_requested <= MAX_REQUESTED:
            raise ValueError(f"num_requested must be 1..{MAX_REQUESTED}, got {num_requested}")
        self.stub, self.auth, self.handler, self.topic = stub, auth, handler, topic
        self.window, self.max_batch, self.num_requested = window, max_batch, num_requested
        self.poll = poll
        self.initial_backoff, self.max_backoff = initial_backoff, max_backoff
        self.sleep, self.monotonic = sleep, monotonic
        self.rng = rng or Random()  # noqa: S311 (jitter, not a secret)
        self.schemas = SchemaCache(self._schema_json)
        self.committed: bytes | None = None  # the last replay id the handler stored
        self.streams = 0  # Subscribe calls made (for tests and logs)
        self.failures = 0  # consecutive failed streams (the back-off's exponent)
        self._call: Any = None

    # --- the loop ----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        self.committed = self.handler.resume_from()
        preset: Preset = pb.ReplayPreset.CUSTOM if self.committed else pb.ReplayPreset.LATEST
        if self.committed is None:
            self.handler.catch_up("first subscription: starting from the latest event")
        refreshed = False
        while not stop.is_set():
            before = self.committed
            failure = self._stream(preset, stop)
            if stop.is_set():
                return
            self.handler.drain()  # no batches, no ticks while backed off: journal now
            delivered = self.committed != before
            if failure is None or delivered:
                self.failures, refreshed = 0, False
            if failure is None:
                log.info("change event stream ended; subscribing again")
                if not delivered:  # ended at once: do not spin
                    self.failures += 1
                    self.sleep(self.backoff_seconds())
            elif failure.code == grpc.StatusCode.UNAUTHENTICATED and not refreshed:
                log.warning("Pub/Sub session refused (%s): new token", failure.error_code)
                refreshed = True
                try:
                    self.auth.refresh()
                    continue  # at once: a new session is all it needs
                except Exception as exc:  # noqa: BLE001 - no token now: back off, try again
                    refreshed = False
                    self.failures += 1
                    self._back_off(Failure.of(exc))
            elif failure.error_code in REPLAY_REFUSED and preset != pb.ReplayPreset.LATEST:
                preset = self._replay_refused(preset, failure)
                continue
            else:
                self.failures += 1
                self._back_off(failure)
            if self.committed is not None:
                preset = pb.ReplayPreset.CUSTOM
            elif preset == pb.ReplayPreset.LATEST:
                # nothing stored yet: what happened while the stream was down is not replayed
                self.handler.catch_up("stream restarted before any event was stored")

    def _replay_refused(self, preset: Preset, failure: Failure) -> Preset:
        if preset == pb.ReplayPreset.CUSTOM:
            log.warning("stored replay id refused (%s): from the earliest retained event, "
                        "and a catch-up by SOQL", failure.error_code)  # fmt: skip
            self.committed = None
            self.handler.catch_up("stored replay id refused")
            return pb.ReplayPreset.EARLIEST
        log.warning("earliest replay refused (%s): from the latest event, and a catch-up",
                    failure.error_code)  # fmt: skip
        self.handler.catch_up("earliest replay refused")
        return pb.ReplayPreset.LATEST

    def backoff_seconds(self) -> float:
        """The pause before the next stream: doubling from ``initial_backoff`` with up to
        as much again of jitter, at most ``max_backoff``."""
        doublings = min(max(self.failures - 1, 0), 30)
        pause = self.initial_backoff * 2.0**doublings
        return min(pause + self.rng.uniform(0, pause), self.max_backoff)

    def _back_off(self, failure: Failure) -> None:
        pause = self.backoff_seconds()
        if failure.error_code == LIMIT_EXCEEDED:
            pause = self.max_backoff  # the allocation is spent: the sweep polls meanwhile
            self.handler.catch_up("event delivery allocation exceeded")
        log.warning("change event stream failed (%s %s: %s); again in %.1fs",
                    failure.code.name if failure.code else "", failure.error_code,
                    failure.details[:200], pause)  # fmt: skip
        self.sleep(pause)

    # --- one stream --------------------------------------------------------------------
    def _stream(self, preset: Preset, stop: threading.Event) -> Failure | None:
        """One Subscribe call, until it ends (None: ended without an error)."""
        requests: queue.Queue[Any] = queue.Queue()
        responses: queue.Queue[Any] = queue.Queue()
        requests.put(
            pb.FetchRequest(
                topic_name=self.topic,
                replay_preset=preset,
                replay_id=self.committed if preset == pb.ReplayPreset.CUSTOM else b"",
                num_requested=self.num_requested,
            )
        )
        self.streams += 1
        try:
            call = self.stub.Subscribe(iter(requests.get, None), metadata=self.auth.metadata())
        except Exception as exc:  # noqa: BLE001 - e.g. no session: a failure like any other
            requests.put(None)
            return Failure.of(exc)
        self._call = call
        reader = threading.Thread(target=self._read, args=(call, responses), daemon=True,
                                  name="pubsub-read")  # fmt: skip
        reader.start()
        try:
            return self._consume(requests, responses, stop)
        except Exception as exc:  # noqa: BLE001 - a batch that failed is retried from the stored id
            log.exception("change event batch failed")
            return Failure.of(exc)
        finally:
            requests.put(None)
            _cancel(call)
            self._call = None

    def _consume(
        self, requests: queue.Queue[Any], responses: queue.Queue[Any], stop: threading.Event
    ) -> Failure | None:
        batch: list[ChangeEvent] = []
        started = 0.0
        while not stop.is_set():
            wait = self.poll if not batch else max(0.0, started + self.window - self.monotonic())
            try:
                item = responses.get(timeout=min(wait, self.poll))
            except queue.Empty:
                item = None
            if isinstance(item, _Ended):
                self._flush(batch)
                return None if item.error is None else Failure.of(item.error)
            if item is not None:
                events = item.events
                if events:
                    requests.put(pb.FetchRequest(num_requested=len(events)))  # top up
                    if not batch:
                        started = self.monotonic()
                    batch.extend(events)
                else:  # a keepalive: hand over what is gathered, then checkpoint
                    self._flush(batch)
                    latest = item.latest_replay_id
                    if latest and latest != self.committed:
                        self.handler.checkpoint(latest)
                        self.committed = latest
            if batch and (len(batch) >= self.max_batch or
                          self.monotonic() - started >= self.window):  # fmt: skip
                self._flush(batch)
            self.handler.tick()
        self._flush(batch)  # stopping: what arrived is routed, its replay id stored
        return None

    def _flush(self, batch: list[ChangeEvent]) -> None:
        while batch:
            now, rest = batch[: self.max_batch], batch[self.max_batch :]
            self.handler.handle(now, now[-1].replay_id)
            self.committed = now[-1].replay_id
            batch[:] = rest

    def _decode(self, consumer_event: Any) -> ChangeEvent:
        event = consumer_event.event
        schema = self.schemas.get(event.schema_id)
        record = decode_payload(schema, event.payload)
        header = change_header(schema, record)
        fields = {k: v for k, v in record.items() if k != "ChangeEventHeader"}
        return ChangeEvent(bytes(consumer_event.replay_id), header, fields, schema)

    def _schema_json(self, schema_id: str) -> str:
        info = self.stub.GetSchema(pb.SchemaRequest(schema_id=schema_id),
                                   metadata=self.auth.metadata())  # fmt: skip
        return str(info.schema_json)

    def _read(self, call: Any, responses: queue.Queue[Any]) -> None:
        """The stream's reader thread: each response decoded (a GetSchema refused, or an
        event that cannot be decoded, ends the stream as its failure), told to the
        handler as it arrives, then queued for the subscriber's thread."""
        try:
            for response in call:
                events = self._decoded(response)
                if events:
                    self._arrived(events)
                responses.put(_Delivered(events, bytes(response.latest_replay_id)))
        except Exception as exc:  # noqa: BLE001 - handed to the consuming thread
            responses.put(_Ended(exc))
            return
        responses.put(_Ended(None))

    def _decoded(self, response: Any) -> list[ChangeEvent]:
        try:
            return [self._decode(e) for e in response.events]
        except grpc.RpcError:  # GetSchema refused: the stream's failure, said by the back-off
            raise
        except Exception:
            log.exception("a change event could not be decoded")
            raise

    def _arrived(self, events: list[ChangeEvent]) -> None:
        try:
            self.handler.arrived(events)
        except Exception:  # noqa: BLE001 - a hint only: the batch does the work anyway
            log.debug("the handler's arrival hint failed", exc_info=True)


def _cancel(call: Any) -> None:
    cancel = getattr(call, "cancel", None)
    if cancel is not None:
        cancel()


class ConnectionAuth:
    """Call metadata from a :class:`worker.sfdc.connection.SalesforceConnection`: its
    current token, instance URL, and the org id (``tenant``, else the token's)."""

    def __init__(self, connection: Any, tenant: str | None = None) -> None:
        self.connection = connection
        self.tenant = tenant
        self._token = ""

    def metadata(self) -> tuple[tuple[str, str], ...]:
        self._token = self.connection.session_id()
        tenant = self.tenant or self.connection.org_id
        if not tenant:
            raise ValueError("no org id for the Pub/Sub tenantid: set LEADROUTER_SF_ORG_ID")
        return (
            ("accesstoken", self._token),
            ("instanceurl", self.connection.instance_url),
            ("tenantid", tenant),
        )

    def refresh(self) -> None:
        self.connection.refresh_session(self._token)


@dataclass
class Endpoint:
    """A Pub/Sub API stub on its own channel, with the auth its calls carry."""

    stub: Stub
    auth: Auth
    channel: grpc.Channel

    def close(self) -> None:
        self.channel.close()


def connect(endpoint: str, auth: Auth, ca_bundle: bytes | None = None) -> Endpoint:
    """A TLS channel to the Pub/Sub API at ``endpoint`` (``host:port``); ``ca_bundle``:
    the root certificates to trust (None: the system's)."""
    from worker.sfdc.pubsub.pubsub_api_pb2_grpc import PubSubStub

    credentials = grpc.ssl_channel_credentials(root_certificates=ca_bundle)
    channel = grpc.secure_channel(endpoint, credentials)
    return Endpoint(PubSubStub(channel), auth, channel)  # type: ignore[no-untyped-call]
