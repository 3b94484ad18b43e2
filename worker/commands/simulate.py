"""``leadrouter simulate``: route a file of leads through a config without Salesforce and
print a fairness summary per pool."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from worker.commands._common import one_line_errors

if TYPE_CHECKING:
    from worker.routing import (
        Decision,
        Lead,
        RepStatus,
        RoutingConfig,
        RoutingContext,
        RoutingState,
    )


def _statuses(config: RoutingConfig, reps_file: Path | None) -> dict[str, RepStatus]:
    from worker.routing import RepStatus

    keys = list(config.reps)
    out: dict[str, RepStatus] = {
        k: RepStatus(k, f"005SIM{i:09d}", True, 0) for i, k in enumerate(keys)
    }
    if reps_file is not None:
        raw = json.loads(reps_file.read_text(encoding="utf-8"))
        for key, facts in raw.items():
            if key.lower() not in out:
                raise click.ClickException(f"{reps_file}: {key}: not a rep of the config")
            base = out[key.lower()]
            out[key.lower()] = RepStatus(
                key.lower(),
                facts.get("user_id", base.user_id),
                bool(facts.get("sf_active", True)),
                int(facts.get("open_leads", 0)),
            )
    return out


def _batches(leads: Sequence[Lead], at: datetime) -> Iterator[tuple[datetime, Sequence[Lead]]]:
    """Consecutive leads with the same instant (their CreatedDate, else ``at``) form one
    batch, as a page of the worker is decided at one instant."""
    i = 0
    while i < len(leads):
        now = leads[i].created_at or at
        j = i + 1
        while j < len(leads) and (leads[j].created_at or at) == now:
            j += 1
        yield now, leads[i:j]
        i = j


def route_all(leads: Sequence[Lead], config: RoutingConfig, context: RoutingContext,
              state: RoutingState, at: datetime) -> tuple[list[Decision], RoutingState]:  # fmt: skip
    """Route in file order through the routing core's one entry point for a sequence of
    batches (:func:`worker.routing.route_stream`), as the worker routes its pages."""
    from worker.routing import route_stream

    decisions: list[Decision] = []
    for batch, state_after in route_stream(
        _batches(leads, at), config=config, context=context, state=state
    ):
        decisions.extend(batch)
        state = state_after
    return decisions, state


def missing_fields(config: RoutingConfig, present: set[str]) -> list[str]:
    """One line per field the config reads that no lead of the input carries."""
    from worker.routing.fields import field_uses

    known = {f.lower() for f in present}
    return [
        f"warning: no lead in the input has {field}, which {', '.join(uses)} read(s): "
        "decisions that depend on it will differ from the worker's"
        for field, uses in field_uses(config).items()
        if field.lower() not in known
    ]


def _effective_config(config_path: Path | None, overrides: bool) -> RoutingConfig:
    """The effective config the worker would use: the file plus the saved overrides."""
    from worker.commands._common import settings_or_exit
    from worker.config_source import stored_overrides, stored_published
    from worker.root import config_source_for

    settings = settings_or_exit() if config_path is None or overrides else None
    path = config_path or (settings.routing_config if settings else None)
    assert path is not None
    data: dict[str, dict[str, object]] = {}
    if overrides and settings is not None:
        data, why = stored_overrides(settings.database_url)
        if data:
            click.echo(f"with the dashboard's overrides for {len(data)} rep(s)", err=True)
    published = None
    if settings is not None and config_path is None:  # the worker's config: its version too
        published, _ = stored_published(settings.database_url)
        if published is not None:
            click.echo(f"with published version {published.number}", err=True)
    effective = config_source_for(path).effective(data, published)
    for problem in effective.problems:
        click.echo(f"warning: override left out, the file's value applies: {problem}", err=True)
    return effective.routing


def summary_lines(config: RoutingConfig, decisions: Sequence[Decision]) -> list[str]:
    """Per pool: each rep's count, eligibility-adjusted target, deviation; Jain, χ² p."""
    from worker.routing import pool_fairness
    from worker.routing.members import pool_weights

    lines: list[str] = []
    for name, pool in config.pools.items():
        picked = [
            d for d in decisions if d.pool == name and d.action == "assign" and d.eligible_weights
        ]
        if not picked:
            continue
        weights = pool_weights(config, name)
        f = pool_fairness(
            name, [d.rep_key or "" for d in picked], weights, [d.eligible_weights for d in picked]
        )
        lines.append(
            f"pool {name}: {f.total} leads, {pool.method}; max |deviation| {f.max_deviation:.2f} "
            f"(at any prefix {f.max_prefix_deviation:.2f}); Jain {f.jain:.4f}; "
            f"chi-square {f.chi_square:.2f}, p = {f.p_value:.3f}"
        )
        lines.append(f"  {'rep':<42} {'weight':>6} {'count':>6} {'target':>8} {'dev':>7}")
        for r in f.reps:
            lines.append(
                f"  {r.rep:<42} {r.weight:>6.2f} {r.count:>6} {r.target:>8.1f} {r.deviation:>+7.1f}"
            )
    return lines


