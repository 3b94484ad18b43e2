"""``leadrouter bench routing``: throughput, latency, memory and fairness of the routing
core on a synthetic workload, with the PyPI ``roundrobin`` package's smooth weighted
round-robin as a fairness baseline; ``leadrouter bench leads``: write a leads file."""

from __future__ import annotations

import gc
import json
import random
import resource
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from worker.commands._common import one_line_errors

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # a Monday afternoon in Europe


def _percentile(sorted_ns: list[int], q: float) -> float:
    return sorted_ns[min(len(sorted_ns) - 1, int(q * len(sorted_ns)))] / 1000.0


def _baseline_deviation(weights: dict[str, float], n: int) -> float:
    import roundrobin

    from worker.routing import max_prefix_deviation

    nxt = roundrobin.smooth(list(weights.items()))
    return max_prefix_deviation([nxt() for _ in range(n)], weights)


def run_routing_bench(seed: int, reps: int, pools: int, rules: int, accounts: int, leads: int,
                      batch: int) -> dict[str, Any]:  # fmt: skip
    from worker.commands.synthetic import make_workload
    from worker.routing import AccountIndex, RoutingContext, empty_state, max_prefix_deviation
    from worker.routing.engine import Router
    from worker.routing.normalise import warm_up

    t0 = time.perf_counter()
    w = make_workload(seed, reps, pools, rules, accounts, leads)
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = AccountIndex.build(w.accounts)
    index_s = time.perf_counter() - t0
    context = RoutingContext(accounts=w.accounts, reps=w.statuses, account_index=index)
    t0 = time.perf_counter()
    warm_up()
    warm_s = time.perf_counter() - t0
    # Long-lived inputs (accounts, index, leads) need no cyclic-GC scans: the worker
    # freezes what survives each busy cycle too (worker.jobs.heap).
    gc.collect()
    gc.freeze()
    state = empty_state()
    timings: list[int] = []
    sequences: dict[str, list[str]] = {p: [] for p in w.stable_pools}
    actions: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    clock = time.perf_counter_ns
    start = time.perf_counter()
    cpu_start = time.process_time()
    for i in range(0, len(w.leads), batch):
        router = Router(w.config, context, state, NOW)
        for lead in w.leads[i : i + batch]:
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
    timings.sort()
    ours, base = 0.0, 0.0
    for name, seq in sequences.items():
        weights = {m.rep: w.config.reps[m.rep].weight for m in w.config.pools[name].members}
        ours = max(ours, max_prefix_deviation(seq, weights))
        base = max(base, _baseline_deviation(weights, len(seq)))
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
        "baseline": "roundrobin.smooth (PyPI) on the same weights and sequence lengths",
        "leads": len(timings),
        "accounts": accounts,
        "reps": len(w.config.reps),
        "pools": len(w.config.pools),
        "rules": len(w.config.rules),
        "batch_size": batch,
        "stable_pool_leads": sum(len(s) for s in sequences.values()),
        "index_build_s": round(index_s, 3),
        "generate_s": round(generated, 2),
        "warm_up_s": round(warm_s, 3),
        "route_s": round(elapsed, 3),
        "actions": dict(actions),
        "methods": dict(methods),
    }


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
@one_line_errors
def routing(as_json: bool, seed: int, reps: int, pools: int, rules: int, accounts: int, leads: int,
            batch: int) -> None:  # fmt: skip
    """Benchmark the routing core: decisions/s, latency, peak RSS, fairness vs roundrobin.smooth."""
    if min(reps, pools, leads, batch) < 1 or rules < 3 or accounts < 0:
        raise click.ClickException("--reps, --pools, --leads, --batch must be >= 1, --rules >= 3")
    result = run_routing_bench(seed, reps, pools, rules, accounts, leads, batch)
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

    from worker.commands.synthetic import lead_fields
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
