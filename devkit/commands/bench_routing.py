"""``leadrouter bench routing``: throughput, latency, memory and fairness of routing (the
core, its accounts read from the store as the worker reads them) on a synthetic workload,
with nginx's smooth weighted round-robin as a fairness baseline; ``leadrouter bench
leads``: write a leads file.

The baseline is :func:`smooth_round_robin`, a reference implementation of the algorithm
kept here so the shipped command needs no dev-only package; a unit test checks it picks
exactly what the PyPI ``roundrobin.smooth`` picks."""

from __future__ import annotations

import gc
import json
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from worker.commands._common import one_line_errors

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from worker.routing import Account

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon in Europe


def _percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def smooth_round_robin(weights: list[tuple[str, float]]) -> Callable[[], str]:
    """nginx's smooth weighted round-robin: each pick, every key gains its weight and the
    key with the most credit is chosen and pays back the total (first key wins ties)."""
    keys = [key for key, _ in weights]
    credit = dict.fromkeys(keys, 0.0)
    total = sum(weight for _, weight in weights)

    def pick() -> str:
        for key, weight in weights:
            credit[key] += weight
        best = max(keys, key=credit.__getitem__)  # max() keeps the first of equals
        credit[best] -= total
        return best

    return pick


def _baseline_deviation(weights: dict[str, float], n: int) -> float:
    from worker.routing import max_prefix_deviation

    nxt = smooth_round_robin(list(weights.items()))
    return max_prefix_deviation([nxt() for _ in range(n)], weights)


