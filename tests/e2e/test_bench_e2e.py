"""``leadrouter bench e2e --json`` end to end at a small size: the figures the issue asks
for are printed, measured (not placeholders) and consistent with each other."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REQUIRED = ["leads_per_s", "api_calls_per_1000", "api_calls_min_per_1000", "io_floor_ratio",
            "p50_owner_s", "p95_owner_s", "rss_growth_mb", "api_calls_per_day_at_5000_leads",
            "api_calls_per_idle_day", "events_per_day_at_5000_leads", "burst_drain_s",
            "burst_serial_floor_s", "intake", "latency"]  # fmt: skip


def test_bench_e2e_prints_one_json_object_with_measured_figures() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "worker", "bench", "e2e", "--json", "--leads", "600",
         "--arrival-seconds", "3", "--rss-leads", "600", "--window-seconds", "4"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert all(result.get(k) is not None for k in REQUIRED), result
    assert result["leads"] == 600 and result["worker_applied"] > 0
    assert result["latency"] == "none"  # the default: the sandbox answers at once
    assert result["worker_decided"] >= 600  # every new lead decided (routed or held)
    assert result["floor_seconds"] > 0 and result["floor_seconds_after_worker"] > 0
    assert result["floor_leads_after_worker"] == 600  # the new leads only, not the held ones
    # the ratio is the worker's time per lead over the two floors' mean (the seconds are
    # printed rounded to 10 ms: the ratio must lie within what that rounding allows)
    w, f1, f2 = (result[k] for k in ("worker_seconds", "floor_seconds",
                                     "floor_seconds_after_worker"))  # fmt: skip
    n = result["worker_decided"]
    low = (w - 0.005) / n / ((f1 + f2 + 0.01) / 2 / 600)
    high = (w + 0.005) / n / ((f1 + f2 - 0.01) / 2 / 600)
    assert low - 0.005 <= result["io_floor_ratio"] <= high + 0.005
    # CPU seconds over the worker's burst: measured, and no more than its CPUs can give
    # in its wall time (/proc counts in 10 ms ticks, the figures are rounded to 10 ms)
    cpu, sandbox = result["worker_cpu_s"], result["sandbox_cpu_s_during_worker"]
    assert result["cpus"] >= 1 and cpu > 0 and sandbox is not None and sandbox > 0
    assert cpu + sandbox <= result["cpus"] * (w + 0.005) + 0.05
    assert result["floor_cpu_s"] > 0 and result["sandbox_cpu_s_during_floor"] > 0
    assert 0 < result["io_floor_ratio_if_all_cpus_busy"] <= result["io_floor_ratio"] + 0.05
    assert result["p50_owner_s"] <= result["p95_owner_s"]
    assert result["api_calls_ratio_to_min"] < 2
    # the minimum follows the write mechanism: by default a Composite call per 25 writes
    applied = result["worker_applied"]
    assert result["write_mechanism"] == "composite_conditional"
    assert result["api_calls_min_per_1000"] == round(
        (1 + 3 + -(-applied // 25)) / applied * 1000, 1
    )
    # the burst is the worker's drain; with no latency its serial floor waits for nothing
    assert result["intake"] == "poll" and result["burst_leads"] == 600
    assert result["burst_drain_s"] == result["worker_seconds"]
    assert result["burst_serial_floor_s"] == 0.0
    assert result["burst_serial_floor_calls"] == 1 + -(-applied // 25)
    # the day's calls: measured in the three windows (the worker's own count), polls in each
    busy, idle_busy, off = result["cost_window_calls"]
    assert busy >= 1 and idle_busy >= 1 and off >= 0  # a poll every 2 s in business hours
    assert result["events_per_day_at_5000_leads"] == 0  # polling is delivered no event
    assert result["p95_owner_floor_s"] is None  # modelled for the subscriber only


def test_bench_e2e_drives_a_subscribed_worker_and_counts_its_events() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "worker", "bench", "e2e", "--json", "--intake", "subscribe",
         "--leads", "200", "--arrival-seconds", "3", "--window-seconds", "8"],  # 1 lead in
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    measured = [k for k in REQUIRED if k != "rss_growth_mb"]  # no --rss-leads: none
    assert all(result.get(k) is not None for k in measured), result
    assert result["intake"] == "subscribe"
    # the day's busy window: leads arrive, the subscriber is delivered their events
    busy_events, _, _ = result["cost_window_events"]
    assert result["cost_window_leads"] >= 1 and busy_events >= result["cost_window_leads"]
    assert result["events_per_day_at_5000_leads"] > 0
    assert result["speed_to_lead_leads"] > 0 and result["p50_owner_s"] <= result["p95_owner_s"]
    # beside them, what a worker taking no time would get (no latency: the window and the
    # creation second only)
    assert 0 < result["p50_owner_floor_s"] <= result["p95_owner_floor_s"] <= 1.11
