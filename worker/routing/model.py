"""Frozen value types of the routing core: inputs (leads, accounts, runtime rep facts),
the validated routing config, and the decision with its trace.

Everything here is a plain frozen dataclass over stdlib types so that the worker, the
simulator, the benchmarks and the dashboard's what-if page share one vocabulary. Mappings
are plain ``dict`` objects typed as ``Mapping``: treat them as read-only (they are kept as
dicts, not ``MappingProxyType``, so values pickle for Streamlit's cache).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, NamedTuple

from worker.routing.config_model import (  # re-exported: one vocabulary
    CONDITION_OPS,
    AccountMatching,
    Band,
    BusinessHours,
    Caps,
    CatchUp,
    Condition,
    ConditionOp,
    DateRange,
    Intake,
    Pool,
    PoolMember,
    Rep,
    RoutingConfig,
    Rule,
    SlaPolicy,
    Subscribe,
    TagRule,
    Target,
    Territory,
    TimeBlock,
    Writeback,
)

FieldValue = str | int | float | bool | None

# ---------------------------------------------------------------------------------------
# Inputs the worker reads from Salesforce
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lead:
    """A lead as read by SOQL; ``fields`` is keyed by Salesforce API name (``Email``,
    ``Country``, ``NumberOfEmployees``, custom ``X__c`` ...)."""

    id: str
    fields: Mapping[str, object]
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    website: str | None = None
    owner_id: str | None = None
    owner_active: bool = True
    employees: int | None = None
    country: str | None = None
    phone: str | None = None
    last_activity: date | None = None
    open_opportunities: int = 0


@dataclass(frozen=True, slots=True)
class KnownEmail:
    """An existing Contact or open Lead carrying an e-mail address (lower-cased)."""

    email: str
    kind: Literal["contact", "lead"]
    record_id: str
    account_id: str | None
    owner_id: str
    owner_active: bool = True


@dataclass(frozen=True, slots=True)
class RepStatus:
    """Runtime facts about a configured rep, fetched by the worker per batch.

    ``rep_key`` is the rep's lower-cased e-mail as written in the config; ``user_id`` is
    the Salesforce User Id resolved from it (None: no such user, so never assignable).
    """

    rep_key: str
    user_id: str | None
    sf_active: bool = True
    open_leads: int = 0


@dataclass(frozen=True, eq=False)
class RoutingContext:
    """Everything the core may consult about the org for one batch.

    Build once per batch: ``account_index`` (see :mod:`worker.routing.matching`) is built
    lazily from ``accounts`` on first use and reused for every lead of the batch; pass a
    prebuilt ``AccountIndex`` to share it across batches.
    """

    accounts: Sequence[Account] = ()
    known_emails: Mapping[str, Sequence[KnownEmail]] = field(default_factory=dict)
    reps: Mapping[str, RepStatus] = field(default_factory=dict)
    users_active: Mapping[str, bool] = field(default_factory=dict)
    account_index: object | None = None  # AccountIndex; typed loosely to avoid a cycle
    # set while the accounts come from an incomplete source (the account mirror's first
    # load): said in the trace of every lead that matched no account
    account_note: str = ""


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------

Action = Literal["assign", "hold", "stop"]


class TraceStep(NamedTuple):
    """One explained step. ``kind`` is one of: match, rule, territory, tags, candidate,
    state, pick, fallback, decision. ``data`` is JSON-serialisable.

    A named tuple rather than a dataclass: a decision creates several of these and
    tuples are built several times faster than frozen dataclasses.
    """

    kind: str
    message: str
    data: Mapping[str, object] = {}  # shared empty default: never mutated


@dataclass(frozen=True, slots=True)
class Decision:
    lead_id: str
    action: Action
    owner_id: str | None
    rep_key: str | None
    pool: str | None
    rule: str | None
    method: str
    reason: str
    trace: tuple[TraceStep, ...] = ()
    # the reps with a share of this lead and their weights: those eligible, plus (in a pool
    # with a catch-up policy) those away, whose share is paid back later; the fairness
    # audit's targets are built from these
    eligible_weights: Mapping[str, float] = field(default_factory=dict)
    account_id: str | None = None


__all__ = [
    "Account",
    "AccountMatching",
    "Action",
    "Band",
    "BusinessHours",
    "CONDITION_OPS",
    "Caps",
    "CatchUp",
    "Condition",
    "ConditionOp",
    "DateRange",
    "Decision",
    "FieldValue",
    "Intake",
    "KnownEmail",
    "Lead",
    "Pool",
    "PoolMember",
    "Rep",
    "RepStatus",
    "RoutingConfig",
    "RoutingContext",
    "Rule",
    "SlaPolicy",
    "Subscribe",
    "TagRule",
    "Target",
    "Territory",
    "TimeBlock",
    "TraceStep",
    "Writeback",
]
