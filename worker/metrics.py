"""Prometheus metrics and the ``/healthz`` endpoint of a worker process.

Metrics live in their own registry (not the process-global one) so that several workers
in one test process do not collide. :func:`serve` starts a small WSGI server on a daemon
thread: ``/metrics`` is the Prometheus text format, ``/healthz`` answers 200 while the
last cycle is recent (or the worker is a healthy standby) and 503 otherwise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
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
    """What ``/healthz`` reports; updated by the worker loop."""

    max_age: float = 60.0
    role: str = "starting"
    last_cycle: float | None = None
    last_error: str | None = None
    started: float = field(default_factory=time.monotonic)

    def ok(self) -> bool:
        if self.role == "standby":
            return True
        reference = self.last_cycle if self.last_cycle is not None else self.started
        return time.monotonic() - reference <= self.max_age

    def as_dict(self) -> dict[str, object]:
        age = None if self.last_cycle is None else round(time.monotonic() - self.last_cycle, 3)
        return {
            "ok": self.ok(),
            "role": self.role,
            "last_cycle_age_s": age,
            "error": self.last_error,
        }


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        return


def app(
    metrics: Metrics, health: Health
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    prometheus = make_wsgi_app(metrics.registry)

    def wsgi(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            ok = health.ok()
            body = json.dumps(health.as_dict()).encode()
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        result: Iterable[bytes] = prometheus(environ, start_response)
        return result

    return wsgi


def serve(metrics: Metrics, health: Health, port: int, host: str = "0.0.0.0") -> WSGIServer:
    """Serve /metrics and /healthz on ``port`` (0: any free port) from a daemon thread."""
    server = make_server(host, port, app(metrics, health), handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