@click.command()
@click.argument(
    "leads_file", metavar="LEADS", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="Routing config (default: LEADROUTER_ROUTING_CONFIG).",
)
@click.option(
    "--accounts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Accounts to match against (CSV or JSON).",
)
@click.option(
    "--contacts",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Existing contacts to match e-mails against (CSV or JSON).",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Routing state JSON to start from.",
)
@click.option(
    "--reps",
    "reps_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='Rep facts JSON {"email": {"sf_active": false, "open_leads": 3}}; default: all active, none open.',
)
@click.option(
    "--at",
    "at_text",
    help="Routing instant (ISO 8601) for leads without CreatedDate; default: now.",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the decisions (.csv or .json with traces).",
)
@click.option(
    "--state-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the final routing state JSON.",
)
@click.option(
    "--overrides/--no-overrides",
    default=True,
    show_default=True,
    help="Apply the dashboard's saved overrides (from LEADROUTER_DATABASE_URL), as the worker does.",
)
@one_line_errors
def simulate(leads_file: Path, config_path: Path | None, accounts: Path | None,
             contacts: Path | None, state_path: Path | None,
             reps_file: Path | None, at_text: str | None, out: Path | None, state_out: Path | None,
             overrides: bool) -> None:  # fmt: skip
    """Route LEADS (CSV or JSON) through the routing config without touching Salesforce."""
    from worker.commands.sim_io import (
        InputError,
        read_accounts,
        read_contacts,
        read_leads,
        write_decisions,
    )
    from worker.routing import StateError, state_from_json, state_to_json
    from worker.routing.api import routing_context
    from worker.routing_config import ConfigError

    try:
        config = _effective_config(config_path, overrides)
        leads = read_leads(leads_file)
        context = routing_context(
            _statuses(config, reps_file),
            accounts=read_accounts(accounts) if accounts else (),
            known_emails=read_contacts(contacts) if contacts else (),
        )
        state = state_from_json(state_path.read_text(encoding="utf-8") if state_path else None)
        at = (
            datetime.fromisoformat(at_text.replace("Z", "+00:00")) if at_text else datetime.now(UTC)
        )
    except ConfigError as exc:
        raise click.ClickException(
            f"{len(exc.problems)} config problem(s), first: {exc.problems[0]}"
        ) from None
    except (InputError, StateError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    if at.tzinfo is None:
        raise click.ClickException("--at needs a UTC offset, e.g. 2026-11-23T15:00Z")
    present = {k for lead in leads for k, v in lead.fields.items() if v not in (None, "")}
    for line in missing_fields(config, present):
        click.echo(line, err=True)
    decisions, state = route_all(leads, config, context, state, at)
    counts: dict[str, int] = {}
    for d in decisions:
        counts[d.action] = counts.get(d.action, 0) + 1
    click.echo(
        f"{len(decisions)} leads: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    )
    for line in summary_lines(config, decisions):
        click.echo(line)
    if out is not None:
        write_decisions(out, decisions)
        click.echo(f"decisions written to {out}")
    if state_out is not None:
        state_out.write_text(state_to_json(state), encoding="utf-8")
