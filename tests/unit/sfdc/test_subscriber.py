"""The subscriber's state machine against a scripted fake of the Pub/Sub API: batches
and their replay ids, flow control, keepalives, token refresh, back-off, refused replay
ids. Nothing sleeps: ``sleep`` is recorded, and each stream is a script."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator, Sequence
from random import Random
from typing import Any

import fastavro
import grpc
import pytest

from worker.sfdc.pubsub import pubsub_api_pb2 as pb
from worker.sfdc.pubsub.subscriber import (
    LIMIT_EXCEEDED,
    MAX_REQUESTED,
    REPLAY_REFUSED,
    ChangeEvent,
    Subscriber,
)

HEADER = {
    "type": "record",
    "name": "ChangeEventHeader",
    "fields": [
        {"name": "entityName", "type": "string"},
        {"name": "recordIds", "type": {"type": "array", "items": "string"}},
        {"name": "changeType", "type": "string"},
        {"name": "changeOrigin", "type": "string"},
        {"name": "transactionKey", "type": "string"},
        {"name": "sequenceNumber", "type": "int"},
        {"name": "commitTimestamp", "type": "long"},
        {"name": "commitNumber", "type": "long"},
        {"name": "commitUser", "type": "string"},
        {"name": "nulledFields", "type": {"type": "array", "items": "string"}},
        {"name": "diffFields", "type": {"type": "array", "items": "string"}},
        {"name": "changedFields", "type": {"type": "array", "items": "string"}},
    ],
}  # fmt: skip
SCHEMA = {
    "type": "record",
    "name": "LeadChangeEvent",
    "fields": [
        {"name": "ChangeEventHeader", "type": HEADER},
        {"name": "OwnerId", "type": ["null", "string"], "default": None},
    ],
}
SCHEMA_ID = "schema-1"
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def event(n: int, origin: str = "com/salesforce/api/rest/62.0") -> Any:
    header = {
        "entityName": "Lead", "recordIds": [f"00Q{n:015d}"], "changeType": "CREATE",
        "changeOrigin": origin, "transactionKey": f"t{n}", "sequenceNumber": 1,
        "commitTimestamp": 0, "commitNumber": n, "commitUser": "005", "nulledFields": [],
        "diffFields": [], "changedFields": [],
    }  # fmt: skip
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, fastavro.parse_schema(SCHEMA),
                               {"ChangeEventHeader": header, "OwnerId": "00G1"})  # fmt: skip
    return pb.ConsumerEvent(
        event=pb.ProducerEvent(id=str(n), schema_id=SCHEMA_ID, payload=buffer.getvalue()),
        replay_id=rid(n),
    )


def rid(n: int) -> bytes:
    return n.to_bytes(8, "big")


def batch(*ns: int) -> Any:
    return pb.FetchResponse(events=[event(n) for n in ns], latest_replay_id=rid(ns[-1]))


def keepalive(n: int) -> Any:
    return pb.FetchResponse(latest_replay_id=rid(n))


class RpcFailure(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, error_code: str = "") -> None:
        super().__init__(f"{code.name} {error_code}")
        self._code, self._error_code = code, error_code

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return f"{self._error_code} rpcId: 1"

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("error-code", self._error_code),)


class FakeCall:
    def __init__(self, script: Sequence[Any], requests: Iterator[Any]) -> None:
        self.first = next(requests)
        self.more: list[Any] = []
        self.script = script
        self.cancelled = False
        self.drainer = threading.Thread(target=self._drain, args=(requests,), daemon=True)
        self.drainer.start()

    def top_ups(self) -> list[int]:
        """``num_requested`` of the later requests (all in: the stream has ended)."""
        self.drainer.join(5)
        return [r.num_requested for r in self.more]

    def _drain(self, requests: Iterator[Any]) -> None:
        for request in requests:
            self.more.append(request)

    def __iter__(self) -> Iterator[Any]:
        for item in self.script:
            if isinstance(item, BaseException):
                raise item
            yield item

    def cancel(self) -> None:
        self.cancelled = True


class FakeStub:
    """Each Subscribe call plays the next script; when none is left, the test is over."""

    def __init__(self, scripts: list[list[Any]], stop: threading.Event) -> None:
        self.scripts = scripts
        self.stop = stop
        self.calls: list[FakeCall] = []
        self.schema_calls = 0
        self.metadata: list[Any] = []

    def Subscribe(self, requests: Iterator[Any], *, metadata: Any) -> Any:  # noqa: N802
        self.metadata.append(metadata)
        if not self.scripts:
            self.stop.set()
            return FakeCall([], requests)
        call = FakeCall(self.scripts.pop(0), requests)
        self.calls.append(call)
        return call

    def GetSchema(self, request: Any, *, metadata: Any) -> Any:  # noqa: N802
        self.schema_calls += 1
        assert request.schema_id == SCHEMA_ID
        return pb.SchemaInfo(schema_json=json.dumps(SCHEMA), schema_id=SCHEMA_ID)


class FakeAuth:
    def __init__(self) -> None:
        self.token = 1
        self.refreshes = 0

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (
            ("accesstoken", f"t{self.token}"),
            ("instanceurl", "https://x"),
            ("tenantid", "00D"),
        )

    def refresh(self) -> None:
        self.refreshes += 1
        self.token += 1


class FakeHandler:
    def __init__(self, stored: bytes | None = None, fail_on: int | None = None) -> None:
        self.stored = stored
        self.batches: list[list[str]] = []
        self.catch_ups: list[str] = []
        self.fail_on = fail_on  # the n-th batch (1-based) raises once
        self.drains = 0
        self.arrivals: list[list[str]] = []

    def resume_from(self) -> bytes | None:
        return self.stored

    def handle(self, events: Sequence[ChangeEvent], replay_id: bytes) -> None:
        if self.fail_on == len(self.batches) + 1:
            self.fail_on = None
            raise RuntimeError("store unavailable")
        assert replay_id == events[-1].replay_id
        self.batches.append([e.header.record_ids[0][-2:] for e in events])
        self.stored = replay_id

    def checkpoint(self, replay_id: bytes) -> None:
        self.stored = replay_id

    def catch_up(self, reason: str) -> None:
        self.catch_ups.append(reason)

    def tick(self) -> None:
        pass

    def drain(self) -> None:
        self.drains += 1

    def arrived(self, events: Sequence[ChangeEvent]) -> None:
        self.arrivals.append([e.header.record_ids[0][-2:] for e in events])


def run(scripts: list[list[Any]], handler: FakeHandler, **opts: Any) -> tuple[FakeStub, Subscriber, list[float], FakeAuth]:  # fmt: skip
    stop = threading.Event()
    stub = FakeStub(scripts, stop)
    sleeps: list[float] = []
    auth = FakeAuth()
    opts = {"window": 0.0, "rng": Random(1), "sleep": sleeps.append, **opts}
    subscriber = Subscriber(stub, auth, handler, **opts)
    worker = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the subscriber did not stop"
    return stub, subscriber, sleeps, auth


def test_events_are_handed_over_with_their_last_replay_id_and_topped_up() -> None:
    handler = FakeHandler(stored=rid(0))
    stub, sub, sleeps, _ = run([[batch(1, 2, 3), batch(4)]], handler)
    first = stub.calls[0].first
    assert first.replay_preset == pb.ReplayPreset.CUSTOM and first.replay_id == rid(0)
    assert first.num_requested == MAX_REQUESTED
    assert stub.calls[0].top_ups() == [3, 1]  # as many as arrived
    assert [e for b in handler.batches for e in b] == ["01", "02", "03", "04"]
    assert handler.stored == rid(4) and sub.committed == rid(4)
    assert stub.schema_calls == 1  # cached by schema id
    # the stream ended cleanly after delivering: subscribed again at once, after rid(4)
    assert stub.calls[0].cancelled
    assert sleeps == []


def test_a_window_gathers_several_responses_into_one_batch_cut_at_max_batch() -> None:
    handler = FakeHandler(stored=rid(0))
    run([[batch(1, 2), batch(3, 4, 5)]], handler, window=3600.0, max_batch=4,
        monotonic=lambda: 0.0)  # fmt: skip
    assert handler.batches == [["01", "02", "03", "04"], ["05"]]


def test_a_keepalive_hands_over_what_is_gathered_then_checkpoints() -> None:
    handler = FakeHandler(stored=rid(0))
    run([[batch(1), keepalive(9)]], handler, window=3600.0, monotonic=lambda: 0.0)
    assert handler.batches == [["01"]]
    assert handler.stored == rid(9)


def test_a_dropped_stream_resumes_after_the_last_stored_id_with_capped_backoff() -> None:
    handler = FakeHandler(stored=rid(0))
    drop = RpcFailure(UNAVAILABLE, "sfdc.platform.eventbus.grpc.service.unavailable")
    scripts = [[batch(1), drop], [drop], [drop], [drop], [drop], [drop], [drop], [batch(2)]]
    stub, _, sleeps, _ = run(scripts, handler, initial_backoff=1.0, max_backoff=10.0)
    assert [c.first.replay_id for c in stub.calls] == [rid(0)] + [rid(1)] * 7
    assert all(c.first.replay_preset == pb.ReplayPreset.CUSTOM for c in stub.calls)
    # 1 s (+ up to as much of jitter), doubling at each failure in a row, up to the cap
    assert 1.0 <= sleeps[0] <= 2.0 and 2.0 <= sleeps[1] <= 4.0 and 4.0 <= sleeps[2] <= 8.0
    assert max(sleeps) == 10.0 and sleeps[-1] == 10.0
    assert [e for b in handler.batches for e in b] == ["01", "02"]


def test_a_stream_that_ends_drains_the_handler_before_backing_off() -> None:
    """Writes handed over by the last batches are journaled when the stream goes down, not
    after the back-off (no batch or tick would collect them meanwhile)."""
    handler = FakeHandler(stored=rid(0))
    drains_at_sleep: list[int] = []
    drop = RpcFailure(UNAVAILABLE, "sfdc.platform.eventbus.grpc.service.unavailable")
    run([[batch(1), drop], [drop], [batch(2)]], handler,
        sleep=lambda s: drains_at_sleep.append(handler.drains))  # fmt: skip
    assert drains_at_sleep == [1, 2]  # each pause comes after its stream's drain
    assert handler.drains == 3  # and the last stream's end (stopped by the script)


def test_deliveries_are_told_to_the_handler_as_they_arrive_even_mid_batch() -> None:
    """The reader thread tells the handler of each delivery (to start its lookups) while
    the subscriber's thread is still handling the batch before it."""

    class Busy(FakeHandler):
        seen_mid_batch = False

        def handle(self, events: Sequence[ChangeEvent], replay_id: bytes) -> None:
            if not self.batches:  # the first batch: held until the second has arrived
                deadline = time.monotonic() + 5
                while ["02"] not in self.arrivals and time.monotonic() < deadline:
                    time.sleep(0.01)
                self.seen_mid_batch = ["02"] in self.arrivals
            super().handle(events, replay_id)

    handler = Busy(stored=rid(0))
    run([[batch(1), batch(2), keepalive(2)]], handler)
    assert handler.seen_mid_batch
    assert handler.arrivals == [["01"], ["02"]]  # a keepalive is no delivery
    assert handler.batches == [["01"], ["02"]]


