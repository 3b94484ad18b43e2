"""A minimal Pub/Sub API client for the tests: a Subscribe stream whose FetchRequests
the test sends and whose FetchResponses it reads with a timeout, and a decoder."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc

from devkit.sandbox.harness import SandboxHandle
from worker.sfdc.pubsub import pubsub_api_pb2 as pb
from worker.sfdc.pubsub import pubsub_api_pb2_grpc as pb_grpc
from worker.sfdc.pubsub.events import ChangeHeader, SchemaCache, change_header, decode_payload

TOPIC = "/data/LeadChangeEvent"


@dataclass
class Failure:
    code: grpc.StatusCode
    details: str
    error_code: str


class PubSubClient:
    def __init__(self, sandbox: SandboxHandle, token: str | None = None) -> None:
        assert sandbox.pubsub_endpoint is not None
        self.sandbox = sandbox
        credentials = grpc.ssl_channel_credentials(root_certificates=sandbox.ca_path.read_bytes())
        self.channel = grpc.secure_channel(sandbox.pubsub_endpoint, credentials)
        self.stub = pb_grpc.PubSubStub(self.channel)
        self.metadata = (
            ("accesstoken", token or sandbox.access_token()),
            ("instanceurl", sandbox.instance_url),
            ("tenantid", sandbox.info()["org_id"]),
        )
        self.schemas = SchemaCache(self._schema_json)

    def _schema_json(self, schema_id: str) -> str:
        info = self.stub.GetSchema(pb.SchemaRequest(schema_id=schema_id), metadata=self.metadata)
        return str(info.schema_json)

    def subscribe(self, topic: str = TOPIC, *, preset: str = "LATEST", replay_id: bytes = b"",
                  num_requested: int = 100, wait: bool = True) -> Subscription:  # fmt: skip
        """A Subscribe stream; ``wait``: return once the server has fixed where it starts
        (else a LATEST subscription races the writes that follow)."""
        service = self.sandbox.pubsub().service
        before = service.subscriptions
        subscription = Subscription(self, topic, preset, replay_id, num_requested)
        deadline = time.monotonic() + 10
        while wait and service.subscriptions == before and time.monotonic() < deadline:
            if not subscription._responses.empty():
                break  # it failed (the test reads why)
            time.sleep(0.01)
        return subscription

    def decode(self, event: Any) -> tuple[ChangeHeader, dict[str, Any]]:
        schema = self.schemas.get(event.event.schema_id)
        record = decode_payload(schema, event.event.payload)
        return change_header(schema, record), record

    def close(self) -> None:
        self.channel.close()


class Subscription:
    def __init__(self, client: PubSubClient, topic: str, preset: str, replay_id: bytes,
                 num_requested: int) -> None:  # fmt: skip
        self._requests: queue.Queue[Any] = queue.Queue()
        self._responses: queue.Queue[Any] = queue.Queue()
        self._requests.put(
            pb.FetchRequest(
                topic_name=topic, replay_preset=pb.ReplayPreset.Value(preset),
                replay_id=replay_id, num_requested=num_requested,
            )
        )  # fmt: skip
        self.call = client.stub.Subscribe(self._outgoing(), metadata=client.metadata)
        threading.Thread(target=self._read, daemon=True).start()

    def _outgoing(self) -> Iterator[Any]:
        while (request := self._requests.get()) is not None:
            yield request

    def _read(self) -> None:
        try:
            for response in self.call:
                self._responses.put(response)
        except grpc.RpcError as exc:
            trailers = dict(exc.trailing_metadata() or ())  # type: ignore[attr-defined]
            self._responses.put(Failure(exc.code(), exc.details(), trailers.get("error-code", "")))  # type: ignore[attr-defined]

    def request(self, num_requested: int, topic: str = "") -> None:
        self._requests.put(pb.FetchRequest(topic_name=topic, num_requested=num_requested))

    def next(self, timeout: float = 10) -> Any:
        """The next FetchResponse, or a :class:`Failure` when the stream ended in error."""
        return self._responses.get(timeout=timeout)

    def events(self, count: int, timeout: float = 10) -> list[Any]:
        """The next ``count`` events (skipping keepalives); fails on an error or a timeout."""
        out: list[Any] = []
        while len(out) < count:
            response = self.next(timeout)
            assert not isinstance(response, Failure), response
            out.extend(response.events)
        return out

    def quiet(self, seconds: float) -> list[Any]:
        """Every event that arrives within ``seconds`` (for "no more than asked")."""
        out: list[Any] = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                response = self.next(left)
            except queue.Empty:
                break
            assert not isinstance(response, Failure), response
            out.extend(response.events)
        return out

    def close(self) -> None:
        self._requests.put(None)
        self.call.cancel()
