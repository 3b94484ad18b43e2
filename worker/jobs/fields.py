"""The Lead fields the worker selects: its bookkeeping fields, the lead details the
journal keeps (and notifications quote), and every field the effective routing config
reads (:func:`worker.routing.fields.routing_fields`: rules, tags, account matching and
its corroboration, territories). Derived here only, from the config of the cycle."""

from __future__ import annotations

from worker.jobs.records import JOURNAL_FIELDS
from worker.routing.fields import routing_fields
from worker.routing.model import RoutingConfig

BOOKKEEPING = (
    "Id",
    "OwnerId",
    "Status",
    "IsConverted",
    "CreatedDate",
    "SystemModstamp",
    "LastActivityDate",
)


def lead_fields(config: RoutingConfig) -> tuple[str, ...]:
    """The SELECT list for leads, without duplicates (Salesforce field names are
    case-insensitive: the first spelling wins)."""
    names = [*BOOKKEEPING, *JOURNAL_FIELDS, *routing_fields(config)]
    lower: dict[str, str] = {}
    for name in names:
        if name and name[0].isalpha() and name.replace("_", "").isalnum():
            lower.setdefault(name.lower(), name)
    return tuple(lower.values())