def test_an_event_that_cannot_be_decoded_ends_the_stream_after_what_came_before() -> None:
    handler = FakeHandler(stored=rid(0))
    broken = pb.FetchResponse(
        events=[pb.ConsumerEvent(event=pb.ProducerEvent(id="x", schema_id=SCHEMA_ID,
                                                        payload=b"\xff"), replay_id=rid(2))],
        latest_replay_id=rid(2),
    )  # fmt: skip
    stub, _, sleeps, _ = run([[batch(1), broken], [batch(2)]], handler)
    assert handler.batches == [["01"], ["02"]] and len(sleeps) == 1
    assert [c.first.replay_id for c in stub.calls] == [rid(0), rid(1)]


def test_an_expired_session_gets_a_new_token_once_then_backs_off() -> None:
    handler = FakeHandler(stored=rid(0))
    refused = RpcFailure(
        grpc.StatusCode.UNAUTHENTICATED, "sfdc.platform.eventbus.grpc.service.auth.error"
    )
    stub, _, sleeps, auth = run([[refused], [refused], [batch(1)]], handler)
    assert auth.refreshes == 1
    assert [dict(m)["accesstoken"] for m in stub.metadata[:3]] == ["t1", "t2", "t2"]
    assert len(sleeps) == 1  # the refresh was tried at once; the second refusal waited
    assert handler.batches == [["01"]]


