"""The ``eventbus.v1.PubSub`` service over the org's :class:`.bus.EventBus`.

Salesforce behaviour emulated (Pub/Sub API guide: "Subscribe RPC Method", "Flow
Control", "Handle Errors", "Retry RPC Calls"; the proto's comments):

- every call carries ``accesstoken``, ``instanceurl`` and ``tenantid`` metadata; a bad
  session ends it with UNAUTHENTICATED and ``sfdc.platform.eventbus.grpc.service.auth.error``;
- errors put Salesforce's code in the ``error-code`` trailer and the call's id in
  ``rpc-id``, and end the message with ``rpcId: <id>``;
- the first FetchRequest names the topic and the replay start; later ones only add to
  ``num_requested`` (what the server still owes, capped at 100) and must not name
  another topic (INVALID_ARGUMENT);
- a replay id that is corrupted or past retention: INVALID_ARGUMENT with
  ``sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted``; CUSTOM without
  one: ``...fetch.replayid.validation.failed``;
- the server never sends more events than requested; while idle it sends an empty
  FetchResponse with the latest replay id every ``keepalive_s`` (Salesforce: within 270 s);
- over the rolling 24-hour delivery allocation the stream ends with
  ``sfdc.platform.eventbus.grpc.subscription.limit.exceeded`` ("You have exceeded the event
  delivery limit for your org."); the gRPC status, RESOURCE_EXHAUSTED, is our choice;
- change event channels are subscribe-only: publishing is refused.

The sandbox's own choices: an unknown topic is NOT_FOUND with
``sfdc.platform.eventbus.grpc.subscription.topic.notfound``; ``ManagedSubscribe`` is
not offered (UNIMPLEMENTED).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

import grpc

from devkit.sandbox.auth import Sessions
from devkit.sandbox.pubsub.bus import EventBus, ReplayIdError, StoredEvent
from worker.sfdc.pubsub import pubsub_api_pb2 as pb
from worker.sfdc.pubsub import pubsub_api_pb2_grpc as pb_grpc

TOPICS = ("/data/LeadChangeEvent", "/data/ChangeEvents")  # Lead is the one selected entity
MAX_REQUESTED = 100
CDC_META = "cdc_entities"  # the org's entities selected for Change Data Capture
ERR = "sfdc.platform.eventbus.grpc."
AUTH_ERROR = ERR + "service.auth.error"
REPLAY_CORRUPTED = ERR + "subscription.fetch.replayid.corrupted"
REPLAY_MISSING = ERR + "subscription.fetch.replayid.validation.failed"
REQUESTED_INVALID = ERR + "subscription.fetch.requested.events.invalid"
LIMIT_EXCEEDED = ERR + "subscription.limit.exceeded"
TOPIC_NOT_FOUND = ERR + "subscription.topic.notfound"
STREAM_DROPPED = ERR + "service.unavailable"
WAKE_S = 0.25  # how often an idle stream looks at cancellation


class PubSubService(pb_grpc.PubSubServicer):  # type: ignore[misc]
    def __init__(
        self, bus: EventBus, sessions: Sessions, instance_url: str, *, keepalive_s: float = 270.0
    ) -> None:
        self.bus = bus
        self.sessions = sessions
        self.instance_url = instance_url.rstrip("/")
        self.keepalive_s = keepalive_s
        self._lock = threading.Lock()
        self.subscriptions = 0  # Subscribe streams set up so far (their start is fixed)

    # --- unary ---------------------------------------------------------------------------
    def GetSchema(self, request: Any, context: grpc.ServicerContext) -> Any:
        rpc_id = self._authorised(context)
        schema = self.bus.schema
        if request.schema_id != schema.schema_id:
            _abort(context, grpc.StatusCode.NOT_FOUND, ERR + "schema.notfound",
                   f"no schema {request.schema_id!r}", rpc_id)  # fmt: skip
        return pb.SchemaInfo(
            schema_json=schema.schema_json, schema_id=schema.schema_id, rpc_id=rpc_id
        )

    def GetTopic(self, request: Any, context: grpc.ServicerContext) -> Any:
        rpc_id = self._authorised(context)
        self._topic(request.topic_name, context, rpc_id)
        return pb.TopicInfo(
            topic_name=request.topic_name, tenant_guid=self.bus.org.org_id, can_publish=False,
            can_subscribe=True, schema_id=self.bus.schema.schema_id, rpc_id=rpc_id,
        )  # fmt: skip

    def Publish(self, request: Any, context: grpc.ServicerContext) -> Any:
        rpc_id = self._authorised(context)
        self._topic(request.topic_name, context, rpc_id)
        _abort(context, grpc.StatusCode.PERMISSION_DENIED, ERR + "service.permission.denied",
               f"publishing to {request.topic_name} is not allowed", rpc_id)  # fmt: skip

    def PublishStream(self, request_iterator: Iterable[Any], context: grpc.ServicerContext) -> Any:
        rpc_id = self._authorised(context)
        for request in request_iterator:
            self.Publish(request, context)
        _abort(context, grpc.StatusCode.INVALID_ARGUMENT, ERR + "publish.empty",
               "no PublishRequest", rpc_id)  # fmt: skip

    # --- Subscribe -----------------------------------------------------------------------
    def Subscribe(
        self, request_iterator: Iterator[Any], context: grpc.ServicerContext
    ) -> Iterator[Any]:
        rpc_id = self._authorised(context)
        first = next(request_iterator, None)
        if first is None:
            return
        topic = first.topic_name
        self._topic(topic, context, rpc_id)
        if first.num_requested <= 0:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, REQUESTED_INVALID,
                   "num_requested must be positive", rpc_id)  # fmt: skip
        position = self._start(first, context, rpc_id)
        if self.bus.deliveries() >= self.bus.delivery_limit:
            self._over_limit(context, rpc_id)
        with self._lock:
            self.subscriptions += 1
        flow = _Flow(self.bus.changed, min(first.num_requested, MAX_REQUESTED))
        threading.Thread(
            target=flow.read, args=(request_iterator, topic), name="pubsub-fetch-requests",
            daemon=True,
        ).start()  # fmt: skip
        yield from self._deliver(flow, position, context, rpc_id)

    def _deliver(
        self, flow: _Flow, position: int, context: grpc.ServicerContext, rpc_id: str
    ) -> Iterator[Any]:
        last_sent = time.monotonic()
        while context.is_active():
            batch = self._next_batch(flow, position, last_sent)
            if flow.error:
                _abort(context, grpc.StatusCode.INVALID_ARGUMENT, ERR + "subscription.topic.mismatch",
                       flow.error, rpc_id)  # fmt: skip
            if batch:
                granted = self.bus.allowance(len(batch))
                if not granted:
                    self._over_limit(context, rpc_id)
                batch = batch[:granted]
                position = batch[-1].position
                pending = flow.take(len(batch))
                yield self._response(batch, position, pending, rpc_id)
                last_sent = time.monotonic()
                if self.bus.org.faults.hit("cdc_drop_stream"):
                    _abort(context, grpc.StatusCode.UNAVAILABLE, STREAM_DROPPED,
                           "the stream was dropped (sandbox fault injection)", rpc_id)  # fmt: skip
            elif time.monotonic() - last_sent >= self.keepalive_s:
                yield self._response([], position, flow.pending, rpc_id)
                last_sent = time.monotonic()

    def _next_batch(self, flow: _Flow, position: int, last_sent: float) -> list[StoredEvent]:
        """Events to send now, else wait a moment (for a publish, a top-up, the next
        event's delivery time or the keepalive) and look once more."""
        with self.bus.changed:
            if flow.error:
                return []
            if flow.pending and (batch := self.bus.after(position, flow.pending)):
                return batch
            wait = min(self.keepalive_s - (time.monotonic() - last_sent), WAKE_S)
            upcoming = self.bus.next_visible_in(position) if flow.pending else None
            if upcoming is not None:
                wait = min(wait, max(upcoming, 0.001))
            if wait > 0:
                self.bus.changed.wait(wait)
            return self.bus.after(position, flow.pending) if flow.pending else []

    def _response(self, batch: list[StoredEvent], position: int, pending: int, rpc_id: str) -> Any:
        events = [
            pb.ConsumerEvent(
                event=pb.ProducerEvent(id=e.event_id, schema_id=e.schema_id, payload=e.payload),
                replay_id=e.replay_id,
            )
            for e in batch
        ]
        return pb.FetchResponse(
            events=events, latest_replay_id=self.bus.replay_id(position), rpc_id=rpc_id,
            pending_num_requested=pending,
        )  # fmt: skip

    def _start(self, first: Any, context: grpc.ServicerContext, rpc_id: str) -> int:
        preset = pb.ReplayPreset.Name(first.replay_preset)
        if preset == "CUSTOM" and not first.replay_id:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_MISSING,
                   "a CUSTOM replay needs a replay_id", rpc_id)  # fmt: skip
        try:
            return self.bus.start_after(preset, bytes(first.replay_id))
        except ReplayIdError as exc:
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, REPLAY_CORRUPTED,
                   f"The Replay ID validation failed: {exc}", rpc_id)  # fmt: skip

    def _over_limit(self, context: grpc.ServicerContext, rpc_id: str) -> NoReturn:
        _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, LIMIT_EXCEEDED,
               "You have exceeded the event delivery limit for your org.", rpc_id)  # fmt: skip

    # --- auth and topics -----------------------------------------------------------------
    def _authorised(self, context: grpc.ServicerContext) -> str:
        """The call's rpc id, once its auth metadata names a live session of this org."""
        rpc_id = str(uuid.uuid4())
        meta = {k.lower(): v for k, v in context.invocation_metadata()}
        token = str(meta.get("accesstoken", ""))
        tenant = str(meta.get("tenantid", ""))
        instance = str(meta.get("instanceurl", "")).rstrip("/")
        org_id = self.bus.org.org_id
        valid = (
            bool(token)
            and self.sessions.user_for(token) is not None
            and instance == self.instance_url
            and len(tenant) in (15, 18)
            and tenant[:15] == org_id[:15]
        )
        if not valid:
            _abort(context, grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR,
                   "auth error: missing, invalid or expired session, instance or org", rpc_id)  # fmt: skip
        return rpc_id

    def _topic(self, name: str, context: grpc.ServicerContext, rpc_id: str) -> None:
        """A topic of an entity selected for Change Data Capture (Setup; here the org's
        ``cdc_entities``, Lead unless the admin operation ``set_cdc`` says otherwise)."""
        selected = self.bus.org.store.meta.get(CDC_META, ["Lead"])
        # the standard channel /data/ChangeEvents is always there (empty with nothing selected)
        topics = TOPICS if "Lead" in selected else TOPICS[1:]
        if name not in topics:
            _abort(context, grpc.StatusCode.NOT_FOUND, TOPIC_NOT_FOUND,
                   f"topic {name!r} not found (selected: {', '.join(topics)})", rpc_id)  # fmt: skip


@dataclass
class _Flow:
    """What the client still wants: FetchRequests after the first add to it. A client
    that stops sending (half-closes) gets what it asked for until it leaves."""

    changed: threading.Condition
    pending: int
    closed: bool = False
    error: str | None = None

    def read(self, requests: Iterator[Any], topic: str) -> None:
        try:
            for request in requests:
                with self.changed:
                    if request.topic_name and request.topic_name != topic:
                        self.error = f"topic {request.topic_name!r} is not this stream's {topic!r}"
                    self.pending = min(self.pending + max(0, request.num_requested), MAX_REQUESTED)
                    self.changed.notify_all()
        except grpc.RpcError:
            pass  # the call ended
        finally:
            with self.changed:
                self.closed = True
                self.changed.notify_all()

    def take(self, count: int) -> int:
        with self.changed:
            self.pending -= count
            return self.pending


def _abort(
    context: grpc.ServicerContext, code: grpc.StatusCode, error_code: str, message: str, rpc_id: str
) -> NoReturn:
    context.set_trailing_metadata((("error-code", error_code), ("rpc-id", rpc_id)))
    context.abort(code, f"{message} rpcId: {rpc_id}")
    raise AssertionError("unreachable: abort raises")
