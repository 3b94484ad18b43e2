"""``leadrouter bench``: synthetic workloads and benchmarks.

Subcommands are imported lazily from ``BENCH_COMMANDS``; adding one is one line here,
e.g. ``"e2e": "devkit.commands.bench_e2e:e2e"``.
"""

from __future__ import annotations

from worker.cli import LazyGroup

BENCH_COMMANDS: dict[str, str] = {
    "routing": "devkit.commands.bench_routing:routing",
    "leads": "devkit.commands.bench_routing:leads",
    "e2e": "devkit.commands.bench_e2e:e2e",
    "dashboard": "devkit.commands.bench_dashboard:dashboard",
}

bench = LazyGroup(
    name="bench",
    lazy=BENCH_COMMANDS,
    help="Benchmarks (routing core, end to end) and synthetic workloads.",
)