def test_a_refused_replay_id_goes_to_earliest_then_latest_with_catch_ups() -> None:
    handler = FakeHandler(stored=b"garbage")
    refused = RpcFailure(grpc.StatusCode.INVALID_ARGUMENT, REPLAY_REFUSED[0])
    stub, _, sleeps, _ = run([[refused], [refused], [batch(1)]], handler)
    presets = [c.first.replay_preset for c in stub.calls]
    assert presets == [pb.ReplayPreset.CUSTOM, pb.ReplayPreset.EARLIEST, pb.ReplayPreset.LATEST]
    assert handler.catch_ups == ["stored replay id refused", "earliest replay refused"]
    assert sleeps == []
    assert handler.stored == rid(1)


def test_no_stored_id_starts_at_the_latest_event_after_a_catch_up() -> None:
    handler = FakeHandler()
    stub, _, _, _ = run([[batch(1)], [batch(2)]], handler)
    assert stub.calls[0].first.replay_preset == pb.ReplayPreset.LATEST
    assert stub.calls[1].first.replay_preset == pb.ReplayPreset.CUSTOM
    assert stub.calls[1].first.replay_id == rid(1)
    assert handler.catch_ups == ["first subscription: starting from the latest event"]


def test_a_batch_that_fails_is_delivered_again_from_the_stored_id() -> None:
    handler = FakeHandler(stored=rid(0), fail_on=1)
    stub, _, sleeps, _ = run([[batch(1, 2)], [batch(1, 2)]], handler)
    assert stub.calls[1].first.replay_id == rid(0)  # not advanced past the failed batch
    assert handler.batches == [["01", "02"]] and handler.stored == rid(2)
    assert len(sleeps) == 1


