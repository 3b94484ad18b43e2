"""Latency profiles: fitted to their p50/p95, scaled with records, reproducible from the
seed; the concurrent long-running request rule; query cursors' 2-day life."""

from __future__ import annotations

import json
import statistics
from types import SimpleNamespace

import pytest

from devkit.sandbox import app as app_module
from devkit.sandbox import org as org_module
from devkit.sandbox.inflight import InFlight
from devkit.sandbox.latency import KINDS, CallLatency, LatencyProfile, LongRunning
from devkit.sandbox.latency.calls import classify, draws
from devkit.sandbox.org import CURSOR_LIFETIME_S, Org
from devkit.sandbox.soql.engine import Result
from devkit.sandbox.web import Request


def _quantiles(profile: LatencyProfile, kind: str, records: int = 1, n: int = 20_000):
    draws = [profile.delay(kind, records) for _ in range(n)]
    q = statistics.quantiles(draws, n=100)
    return q[49], q[94]


@pytest.mark.parametrize(
    ("kind", "p50", "p95"),
    [("query", 0.30, 1.20), ("collections_write", 1.50, 5.00), ("oauth_token", 0.30, 0.80)],
)
def test_the_real_profile_draws_its_documented_p50_and_p95(kind, p50, p95):
    got50, got95 = _quantiles(LatencyProfile.load("real", seed=1), kind, records=200)
    assert got50 == pytest.approx(p50, rel=0.06) and got95 == pytest.approx(p95, rel=0.08)


def test_a_collection_write_scales_with_its_records():
    profile = LatencyProfile.load("real", seed=3)
    small50, _ = _quantiles(profile, "collections_write", records=20)
    full50, _ = _quantiles(profile, "collections_write", records=200)
    call = profile.calls["collections_write"]
    assert small50 == pytest.approx(call.fixed + (1.50 - call.fixed) / 10, rel=0.06)
    assert full50 == pytest.approx(1.50, rel=0.06) and small50 < full50 / 4


def test_the_same_seed_gives_the_same_draws_and_another_seed_others():
    draws = [
        [LatencyProfile.load("real", seed=s).delay("query") for _ in range(50)] for s in (7, 7, 8)
    ]
    assert draws[0] == draws[1] != draws[2]


def test_none_answers_at_once_but_keeps_the_long_running_rule():
    profile = LatencyProfile.load("none")
    assert not profile.enabled and all(profile.delay(k, 200) == 0 for k in KINDS)
    assert profile.long_running == LongRunning(threshold_s=20.0, limit=25)


def test_the_real_profile_lists_every_kind_including_event_delivery():
    assert set(LatencyProfile.load("real").calls) == set(KINDS)


def test_draws_never_exceed_the_cap():
    profile = LatencyProfile(calls={"query": CallLatency(p50=50, p95=500)}, max_s=60)
    assert max(profile.delay("query") for _ in range(2000)) == 60


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("calls:\n  qeury: {p50: 0.3, p95: 1}\n", "unknown call kind 'qeury'"),
        ("calls:\n  query: {p50: 2, p95: 1}\n", "p50 <= p95"),
        ("calls:\n  query: {p50: 0.3, p59: 1}\n", "unknown key(s) p59"),
        ("long_running: {limit: 0}\n", "limit >= 1"),
        ("speed: fast\n", "unknown latency setting(s): speed"),
        ("calls: [\n", "not valid YAML"),
    ],
)
def test_a_calibration_file_with_a_mistake_is_refused_with_the_reason(tmp_path, text, message):
    path = tmp_path / "calibration.yaml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LatencyProfile.load(path)


def _request(method, path, body=b"", query=None):
    return Request(method, path, query or {}, {}, body)


@pytest.mark.parametrize(
    ("method", "path", "body", "query", "expected"),
    [
        ("GET", "/services/data/v59.0/query/", b"", {"q": ["SELECT Id FROM Lead"]}, ("query", 1)),
        ("GET", "/services/data/v59.0/query/01gABC-2000", b"", None, ("query_more", 1)),
        ("PATCH", "/services/data/v59.0/composite/sobjects", b'{"records":[{},{},{}]}', None,
         ("collections_write", 3)),
        ("DELETE", "/services/data/v59.0/composite/sobjects", b"", {"ids": ["a,b"]},
         ("collections_write", 2)),
        ("POST", "/services/data/v59.0/composite/sobjects/Lead", b"{}", None,
         ("collections_retrieve", 1)),
        ("POST", "/services/data/v59.0/composite", b'{"compositeRequest":[{},{}]}', None,
         ("composite", 2)),
        ("PATCH", "/services/data/v59.0/sobjects/Lead/00Q000000000001AAA", b"{}", None,
         ("sobject_row", 1)),
        ("POST", "/services/data/v59.0/sobjects/Lead/", b"{}", None, ("sobject_row", 1)),
        ("GET", "/services/data/v59.0/sobjects/Lead/describe", b"", None, ("metadata", 1)),
        ("GET", "/services/data/v59.0/sobjects/Lead/deleted/", b"", None, ("replication", 1)),
        ("GET", "/services/data/v59.0/limits", b"", None, ("metadata", 1)),
    ],
)  # fmt: skip
def test_requests_are_classified_by_kind_and_size(method, path, body, query, expected):
    assert classify(_request(method, path, body, query)) == expected


