"""The sandbox's Pub/Sub API endpoint: a gRPC server over TLS with the sandbox's own
certificate (clients trust the same CA bundle as for the REST API)."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import grpc

from devkit.sandbox.auth import Sessions
from devkit.sandbox.pubsub.bus import EventBus
from devkit.sandbox.pubsub.service import PubSubService
from worker.sfdc.pubsub import pubsub_api_pb2_grpc as pb_grpc

MAX_STREAMS = 64  # each Subscribe holds a worker thread for as long as it lasts
_PEM = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\s*", re.S)


@dataclass
class PubSubServer:
    endpoint: str  # "host:port", what a client dials (TLS)
    bus: EventBus
    service: PubSubService
    _server: grpc.Server

    def stop(self, grace: float = 0.5) -> None:
        self._server.stop(grace).wait(5)
        self.bus.detach()


def start_pubsub(
    bus: EventBus,
    sessions: Sessions,
    instance_url: str,
    server_pem: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    keepalive_s: float = 270.0,
) -> PubSubServer:
    """Serve ``bus`` on ``host:port`` (0: any free port) until :meth:`PubSubServer.stop`.
    ``server_pem`` holds the private key and certificate chain (see ``certs.py``)."""
    key, chain = _split_pem(server_pem.read_bytes())
    server = grpc.server(
        ThreadPoolExecutor(max_workers=MAX_STREAMS, thread_name_prefix="sandbox-pubsub"),
        maximum_concurrent_rpcs=MAX_STREAMS,
        # gRPC shares a port by default (SO_REUSEPORT): a second sandbox on a busy port
        # would silently take half the connections instead of failing to start
        options=[("grpc.so_reuseport", 0)],
    )
    service = PubSubService(bus, sessions, instance_url, keepalive_s=keepalive_s)
    pb_grpc.add_PubSubServicer_to_server(service, server)  # type: ignore[no-untyped-call]
    try:
        bound = server.add_secure_port(
            f"{host}:{port}", grpc.ssl_server_credentials([(key, chain)])
        )
    except RuntimeError:  # grpcio raises where older versions returned 0
        bound = 0
    if not bound:
        raise OSError(f"cannot listen on {host}:{port} for the Pub/Sub API")
    bus.attach()
    server.start()
    return PubSubServer(f"{host}:{bound}", bus, service, server)


def _split_pem(data: bytes) -> tuple[bytes, bytes]:
    """(private key, certificate chain) from one PEM file holding both."""
    blocks = [(m.group(1), m.group(0)) for m in _PEM.finditer(data)]
    key = b"".join(b for kind, b in blocks if kind.endswith(b"PRIVATE KEY"))
    chain = b"".join(b for kind, b in blocks if kind == b"CERTIFICATE")
    if not key or not chain:
        raise ValueError("the server PEM holds no private key or no certificate")
    return key, chain
