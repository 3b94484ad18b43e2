"""The dry run: the next leads waiting in the intake, routed against the live org as the
worker would route them (its context building, :mod:`worker.routing.api`), and nothing
written: neither an owner to Salesforce nor a line to the store."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.engine import Engine

from worker.doctor.checks import DRY_RUN_LEADS
from worker.doctor.model import Check, fail, ok, skip
from worker.jobs.context import Caches, build_context
from worker.jobs.directory import Directory
from worker.jobs.fields import lead_fields
from worker.routing.api import route_batch
from worker.routing.model import Decision, RoutingConfig
from worker.sfdc.gateway import SimpleSalesforceGateway
from worker.store.db import session_scope
from worker.store.state_repo import load_state

NAME = "dry_run"


def dry_run(
    gateway: SimpleSalesforceGateway,
    engine: Engine,
    config: RoutingConfig,
    now: Callable[[], datetime],
    *,
    intake_user_keys: Sequence[str] = (),
    limit: int = DRY_RUN_LEADS,
) -> Check:
    directory = Directory(gateway)
    queues = directory.queue_ids(config.intake.queues)
    users = directory.users(intake_user_keys) if intake_user_keys else {}
    owners = [*queues.values(), *(u.id for u in users.values() if u is not None)]
    if not owners:
        return skip(NAME, "no intake queue or user found to read leads from")
    rows = gateway.next_leads(owners, lead_fields(config), limit)
    if not rows:
        return ok(NAME, "no lead is waiting in the intake: nothing to route")
    leads = [r.lead for r in rows]
    context = build_context(
        gateway=gateway, directory=directory, config=config, leads=leads,
        caches=Caches(), engine=engine, now=now,
    )  # fmt: skip
    with session_scope(engine) as session:
        state, _ = load_state(session)
    errors: list[str] = []
    decisions, _ = route_batch(
        leads, config=config, context=context, state=state, now=now(),
        on_error=lambda lead, exc: errors.append(f"{lead.id}: {type(exc).__name__}"),
    )  # fmt: skip
    detail = f"{len(decisions)} waiting lead(s) routed, nothing written: {_summary(decisions)}"
    if errors:
        return fail(NAME, f"{detail}; the router raised on {', '.join(errors)}",
                    "export those leads, run `leadrouter simulate` on them and report the error")  # fmt: skip
    return ok(NAME, detail)


def _summary(decisions: Sequence[Decision]) -> str:
    actions = Counter(d.action for d in decisions)
    parts = [f"{n} {action}" for action, n in sorted(actions.items())]
    reps = {d.rep_key for d in decisions if d.action == "assign" and d.rep_key}
    if reps:
        parts.append(f"to {len(reps)} rep(s)")
    held = Counter(d.reason for d in decisions if d.action == "hold")
    if held:
        reason, _ = held.most_common(1)[0]
        parts.append(f"most held for: {reason}")
    return ", ".join(parts)
