"""What ``leadrouter doctor`` learns about an org, typed: the answers of sObject Describe,
``/limits``, the versions list, the identity URL, ``AssignmentRule`` and ``QueueSobject``.

Describe answers as the calling user sees the org: an object the user cannot read is
``404 NOT_FOUND``; a field hidden from the user by field-level security is absent from
``fields``; ``updateable`` (object and field) is what the user may edit.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from simple_salesforce.format import format_soql

from worker.sfdc.soql import chunked_in, intake_query


@dataclass(frozen=True)
class ObjectAccess:
    """One sObject as the integration user may use it (from its Describe)."""

    name: str
    readable: bool  # queryable and retrieveable
    updateable: bool
    fields: Mapping[str, bool] = field(default_factory=dict)  # lower-case name -> updateable
    # lower-case name -> the describe's ``type`` (``date``, ``datetime``, ``int``, ...)
    types: Mapping[str, str] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name.lower() in self.fields

    def can_update(self, name: str) -> bool:
        return self.fields.get(name.lower(), False)


@dataclass(frozen=True)
class ApiLimits:
    """``DailyApiRequests`` of ``/limits`` and the answer's ``Date`` (Salesforce's clock)."""

    daily_max: int
    daily_remaining: int
    server_date: datetime | None


@dataclass(frozen=True)
class Identity:
    """Who the token signs us in as (the identity URL's answer)."""

    username: str
    user_id: str
    org_id: str


@dataclass(frozen=True)
class TopicAccess:
    """The Pub/Sub API's answer to ``GetTopic``: the topic exists and we may subscribe,
    or why not (``problem``: ``unreachable``, ``unauthenticated``, ``not_found``, ...)."""

    found: bool
    can_subscribe: bool = False
    problem: str | None = None
    detail: str = ""


def object_access(describe: Mapping[str, Any]) -> ObjectAccess:
    described = [
        f for f in describe.get("fields") or [] if isinstance(f, Mapping) and f.get("name")
    ]
    return ObjectAccess(
        name=str(describe.get("name", "")),
        readable=bool(describe.get("queryable")) and bool(describe.get("retrieveable", True)),
        updateable=bool(describe.get("updateable")),
        fields={str(f["name"]).lower(): bool(f.get("updateable")) for f in described},
        types={str(f["name"]).lower(): str(f.get("type") or "") for f in described},
    )


def api_limits(answer: Mapping[str, Any], date_header: str | None) -> ApiLimits:
    daily = answer.get("DailyApiRequests") or {}
    return ApiLimits(
        daily_max=int(daily.get("Max") or 0),
        daily_remaining=int(daily.get("Remaining") or 0),
        server_date=http_date(date_header),
    )


def http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None


def identity(answer: Mapping[str, Any]) -> Identity:
    return Identity(
        username=str(answer.get("username") or ""),
        user_id=str(answer.get("user_id") or ""),
        org_id=str(answer.get("organization_id") or ""),
    )


def versions(answer: object) -> list[str]:
    """``GET /services/data/``: ``[{"label", "url", "version"}, ...]`` -> the versions."""
    items = answer if isinstance(answer, list) else []
    return [str(v["version"]) for v in items if isinstance(v, Mapping) and v.get("version")]


def assignment_rules_query(sobject: str) -> str:
    return format_soql(
        "SELECT Id, Name FROM AssignmentRule WHERE SobjectType = {} AND Active = true", sobject
    )


def queue_sobjects_queries(queue_ids: Sequence[str]) -> list[str]:
    return [
        format_soql("SELECT QueueId, SobjectType FROM QueueSobject WHERE QueueId IN {}", chunk)
        for chunk in chunked_in(queue_ids)
    ]


def next_leads_query(owner_ids: Sequence[str], fields: Sequence[str], limit: int) -> str:
    """The first ``limit`` leads waiting in the intake owners, in the intake's order."""
    return f"{intake_query(owner_ids, None, fields)} LIMIT {int(limit)}"