def _composite(*subs: tuple[str, str]) -> Request:
    body = {"compositeRequest": [{"method": m, "url": u, "referenceId": f"r{i}"}
                                 for i, (m, u) in enumerate(subs)]}  # fmt: skip
    return _request("POST", "/services/data/v59.0/composite", json.dumps(body).encode())


def test_a_composite_draws_one_query_per_query_subrequest_on_top_of_its_own():
    """A query inside a Composite costs a query's server time, not 7.5 ms of DML."""
    req = _composite(
        ("GET", "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead"),
        ("PATCH", "/services/data/v59.0/sobjects/Lead/@{r0.records[0].Id}"),
        ("GET", "/services/data/v59.0/queryAll/?q=SELECT+Id+FROM+Lead"),
        ("GET", "/services/data/v59.0/query/01gABC-2000"),
        ("GET", "/services/data/v59.0/sobjects/Lead/00Q000000000001AAA"),
        ("POST", "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead"),  # not a query: GET only
    )
    assert draws(req) == [("composite", 6), *[("composite_query", 1)] * 3]
    plain = _request("GET", "/services/data/v59.0/query/", b"", {"q": ["SELECT Id FROM Lead"]})
    assert draws(plain) == [("query", 1)]


def test_the_sandbox_waits_the_sum_of_a_composites_draws(monkeypatch):
    """Fixed draws (p50 = p95): the composite's own time at its size plus one query each."""
    profile = LatencyProfile(calls={
        "composite": CallLatency(p50=0.40, p95=0.40, records=25, fixed=0.15),
        "composite_query": CallLatency(p50=0.30, p95=0.30),
    })  # fmt: skip
    slept: list[float] = []
    monkeypatch.setattr(app_module.time, "sleep", slept.append)
    app = app_module.SandboxApp(SimpleNamespace(latency=profile), None, None, "", None)
    two_pairs = _composite(
        ("GET", "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead"),
        ("PATCH", "/services/data/v59.0/sobjects/Lead/@{r0.records[0].Id}"),
        ("GET", "/services/data/v59.0/query?q=SELECT+Id+FROM+Lead"),
        ("PATCH", "/services/data/v59.0/sobjects/Lead/@{r2.records[0].Id}"),
    )
    app._wait_all(draws(two_pairs))
    assert slept == [pytest.approx(0.15 + 0.25 * 4 / 25 + 2 * 0.30)]


def test_a_query_subrequest_costs_the_query_less_a_requests_overhead_in_the_real_profile():
    real = LatencyProfile.load("real").calls
    share = real["composite_query"]
    overhead = real["composite"].fixed
    assert share.p50 == pytest.approx(real["query"].p50 - overhead)
    assert share.p95 == pytest.approx(real["query"].p95 - overhead)


def test_a_profile_without_the_subrequest_share_prices_it_as_a_whole_query():
    profile = LatencyProfile(calls={"query": CallLatency(p50=0.30, p95=0.30)})
    assert profile.delay("composite_query") == pytest.approx(0.30)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_only_requests_past_the_threshold_count_toward_the_limit():
    clock = Clock()
    flight = InFlight(LongRunning(threshold_s=20, limit=2), clock)
    first, second = flight.enter(), flight.enter()
    clock.now += 19.9
    third = flight.enter()  # two in flight, neither long-running yet
    assert None not in (first, second, third) and flight.long_running() == 0
    clock.now += 0.1
    assert flight.long_running() == 2 and flight.enter() is None  # refused, not counted
    flight.leave(first)
    fourth = flight.enter()
    assert fourth is not None and flight.long_running() == 1  # second (third is young)


def test_a_cursor_lives_two_days_from_its_query_whatever_its_use(tmp_path, monkeypatch):
    now = [5000.0]
    monkeypatch.setattr(org_module.time, "monotonic", lambda: now[0])
    org = Org.open(tmp_path / "org.sqlite")
    try:
        locator = org.open_cursor(Result(rows=[{}] * 10, render=dict, total_size=10), 5)
        now[0] += 16 * 60  # idle for longer than the old 15 minutes
        assert org.cursor(locator) is not None
        now[0] += CURSOR_LIFETIME_S - 16 * 60 - 1  # read a second before it ends
        assert org.cursor(locator) is not None
        now[0] += 1  # reading did not extend it
        assert org.cursor(locator) is None
    finally:
        org.store.close()
