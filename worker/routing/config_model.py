"""The validated routing config as frozen value types (built by
``worker.routing_config``; never parsed here). Re-exported by :mod:`worker.routing.model`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

# ---------------------------------------------------------------------------------------
# Routing config (built by worker.routing_config; never parsed here)
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
    sla: SlaPolicy | None = None  # wins over the pool's SLA and the default


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
    """What a rep gets back after being *away*: out of office, on a public holiday,
    switched off or inactive in Salesforce, within its working hours (a cap or the hours
    outside its working hours are not an absence and earn nothing).

    ``forgive`` (default): nothing; it resumes at its fair share. ``full``: its weighted
    share of every lead the pool assigned meanwhile, the catch-up leads included, paid as
    at most every other lead; once paid back its count equals its weighted share of all
    the period's leads within one lead. ``capped``: as full, with at most ``per_day``
    catch-up leads per local day. Defined precisely in :mod:`worker.routing.round_robin`.
    """

    policy: Literal["forgive", "full", "capped"] = "forgive"
    per_day: int = 0


@dataclass(frozen=True, slots=True)
class Target:
    """A reference to a rep, a pool, a queue (developer name), "hold", or (SLA escalation
    only) "manager": the lead owner's manager in Salesforce."""

    kind: Literal["rep", "pool", "queue", "hold", "manager"]
    name: str | None = None


BreachAction = Literal["reassign", "remind", "escalate"]


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """How long an owner has for a first touch, and what a miss leads to.

    ``on_breach``: ``reassign`` (another rep of the pool), ``remind`` (tell the owner, keep
    the lead, start a new window) or ``escalate`` (at once). ``max_hops`` re-assignments or
    reminders come first, then the escalation. ``escalate_to``: a rep, pool or queue takes
    the lead; ``manager`` (also when None) tells the owner's manager and keeps the lead.
    """

    minutes: int
    working_hours_only: bool = False
    untouched_statuses: frozenset[str] = frozenset({"Open - Not Contacted"})
    max_hops: int = 2
    escalate_to: Target | None = None
    on_breach: BreachAction = "reassign"


# Every routed lead gets a clock: this one when neither its rule, its pool nor the config's
# top-level ``sla:`` sets one. It never moves a lead: a miss reminds the owner and tells
# their manager.
DEFAULT_SLA = SlaPolicy(minutes=60, working_hours_only=True, on_breach="escalate")


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
class Subscribe:
    """``intake.subscribe``: how change events are taken in (``intake.mode: subscribe``)."""

    channel: str = "/data/LeadChangeEvent"  # or a custom channel (e.g. one with a filter)
    window_seconds: float = 0.2  # events arriving within this window are routed together
    max_batch: int = 200  # a batch is routed at once when it reaches this many events
    sweep_seconds: float = 300.0  # the poll, kept as a reconciliation sweep, runs this often


@dataclass(frozen=True, slots=True)
class Intake:
    queues: tuple[str, ...] = ("Lead_Intake",)
    business_hours: BusinessHours | None = None
    mode: str = "poll"  # poll | subscribe (LEADROUTER_INTAKE_MODE, when set, wins)
    subscribe: Subscribe = Subscribe()


@dataclass(frozen=True, slots=True)
class Writeback:
    reason_field: str | None = None
    # write each owner only if the lead is unmodified since the owner re-read (Composite
    # of conditional sObject Rows PATCHes, 25 per API call). False is an opt-out that
    # writes 200 per call with no precondition and can overwrite a person's change
    conditional: bool = True


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
    sla: SlaPolicy = DEFAULT_SLA  # the SLA of a lead whose rule and pool set none
