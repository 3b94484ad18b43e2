from __future__ import annotations

import json
import urllib.error
import urllib.request

from worker.metrics import Health, Metrics, serve


def test_serves_metrics_and_healthz_on_a_free_port() -> None:
    metrics, health = Metrics(), Health(max_age=60)
    metrics.routed.inc(3)
    server = serve(metrics, health, 0, host="127.0.0.1")
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        body = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert "leadrouter_leads_routed_total 3.0" in body
        doc = json.loads(urllib.request.urlopen(f"{base}/healthz", timeout=5).read())
        assert doc["ok"] is True
        health.max_age = -1
        try:
            urllib.request.urlopen(f"{base}/healthz", timeout=5)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as exc:
            assert exc.code == 503
    finally:
        server.shutdown()