def test_the_delivery_allocation_spent_waits_the_longest_and_asks_for_a_sweep() -> None:
    handler = FakeHandler(stored=rid(0))
    spent = RpcFailure(grpc.StatusCode.RESOURCE_EXHAUSTED, LIMIT_EXCEEDED)
    _, _, sleeps, _ = run([[spent], [batch(1)]], handler, max_backoff=30.0)
    assert sleeps == [30.0]
    assert handler.catch_ups == ["event delivery allocation exceeded"]


def test_our_own_writes_are_recognised_by_change_origin() -> None:
    handler = FakeHandler(stored=rid(0))
    seen: list[bool] = []
    original = handler.handle

    def spy(events: Sequence[ChangeEvent], replay_id: bytes) -> None:
        seen.extend(e.ours for e in events)
        original(events, replay_id)

    handler.handle = spy  # type: ignore[method-assign]
    ours = pb.FetchResponse(
        events=[event(1), event(2, "com/salesforce/api/rest/62.0;client=leadrouter")],
        latest_replay_id=rid(2),
    )
    run([[ours]], handler)
    assert seen == [False, True]


def test_num_requested_is_bounded() -> None:
    with pytest.raises(ValueError, match="num_requested"):
        Subscriber(FakeStub([], threading.Event()), FakeAuth(), FakeHandler(), num_requested=101)


def test_a_token_that_cannot_be_had_backs_off_instead_of_stopping() -> None:
    handler = FakeHandler(stored=rid(0))
    refused = RpcFailure(
        grpc.StatusCode.UNAUTHENTICATED, "sfdc.platform.eventbus.grpc.service.auth.error"
    )

    class NoToken(FakeAuth):
        def refresh(self) -> None:
            self.refreshes += 1
            if self.refreshes == 1:
                raise ConnectionError("token URL unreachable")
            self.token += 1

    stop = threading.Event()
    stub = FakeStub([[refused], [refused], [batch(1)]], stop)
    sleeps: list[float] = []
    auth = NoToken()
    subscriber = Subscriber(stub, auth, handler, window=0.0, sleep=sleeps.append, rng=Random(1))
    subscriber.run(stop)
    assert auth.refreshes == 2 and len(sleeps) == 1
    assert handler.batches == [["01"]]


def test_a_schema_refused_ends_the_stream_and_it_resumes_from_the_stored_id() -> None:
    """A GetSchema refused while decoding ends the stream as a failure (backed off, not a
    crash of the subscriber), and the next stream resumes from the stored replay id."""

    class SchemaOnce(FakeStub):
        def GetSchema(self, request: Any, *, metadata: Any) -> Any:  # noqa: N802
            if self.schema_calls == 0 and len(self.calls) == 1:
                self.schema_calls += 1
                raise RpcFailure(grpc.StatusCode.UNAVAILABLE, "schema service busy")
            return super().GetSchema(request, metadata=metadata)

    handler = FakeHandler(stored=rid(0))
    stop = threading.Event()
    stub = SchemaOnce([[batch(1)], [batch(2)]], stop)
    sleeps: list[float] = []
    subscriber = Subscriber(stub, FakeAuth(), handler, window=0.0, rng=Random(1),
                            sleep=sleeps.append)  # fmt: skip
    worker = threading.Thread(target=subscriber.run, args=(stop,), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive()
    assert [c.first.replay_id for c in stub.calls] == [rid(0), rid(0)]
    assert handler.batches == [["02"]] and len(sleeps) == 1
