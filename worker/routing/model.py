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
from typing import Literal

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


# ---------------------------------------------------------------------------------------
# Routing config (built by worker.config_loader; never parsed here)
# ---------------------------------------------------------------------------------------

ConditionOp = Literal[
    "equals",
    "not_equals",
    "in",
    "not_in",
    "starts_with",
    "contains",
    "regex",
    "between",
    "is_blank",
    "not_blank",
]
CONDITION_OPS: tuple[str, ...] = (
    "equals",
    "not_equals",
    "in",
    "not_in",
    "starts_with",
    "contains",
    "regex",
    "between",
    "is_blank",
    "not_blank",
)


@dataclass(frozen=True, slots=True)
class Condition:
    """One test on a lead field.

    ``value``: a string/number for equals/starts_with/contains/regex, a tuple for
    in/not_in, a ``(low, high)`` pair (either may be None) for between (inclusive), None
    for is_blank/not_blank. String comparisons are case-insensitive; ``Country`` and
    ``State`` are normalised to ISO codes on both sides before comparing.
    """

    field: str
    op: ConditionOp
    value: object = None


@dataclass(frozen=True, slots=True)
class Rule:
    """An ordered routing rule; the first matching rule wins.

    ``conditions`` empty means "always" (the default rule). ``territory`` (optional)
    additionally requires the lead to fall in that territory. ``action``:
    ``pool`` (route to ``pool``), ``territory`` (route to the pool of the lead's
    territory), ``account_owner`` (route to the matched account's active owner, else fall
    through), ``hold`` (leave in the intake queue) or ``stop`` (never route).
    """

    name: str
    action: Literal["pool", "territory", "account_owner", "hold", "stop"]
    conditions: tuple[Condition, ...] = ()
    match: Literal["all", "any"] = "all"
    territory: str | None = None
    pool: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Band:
    """Inclusive numeric band; None = open end."""

    low: float | None = None
    high: float | None = None


@dataclass(frozen=True, slots=True)
class Territory:
    """A named region/segment mapped to a pool. A lead is in the territory when every
    non-empty criterion matches. Overlaps are resolved by ``priority`` (higher wins)."""

    name: str
    pool: str
    priority: int = 0
    countries: frozenset[str] = frozenset()  # ISO 3166-1 alpha-2
    states: frozenset[str] = frozenset()  # ISO 3166-2 subdivision codes, e.g. "US-CA"
    postal_prefixes: tuple[str, ...] = ()
    postal_ranges: tuple[tuple[str, str], ...] = ()
    industries: frozenset[str] = frozenset()  # lower-cased
    employees: Band | None = None
    revenue: Band | None = None


@dataclass(frozen=True, slots=True)
class TimeBlock:
    """A working block in minutes since local midnight, ``start < end <= 1440``."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive local dates (the rep's time zone)."""

    start: date
    end: date


@dataclass(frozen=True, slots=True)
class Caps:
    per_hour: int | None = None
    per_day: int | None = None
    max_open: int | None = None


@dataclass(frozen=True, slots=True)
class Rep:
    """A configured rep. ``working_hours`` is None for "always available" or 7 tuples of
    blocks, Monday first. ``holidays`` is a country (or ``CC-SUBDIV``) code for the
    ``holidays`` calendar."""

    key: str
    name: str
    timezone: str = "UTC"
    weight: float = 1.0
    caps: Caps = Caps()
    tags: frozenset[str] = frozenset()
    working_hours: tuple[tuple[TimeBlock, ...], ...] | None = None
    holidays: str | None = None
    out_of_office: tuple[DateRange, ...] = ()
    enabled: bool = True
    disabled_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PoolMember:
    rep: str
    weight: float | None = None  # None: the rep's own weight
    caps: Caps = Caps()  # per rep per pool