def run_routing_bench(seed: int, reps: int, pools: int, rules: int, accounts: int, leads: int,
                      batch: int, page: int = 2_000, store_url: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Route ``leads`` synthetic leads as the worker does: the accounts in a store (the
    account mirror), each page of ``page`` leads given the context the worker builds for
    an intake page (its candidate accounts read from the store), routed ``batch`` leads
    per router (one state save each). ``store_url``: a database to use (and keep); by
    default a SQLite file in a temporary folder."""
    from devkit.commands.synthetic import make_workload
    from worker.routing import empty_state, max_prefix_deviation
    from worker.routing.engine import Router
    from worker.routing.members import pool_weights
    from worker.routing.normalise import warm_up
    from worker.store import accounts_repo

    t0 = time.perf_counter()
    w = make_workload(seed, reps, pools, rules, accounts, leads)
    generated = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="lr-bench-") as tmp:
        engine, reused, load_s = _store(store_url or f"sqlite:///{tmp}/bench.db", w.accounts, seed)
        t0 = time.perf_counter()
        warm_up()
        warm_s = time.perf_counter() - t0
        # Long-lived inputs (leads, config) need no cyclic-GC scans: the worker freezes
        # what survives each busy cycle too (worker.runtime.heap).
        gc.collect()
        gc.freeze()
        state = empty_state()
        timings: list[int] = []
        sequences: dict[str, list[str]] = {p: [] for p in w.stable_pools}
        actions: Counter[str] = Counter()
        methods: Counter[str] = Counter()
        clock = time.perf_counter_ns
        lookup = lookup_cpu = 0.0
        start = time.perf_counter()
        cpu_start = time.process_time()
        for p0 in range(0, len(w.leads), page):
            t, c = time.perf_counter(), time.process_time()
            page_leads = w.leads[p0 : p0 + page]
            context = accounts_repo.routing_context(engine, page_leads, w.config, reps=w.statuses)
            lookup += time.perf_counter() - t
            lookup_cpu += time.process_time() - c
            for b0 in range(0, len(page_leads), batch):
                router = Router(w.config, context, state, NOW)
                for lead in page_leads[b0 : b0 + batch]:
                    t = clock()
                    d = router.route(lead)
                    timings.append(clock() - t)
                    actions[d.action] += 1
                    methods[d.method] += 1
                    if d.pool in sequences and d.method == "weighted_round_robin" and d.rep_key:
                        sequences[d.pool].append(d.rep_key)
                state = router.new_state()
        elapsed = time.perf_counter() - start
        cpu = time.process_time() - cpu_start
        gc.unfreeze()
        engine.dispose()
    timings.sort()
    ours, base = 0.0, 0.0
    for name, seq in sequences.items():
        weights = pool_weights(w.config, name)
        ours = max(ours, max_prefix_deviation(seq, weights))
        base = max(base, _baseline_deviation(weights, len(seq)))
    pages = -(-len(timings) // page)
    return {
        "decisions_per_s": round(len(timings) / elapsed),
        # CPU time of this process: the figure for "one core" when other work shares the machine
        "cpu_decisions_per_s": round(len(timings) / cpu),
        "p50_us": round(_percentile(timings, 0.50), 1),
        "p99_us": round(_percentile(timings, 0.99), 1),
        "max_us": round(timings[-1] / 1000.0, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_deviation_leads": round(ours, 4),
        "baseline_max_deviation_leads": round(base, 4),
        "baseline": "smooth weighted round-robin (nginx; as PyPI roundrobin.smooth) on the "
        "same weights and sequence lengths",
        "leads": len(timings),
        "accounts": accounts,
        "reps": len(w.config.reps),
        "pools": len(w.config.pools),
        "rules": len(w.config.rules),
        "batch_size": batch,
        "page_size": page,
        "stable_pool_leads": sum(len(s) for s in sequences.values()),
        # time spent reading each page's candidate accounts from the store (in route_s)
        "account_lookup_s": round(lookup, 3),
        "account_lookup_ms_per_page": round(lookup / max(pages, 1) * 1000, 1),
        "account_lookup_cpu_s": round(lookup_cpu, 3),
        "route_cpu_s": round(cpu, 3),
        "store": "postgresql" if (store_url or "").startswith("postgresql") else "sqlite",
        "store_load_s": round(load_s, 1),
        "store_reused": reused,
        "generate_s": round(generated, 2),
        "warm_up_s": round(warm_s, 3),
        "route_s": round(elapsed, 3),
        "actions": dict(actions),
        "methods": dict(methods),
    }


LOAD_PAGE = 2_000  # accounts per transaction: the sync's own page


def _store(url: str, accounts: Sequence[Account], seed: int) -> tuple[Engine, bool, float]:
    """The bench's account mirror at ``url``, written by the sync's own write path (a
    store already holding this seed's accounts is reused as it is)."""
    from worker.root import engine_for
    from worker.store import accounts_repo, state_repo
    from worker.store.db import session_scope, upgrade

    upgrade(url)
    engine = engine_for(url)
    wanted = {"seed": seed, "accounts": len(accounts)}
    with session_scope(engine) as s:
        if state_repo.get_value(s, BENCH_KEY) == wanted:
            return engine, True, 0.0
        if accounts_repo.count(s):
            raise click.ClickException(f"{url} holds other accounts: give an empty database")
    t0 = time.perf_counter()
    for start in range(0, len(accounts), LOAD_PAGE):
        with session_scope(engine) as s:
            chunk = accounts[start : start + LOAD_PAGE]
            accounts_repo.apply_changes(s, [(a, None) for a in chunk], generation=1)
    with session_scope(engine) as s:
        row = accounts_repo.sync_state(s)
        row.phase, row.generation, row.complete = "delta", 1, True
        row.keys_version, row.full_loaded = accounts_repo.KEYS_VERSION, len(accounts)
        accounts_repo.save_sync(s, row)
        state_repo.set_value(s, BENCH_KEY, wanted)
    return engine, False, time.perf_counter() - t0


BENCH_KEY = "bench.routing.accounts"


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option("--seed", default=7, show_default=True, help="Random seed of the synthetic workload.")
@click.option("--reps", default=100, show_default=True, help="Number of reps.")
@click.option("--pools", default=10, show_default=True, help="Number of pools.")
@click.option("--rules", default=50, show_default=True, help="Number of rules.")
@click.option("--accounts", default=100_000, show_default=True, help="Accounts to match against.")
@click.option("--leads", default=100_000, show_default=True, help="Leads to route.")
@click.option(
    "--batch", default=500, show_default=True, help="Leads per routing batch (one state save each)."
)
@click.option("--page", default=2_000, show_default=True,
              help="Leads per account lookup in the store (an intake page).")  # fmt: skip
@click.option("--store-url", default=None,
              help="Database for the accounts (kept, and reused when it holds the same seed's "
              "accounts); default: a temporary SQLite file.")  # fmt: skip
@one_line_errors
def routing(as_json: bool, seed: int, reps: int, pools: int, rules: int, accounts: int, leads: int,
            batch: int, page: int, store_url: str | None) -> None:  # fmt: skip
    """Benchmark routing as the worker does it, accounts in the store: decisions/s,
    latency, peak RSS, fairness vs roundrobin.smooth."""
    if min(reps, pools, leads, batch, page) < 1 or rules < 3 or accounts < 0:
        raise click.ClickException(
            "--reps, --pools, --leads, --batch, --page must be >= 1, --rules >= 3"
        )
    result = run_routing_bench(seed, reps, pools, rules, accounts, leads, batch, page, store_url)
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key:>30}: {value}")


@click.command()
@click.argument("count", type=click.IntRange(1, 1_000_000))
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", default=11, show_default=True, help="Random seed.")
@click.option("--spread-minutes", default=0, show_default=True,
              help="Give leads CreatedDate values spread over this many minutes before --start (0: none).")  # fmt: skip
@click.option(
    "--start",
    default="2026-11-23T15:00:00+00:00",
    show_default=True,
    help="Latest CreatedDate (ISO 8601).",
)
@one_line_errors
def leads(count: int, out: Path, seed: int, spread_minutes: int, start: str) -> None:
    """Write COUNT synthetic leads to OUT (.csv or .json) for `leadrouter simulate`."""
    from datetime import timedelta

    from devkit.commands.synthetic import lead_fields
    from worker.exports import write_csv

    rng = random.Random(seed)
    end = datetime.fromisoformat(start)
    rows = []
    for i in range(count):
        row: dict[str, Any] = {"Id": f"00QS{i:011d}"} | lead_fields(rng, [], i)
        if spread_minutes:
            row["CreatedDate"] = (
                end - timedelta(minutes=spread_minutes * (count - i) / count)
            ).isoformat()
        rows.append(row)
    if out.suffix.lower() == ".json":
        out.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    elif out.suffix.lower() == ".csv":
        columns = sorted({k for r in rows for k in r}, key=lambda k: (k != "Id", k))
        write_csv(out, columns, rows)
    else:
        raise click.ClickException(f"{out}: use a .csv or .json file name")
    click.echo(f"{count} leads written to {out}")
