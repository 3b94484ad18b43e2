"""Prometheus metrics and the ``/healthz`` endpoint of a worker process.

Metrics live in their own registry (not the process-global one) so that several workers
in one test process do not collide. :func:`serve` starts a small threaded WSGI server:
``/metrics`` is the Prometheus text format (behind a bearer token when one is set),
``/healthz`` answers 200 while the last cycle is recent (or the worker is a healthy
standby) and 503 otherwise.

Exposure: the server binds 127.0.0.1 unless told otherwise (``LEADROUTER_METRICS_HOST``;
the compose file binds 0.0.0.0 inside its container). Each connection has its own
thread and an idle one is dropped after :data:`IDLE_TIMEOUT_SECONDS`, so a client that
opens a connection and says nothing cannot make ``/healthz`` miss a liveness probe.
``/healthz`` names the KIND of the last error (an exception class), never its text, which
may quote lead values.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

StartResponse = Callable[..., Any]


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.routed = Counter("leadrouter_leads_routed", "Leads assigned out of intake", registry=r)
        self.held = Counter("leadrouter_leads_held", "Leads held (nobody eligible)", registry=r)
        self.reassigned = Counter(
            "leadrouter_leads_reassigned", "SLA re-assignments and escalations", registry=r
        )
        self.skipped = Counter(
            "leadrouter_leads_skipped", "Decisions not written, by reason", ["reason"], registry=r
        )
        self.errors = Counter("leadrouter_errors", "Errors by kind", ["kind"], registry=r)
        self.api_calls = Counter("leadrouter_api_calls", "Salesforce API calls made", registry=r)
        self.api_used = Gauge(
            "leadrouter_api_usage_used", "Org API requests used today", registry=r
        )
        self.api_max = Gauge("leadrouter_api_usage_max", "Org daily API allocation", registry=r)
        self.cycle_seconds = Histogram(
            "leadrouter_cycle_seconds", "Duration of an intake cycle", registry=r
        )
        self.latency = Histogram(
            "leadrouter_assignment_latency_seconds",
            "From lead creation to its owner being written",
            buckets=(0.5, 1, 2, 3, 5, 10, 30, 60, 300, 900, 3600),
            registry=r,
        )
        self.guard_window = Histogram(
            "leadrouter_guard_window_seconds",
            "Between the owner re-read and the write (human-overwrite window)",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=r,
        )
        self.active = Gauge("leadrouter_active", "1 when this worker holds the lease", registry=r)


@dataclass
class Health:
    """What ``/healthz`` reports; updated by the worker loop.

    ``last_error`` is the full one-line error, for the process's own output (``run
    --once``); only ``error_kind`` leaves the process."""

    max_age: float = 60.0
    role: str = "starting"
    last_cycle: float | None = None
    last_error: str | None = None
    error_kind: str | None = None
    started: float = field(default_factory=time.monotonic)

    def ok(self) -> bool:
        if self.role == "standby":
            return True
        reference = self.last_cycle if self.last_cycle is not None else self.started
        return time.monotonic() - reference <= self.max_age

    def as_dict(self) -> dict[str, object]:
        age = None if self.last_cycle is None else round(time.monotonic() - self.last_cycle, 3)
        ok = self.ok()
        return {
            "status": "ok" if ok else "stale",
            "ok": ok,
            "role": self.role,
            "last_cycle_age_s": age,
            "error_kind": self.error_kind,
        }


IDLE_TIMEOUT_SECONDS = 5.0


class _Quiet(WSGIRequestHandler):
    timeout = IDLE_TIMEOUT_SECONDS  # socket timeout: an idle connection is closed

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return


class _ThreadedWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per connection (wsgiref's server answers one at a time)."""

    daemon_threads = True
    block_on_close = False


WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _reply(start_response: StartResponse, status: str, body: bytes, kind: str) -> list[bytes]:
    headers = [("Content-Type", kind), ("Content-Length", str(len(body)))]
    if status.startswith("401"):
        headers.append(("WWW-Authenticate", 'Bearer realm="metrics"'))
    start_response(status, headers)
    return [body]


def _bearer_ok(environ: dict[str, Any], token: str | None) -> bool:
    if token is None:
        return True
    scheme, _, value = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    # WSGI hands header bytes over as latin-1 text; compare bytes, since compare_digest
    # raises TypeError on a non-ASCII str
    given = value.strip().encode("latin-1", "replace")
    return scheme.lower() == "bearer" and hmac.compare_digest(given, token.encode("utf-8"))


def app(metrics: Metrics, health: Health, *, token: str | None = None) -> WsgiApp:
    """``/healthz`` (open: liveness probes) and ``/metrics`` (bearer ``token`` if set)."""
    prometheus = make_wsgi_app(metrics.registry)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            ok = health.ok()
            body = json.dumps(health.as_dict()).encode()
            status = "200 OK" if ok else "503 Service Unavailable"
            return _reply(start_response, status, body, "application/json")
        if path != "/metrics":
            return _reply(start_response, "404 Not Found", b"not found\n", "text/plain")
        if not _bearer_ok(environ, token):
            return _reply(
                start_response, "401 Unauthorized", b"bearer token required\n", "text/plain"
            )
        result: Iterable[bytes] = prometheus(environ, start_response)
        return result

    return wsgi


def serve(
    metrics: Metrics,
    health: Health,
    port: int,
    host: str = "127.0.0.1",
    *,
    token: str | None = None,
) -> WSGIServer:
    """Serve /metrics and /healthz on ``host:port`` (port 0: any free one) from a daemon
    thread, one thread per connection."""
    server = make_server(
        host, port, app(metrics, health, token=token),
        server_class=_ThreadedWSGIServer, handler_class=_Quiet,
    )  # fmt: skip
    threading.Thread(target=server.serve_forever, args=(0.1,), name="metrics", daemon=True).start()
    return server
