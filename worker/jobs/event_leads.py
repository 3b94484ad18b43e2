"""Leads known from their create events (``intake.mode: subscribe``), so that routing
them needs no read by Id: one API call fewer per batch of new leads.

A create event carries the new lead's fields, but not their describe types (an Avro
``int`` is a date or a number): the Lead is described once per worker (one API call,
only when subscribed) and the types kept in :attr:`worker.jobs.deps.CycleState.lead_types`.
When the describe fails, every lead is read as before (logged once); a failure in
transit (Salesforce unavailable, a reset) is asked again after :data:`DESCRIBE_RETRY`
seconds, a refusal (no access, no such object) not until the worker restarts.
What an event can stand for: :mod:`worker.sfdc.pubsub.payload`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from worker.jobs.deps import Deps
from worker.jobs.fields import lead_fields
from worker.routing.model import RoutingConfig
from worker.sfdc.errors import SfdcError, SfdcTransientError
from worker.sfdc.mapping import LeadRow
from worker.sfdc.pubsub.payload import known_leads as from_events
from worker.sfdc.pubsub.subscriber import ChangeEvent

log = logging.getLogger("leadrouter.subscribe")
DESCRIBE_RETRY = 600.0  # seconds before a describe that failed in transit is asked again


def known_leads(
    deps: Deps, events: Sequence[ChangeEvent], config: RoutingConfig
) -> dict[str, LeadRow]:
    """Lead Id -> row for the leads the batch's create events stand for (none when the
    Lead's types are not known)."""
    if not any(e.header.change_type == "CREATE" for e in events):
        return {}  # no describe for a worker that has seen no create yet
    types = lead_types(deps)
    if types is None:
        return {}
    return from_events(events, types, lead_fields(config))


def lead_types(deps: Deps) -> Mapping[str, str] | None:
    """The Lead's field types: described at the first call, then kept (a refusal too:
    no second describe, the leads are read; a failure in transit is asked again once
    :data:`DESCRIBE_RETRY` seconds have passed)."""
    state = deps.state
    retry = state.lead_types_retry_at
    if not state.lead_types_asked or (retry is not None and deps.monotonic() >= retry):
        state.lead_types_asked = True
        state.lead_types_retry_at = None
        state.lead_types = _describe(deps)
    return state.lead_types


def _describe(deps: Deps) -> Mapping[str, str] | None:
    try:
        access = deps.gateway.describe_object("Lead")
    except SfdcTransientError as exc:
        if not deps.state.lead_types_failed:  # said once until a describe succeeds
            log.warning("describing Lead failed (%s): new leads are read by Id; asked again "
                        "in %d s", type(exc).__name__, DESCRIBE_RETRY)  # fmt: skip
        deps.state.lead_types_failed = True
        deps.state.lead_types_retry_at = deps.monotonic() + DESCRIBE_RETRY
        return None
    except SfdcError as exc:
        log.warning("describing Lead failed (%s): new leads are read by Id", type(exc).__name__)
        return None
    if access is None or not access.types:
        log.warning("Lead is not described to us: new leads are read by Id")
        return None
    if deps.state.lead_types_failed:
        log.info("Lead described: new leads are taken from their create events again")
        deps.state.lead_types_failed = False
    return dict(access.types)