@dataclass(frozen=True, slots=True)
class CatchUp:
    """What a rep gets back after being unavailable or capped.

    ``forgive``: nothing (default). ``full``: every lead missed while away is paid back,
    interleaved with normal picks. ``capped``: as full, but at most ``per_day`` extra
    leads per local day.
    """

    policy: Literal["forgive", "full", "capped"] = "forgive"
    per_day: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """A reference to a rep, a pool, a queue (developer name) or "hold"."""

    kind: Literal["rep", "pool", "queue", "hold"]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    minutes: int
    working_hours_only: bool = False
    untouched_statuses: frozenset[str] = frozenset({"Open - Not Contacted"})
    max_hops: int = 2
    escalate_to: Target | None = None


@dataclass(frozen=True, slots=True)
class Pool:
    """A group of reps sharing leads by ``method``.

    ``tags_mode``: ``ignore`` the lead's tags, ``require`` reps having all of them, or
    ``prefer`` the best overlap. ``tags_fallback`` when ``require`` leaves nobody:
    ``ignore`` (route among everyone) or ``overflow`` (follow ``fallback``).
    ``fallback``: the overflow chain tried in order when nobody is eligible; an empty
    chain ends in hold.
    """

    name: str
    members: tuple[PoolMember, ...]
    method: Literal["weighted_round_robin", "round_robin", "least_loaded"] = "weighted_round_robin"
    least_loaded_weighted: bool = False
    tags_mode: Literal["ignore", "require", "prefer"] = "ignore"
    tags_fallback: Literal["ignore", "overflow"] = "overflow"
    catch_up: CatchUp = CatchUp()
    fallback: tuple[Target, ...] = ()
    sla: SlaPolicy | None = None
    label: str | None = None


@dataclass(frozen=True, slots=True)
class TagRule:
    """Gives a lead ``tag`` when its conditions match, or, with ``field`` set, the tag
    ``prefix + value`` (lower-cased) of that field (e.g. ``lang:de`` from ``Language__c``)."""

    tag: str | None = None
    conditions: tuple[Condition, ...] = ()
    match: Literal["all", "any"] = "all"
    field: str | None = None
    prefix: str = ""


@dataclass(frozen=True, slots=True)
class AccountMatching:
    enabled: bool = True
    by_known_email: bool = True
    by_email_domain: bool = True
    by_website: bool = True
    by_name: bool = True
    fuzzy_threshold: float = 90.0  # rapidfuzz token_sort_ratio, 0..100
    corroborate_with: frozenset[str] = frozenset({"domain", "country", "phone"})
    route_to_owner: bool = True  # matched active owner gets the lead before the rules


@dataclass(frozen=True, slots=True)
class BusinessHours:
    timezone: str = "UTC"
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    start: int = 0  # minutes since midnight
    end: int = 1440


@dataclass(frozen=True, slots=True)
class Intake:
    queues: tuple[str, ...] = ("Lead_Intake",)
    business_hours: BusinessHours | None = None


@dataclass(frozen=True, slots=True)
class Writeback:
    reason_field: str | None = None


@dataclass(frozen=True, eq=False)
class RoutingConfig:
    """The validated, frozen routing config. Compared and hashed by identity (the core
    memoises compiled rules per config object)."""

    reps: Mapping[str, Rep]
    pools: Mapping[str, Pool]
    rules: tuple[Rule, ...]
    territories: tuple[Territory, ...] = ()  # sorted by priority, highest first
    lead_tags: tuple[TagRule, ...] = ()
    account_matching: AccountMatching = AccountMatching()
    intake: Intake = Intake()
    writeback: Writeback = Writeback()
    retention_days: int = 90
    source: str | None = None  # file it was loaded from, for messages


# ---------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------

Action = Literal["assign", "hold", "stop"]


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One explained step. ``kind`` is one of: match, rule, territory, tags, pool,
    candidate, pick, fallback, decision. ``data`` is JSON-serialisable."""

    kind: str
    message: str
    data: Mapping[str, object] = field(default_factory=dict)


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
    eligible_weights: Mapping[str, float] = field(default_factory=dict)
    account_id: str | None = None
