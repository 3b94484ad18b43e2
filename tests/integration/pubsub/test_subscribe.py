"""The Subscribe stream: replay, flow control, keepalives, errors, allocation, faults."""

from __future__ import annotations

import shutil
import time
from datetime import timedelta
from pathlib import Path

import grpc
import pytest

from devkit.sandbox.harness import SandboxHandle, start_sandbox
from devkit.sandbox.pubsub.service import (
    AUTH_ERROR,
    LIMIT_EXCEEDED,
    REPLAY_CORRUPTED,
    REPLAY_MISSING,
    STREAM_DROPPED,
)
from tests.integration.pubsub.client import Failure, PubSubClient
from tests.integration.pubsub.conftest import KEEPALIVE_S, Rest
from worker.sfdc.pubsub import pubsub_api_pb2 as pb

pytestmark = pytest.mark.integration


def _leads(rest: Rest, count: int) -> list[str]:
    return [rest.create(LastName=f"Lead {i}", Company="C") for i in range(count)]


def _ids(client: PubSubClient, events: list) -> list[str]:
    return [client.decode(e)[0].record_ids[0] for e in events]


def _failure(sub) -> Failure:
    while not isinstance(response := sub.next(), Failure):
        assert not response.events, "no events expected before the error"
    return response


# --- replay --------------------------------------------------------------------------
def test_replay_resumes_exactly_after_a_stored_id(client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe()
    first = _leads(rest, 3)
    events = sub.events(3)
    assert _ids(client, events) == first
    stored = events[0].replay_id
    sub.close()
    later = _leads(rest, 1)
    resumed = client.subscribe(preset="CUSTOM", replay_id=stored)
    assert _ids(client, resumed.events(3)) == first[1:] + later
    assert resumed.quiet(1.0) == []


def test_the_admin_counts_the_events_delivered(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    before = pubsub_sandbox.admin().event_deliveries()
    sub = client.subscribe()
    _leads(rest, 2)
    sub.events(2)
    assert pubsub_sandbox.admin().call("event_deliveries", {}) == before + 2  # an admin op


def test_earliest_and_latest(client: PubSubClient, rest: Rest) -> None:
    before = _leads(rest, 2)
    latest = client.subscribe()
    earliest = client.subscribe(preset="EARLIEST")
    after = _leads(rest, 1)
    assert _ids(client, earliest.events(3)) == before + after
    assert _ids(client, latest.events(1)) == after


def test_corrupted_replay_ids_are_refused(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    sub = client.subscribe()
    _leads(rest, 1)
    real = sub.events(1)[0].replay_id
    tampered = bytes([real[0] ^ 0xFF]) + real[1:]  # another stream's epoch
    for replay_id in (b"garbage", tampered, real + b"\x00"):
        failure = _failure(client.subscribe(preset="CUSTOM", replay_id=replay_id))
        assert failure.code == grpc.StatusCode.INVALID_ARGUMENT
        assert failure.error_code == REPLAY_CORRUPTED
        assert "rpcId: " in failure.details
    missing = _failure(client.subscribe(preset="CUSTOM"))
    assert (missing.code, missing.error_code) == (grpc.StatusCode.INVALID_ARGUMENT, REPLAY_MISSING)


def test_replay_id_past_retention(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    org = pubsub_sandbox.admin().org
    sub = client.subscribe()
    _leads(rest, 2)
    old = sub.events(2)[0].replay_id
    sub.close()
    clock = org.clock
    start = clock()
    org.clock = lambda: start + timedelta(hours=72, seconds=1)  # type: ignore[method-assign]
    try:
        failure = _failure(client.subscribe(preset="CUSTOM", replay_id=old))
        assert (failure.code, failure.error_code) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            REPLAY_CORRUPTED,
        )
        assert "retention" in failure.details
        fresh = _leads(rest, 1)
        assert _ids(client, client.subscribe(preset="EARLIEST").events(1)) == fresh
    finally:
        org.clock = clock  # type: ignore[method-assign]


# --- flow control and keepalive ------------------------------------------------------
def test_no_more_events_than_requested_and_top_ups_add(client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe(num_requested=2)
    made = _leads(rest, 6)
    got = sub.events(2)
    assert sub.quiet(1.0) == []
    sub.request(1)
    sub.request(2)  # two top-ups before the server answers: 3 more
    got += sub.events(3)
    assert sub.quiet(1.0) == []
    sub.request(5)
    got += sub.events(1)
    assert _ids(client, got) == made
    # what is still owed is reported: 5 asked, 1 sent
    keepalive = sub.next(KEEPALIVE_S * 4)
    assert not keepalive.events and keepalive.pending_num_requested == 4


def test_top_ups_add_to_what_is_owed_up_to_100(client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe(num_requested=1)
    sub.request(2)
    _owed(sub, 3)  # keepalives report what is owed: 1 + 2
    made = _leads(rest, 5)
    assert _ids(client, sub.events(3)) == made[:3]
    assert sub.quiet(1.0) == []
    sub.request(150)
    _owed(sub, 100 - 2)  # capped at 100 outstanding; 2 of them sent since


def _owed(sub, expected: int) -> None:
    deadline = time.monotonic() + KEEPALIVE_S * 20
    while (response := sub.next(KEEPALIVE_S * 4)).pending_num_requested != expected:
        assert time.monotonic() < deadline, response.pending_num_requested


def test_keepalive_carries_the_latest_replay_id(client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe()
    started = time.monotonic()
    idle = sub.next(KEEPALIVE_S * 4)
    assert not idle.events and idle.latest_replay_id
    assert time.monotonic() - started < KEEPALIVE_S * 8  # not the default 270 s: the setting
    _leads(rest, 1)
    event = sub.events(1)[0]
    idle = sub.next(KEEPALIVE_S * 4)
    assert not idle.events and idle.latest_replay_id == event.replay_id
    # a keepalive's replay id is a place to resume from: nothing is skipped
    sub.close()
    later = _leads(rest, 1)
    resumed = client.subscribe(preset="CUSTOM", replay_id=idle.latest_replay_id)
    assert _ids(client, resumed.events(1)) == later


def test_a_later_request_naming_another_topic_is_refused(client: PubSubClient) -> None:
    sub = client.subscribe()
    sub.request(1, topic="/data/ChangeEvents")
    failure = _failure(sub)
    assert failure.code == grpc.StatusCode.INVALID_ARGUMENT


# --- auth and topics -----------------------------------------------------------------
def test_auth_metadata_is_checked(pubsub_sandbox: SandboxHandle) -> None:
    bad = PubSubClient(pubsub_sandbox, token="00D!not-a-session")
    try:
        with pytest.raises(grpc.RpcError) as caught:
            bad.stub.GetTopic(
                pb.TopicRequest(topic_name="/data/LeadChangeEvent"), metadata=bad.metadata
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert dict(caught.value.trailing_metadata())["error-code"] == AUTH_ERROR
        failure = _failure(bad.subscribe(wait=False))
        assert (failure.code, failure.error_code) == (grpc.StatusCode.UNAUTHENTICATED, AUTH_ERROR)
        bad.metadata = (
            ("accesstoken", pubsub_sandbox.access_token()),
            ("instanceurl", "https://example.my.salesforce.com"),
            ("tenantid", pubsub_sandbox.info()["org_id"]),
        )
        with pytest.raises(grpc.RpcError) as caught:
            bad.stub.GetTopic(
                pb.TopicRequest(topic_name="/data/LeadChangeEvent"), metadata=bad.metadata
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        bad.metadata = (
            (bad.metadata[0][0], pubsub_sandbox.access_token()),
            *bad.metadata[1:2],
            ("tenantid", "00D000000000001"),
        )
        with pytest.raises(grpc.RpcError) as caught:
            bad.stub.GetTopic(
                pb.TopicRequest(topic_name="/data/LeadChangeEvent"), metadata=bad.metadata
            )
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        bad.close()


def test_unknown_topic(client: PubSubClient) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        client.stub.GetTopic(
            pb.TopicRequest(topic_name="/data/AccountChangeEvent"), metadata=client.metadata
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


# --- allocation and faults -----------------------------------------------------------
def test_rolling_delivery_allocation(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    bus = pubsub_sandbox.pubsub().bus
    bus.delivery_limit = 3
    made = _leads(rest, 5)
    sub = client.subscribe(preset="EARLIEST")
    delivered = sub.events(3)
    failure = _failure(sub)
    assert (failure.code, failure.error_code) == (
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        LIMIT_EXCEEDED,
    )
    assert "event delivery limit" in failure.details
    again = _failure(client.subscribe(preset="CUSTOM", replay_id=delivered[-1].replay_id))
    assert again.error_code == LIMIT_EXCEEDED
    org = pubsub_sandbox.admin().org
    clock, start = org.clock, org.clock()
    org.clock = lambda: start + timedelta(hours=24, seconds=1)  # type: ignore[method-assign]
    try:  # the window rolled on: the rest is delivered from where it stopped
        resumed = client.subscribe(preset="CUSTOM", replay_id=delivered[-1].replay_id)
        assert _ids(client, delivered + resumed.events(2)) == made
    finally:
        org.clock = clock  # type: ignore[method-assign]


def test_gap_events(pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest) -> None:
    lead = _leads(rest, 1)[0]
    sub = client.subscribe()
    pubsub_sandbox.admin().set_faults(cdc_gap=1.0)
    rest.update(lead, Rating="Warm")
    rest.delete(lead)
    decoded = [client.decode(e) for e in sub.events(2)]
    assert [h.change_type for h, _ in decoded] == ["GAP_UPDATE", "GAP_DELETE"]
    for header, body in decoded:
        assert header.is_gap and header.record_ids == (lead,) and header.changed == ()
        assert body["Rating"] is None and body["Name"] is None  # header only: re-read it
    assert pubsub_sandbox.admin().fault_counts()["cdc_gap"] == 2


def test_overflow_event(pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest) -> None:
    sub = client.subscribe()
    pubsub_sandbox.admin().set_faults(cdc_overflow=1.0)
    url = rest.base.replace("/sobjects/Lead", "/composite/sobjects")
    records = [
        {"attributes": {"type": "Lead"}, "LastName": f"L{i}", "Company": "C"} for i in range(3)
    ]
    assert rest.session.post(url, json={"records": records}).status_code == 200
    ((header, _),) = [client.decode(e) for e in sub.events(1)]
    assert header.change_type == "GAP_OVERFLOW" and header.record_ids == ("00Q*",)
    assert sub.quiet(1.0) == []


def test_dropped_stream_resumes_from_the_last_replay_id(
    pubsub_sandbox: SandboxHandle, client: PubSubClient, rest: Rest
) -> None:
    pubsub_sandbox.admin().set_faults(cdc_drop_stream=1.0)
    sub = client.subscribe(num_requested=1)
    made = _leads(rest, 2)
    first = sub.events(1)
    failure = _failure(sub)
    assert (failure.code, failure.error_code) == (grpc.StatusCode.UNAVAILABLE, STREAM_DROPPED)
    pubsub_sandbox.admin().set_faults(cdc_drop_stream=0.0)
    resumed = client.subscribe(preset="CUSTOM", replay_id=first[-1].replay_id)
    assert _ids(client, first + resumed.events(1)) == made


def test_delivery_delay_hook(sandbox_template: Path, tmp_path: Path) -> None:
    state = tmp_path / "delayed"
    shutil.copytree(sandbox_template, state)
    handle = start_sandbox(state, pubsub_port=0, delivery_delay=lambda: 0.8, keepalive_s=30)
    client = PubSubClient(handle)
    rest = Rest(handle)
    try:
        sub = client.subscribe()
        committed = time.monotonic()
        lead = rest.create(LastName="Later", Company="C")
        assert _ids(client, sub.events(1)) == [lead]
        assert time.monotonic() - committed >= 0.8
    finally:
        rest.session.close()
        client.close()
        handle.stop()


def test_a_busy_port_is_an_error(pubsub_sandbox: SandboxHandle) -> None:
    from devkit.sandbox.pubsub.bus import EventBus
    from devkit.sandbox.pubsub.server import start_pubsub

    assert pubsub_sandbox.pubsub_endpoint is not None
    port = int(pubsub_sandbox.pubsub_endpoint.rsplit(":", 1)[1])
    admin = pubsub_sandbox.admin()
    pem = pubsub_sandbox.state_path.parent / "server.pem"
    with pytest.raises(OSError, match="cannot listen"):
        start_pubsub(
            EventBus(admin.org), admin.sessions, pubsub_sandbox.instance_url, pem, port=port
        )
