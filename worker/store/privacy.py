"""Personal data in the store, and how it is erased (retention and deletion requests).

What is personal: a lead's name, e-mail and company. The journal copies them into its
snapshot columns (``lead_name``, ``lead_email`` and its domain ``lead_email_domain``,
``lead_company``) for search and the
routed fields (``lead_fields``) for What-if, the outbox
renders them into notification payloads, and a trace can quote lead values (a rule
condition reads "Company 'Acme' contains bank", account matching names the account).

What the audit keeps after erasure: the decision row itself (id, lead id, rep, owner,
pool, rule, method, status, kind, times) and the trace steps the fairness audit reads
(eligible weights, round-robin credits, candidates skipped at a cap, the pick), plus the
coarse lead attributes of the "leftover leads" check (country, source, rating,
employees), none of which identifies a person. So fairness counts do not move when a
lead is erased.

Two ways out: :func:`scrub_expired` (the retention job's work: every decision older than
``retention_days``) and :func:`scrub_lead` (a data-subject deletion request: every trace
of one lead, whatever its age). Both run the same per-row scrub, and both are idempotent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from worker.store.models import ApiUsage, JournalRow, WorkerHeartbeat

REMOVED = "[removed]"
SNAPSHOT = ("lead_name", "lead_email", "lead_company")  # personal: blanked
DERIVED = "lead_email_domain"  # the e-mail's domain (search by domain): blanked with it
KEPT_KINDS = frozenset({"eligibility", "state", "pick", "candidate"})  # the audit's steps
BATCH = 1_000
D: Any = JournalRow
HB: Any = WorkerHeartbeat


# --- scrubbing values out of text --------------------------------------------------------


def personal_values(rows: Iterable[Mapping[Any, Any]]) -> list[str]:
    """The lead's personal values found in ``rows`` (snapshot columns and the e-mail's
    local part), longest first so "Acme GmbH" is removed before "Acme"."""
    found: set[str] = set()
    for row in rows:
        for column in SNAPSHOT:
            value = str(row.get(column) or "").strip()
            if len(value) >= 2:
                found.add(value)
        local = str(row.get("lead_email") or "").partition("@")[0].strip()
        if len(local) >= 3:
            found.add(local)
    return sorted(found, key=lambda v: (-len(v), v))


def _pattern(values: Sequence[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(v) for v in values)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def scrub_text(text: str | None, values: Sequence[str]) -> str | None:
    """``text`` with every whole-word occurrence of the lead's ``values`` replaced (a
    regex is built only when one of them occurs: most texts hold none)."""
    if not text or not values:
        return text
    lowered = text.lower()
    present = [v for v in values if v.lower() in lowered]
    return _pattern(present).sub(REMOVED, text) if present else text


def _scrub_value(value: Any, values: Sequence[str]) -> Any:
    if isinstance(value, str):
        return scrub_text(value, values)
    if isinstance(value, list):
        return [_scrub_value(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, values) for k, v in value.items()}
    return value


def _only(data: Mapping[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in keys if k in data}


def _scrub_step(step: dict[str, Any], values: Sequence[str]) -> dict[str, Any]:
    """One trace step without lead values. Rule and match steps quote lead fields we
    cannot list (any field a condition names), so their details go entirely; the steps
    the fairness audit reads hold only rep keys, weights and credits and stay as they are."""
    kind = str(step.get("kind", ""))
    raw = step.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if kind in KEPT_KINDS:
        return step
    if kind == "rule" and "failed" in data:
        failed = [[str(f[0]), REMOVED] for f in data["failed"] if isinstance(f, list | tuple) and f]
        return {"kind": kind, "message": step.get("message", ""), "data": {"failed": failed}}
    if kind == "rule" and "rule" in data:
        message = f"Rule '{data['rule']}' matched"
        return {"kind": kind, "message": message, "data": _only(data, ("rule", "action"))}
    if kind == "match":
        message = f"Account matching: details {REMOVED}"
        return {"kind": kind, "message": message, "data": _only(data, ("via", "score"))}
    return {**step, "message": scrub_text(str(step.get("message", "")), values),
            "data": _scrub_value(data, values)}  # fmt: skip


def scrub_trace(trace: str | None, values: Sequence[str]) -> str:
    """The journal trace (JSON list of steps) without lead values, encoded like the
    worker encodes it (the fairness audit's fast path reads that exact layout)."""
    try:
        steps = json.loads(trace or "[]")
    except ValueError:
        return "[]"
    if not isinstance(steps, list):
        return "[]"
    cleaned = [_scrub_step(s, values) for s in steps if isinstance(s, dict)]
    return json.dumps(cleaned, ensure_ascii=False, sort_keys=True)


# --- the journal ---------------------------------------------------------------------------

_COLUMNS = (D.id, D.lead_name, D.lead_email, D.lead_email_domain, D.lead_company, D.lead_fields,
            D.trace, D.reason, D.error)  # fmt: skip


def _scrubbed(row: Mapping[Any, Any], values: Sequence[str]) -> dict[str, Any]:
    return {
        "b_id": row["id"],
        "lead_name": None,
        "lead_email": None,
        DERIVED: None,
        "lead_company": None,
        "lead_fields": None,
        "trace": scrub_trace(row["trace"], values),
        "reason": scrub_text(row["reason"], values) or "",
        "error": scrub_text(row["error"], values),
    }


def _changed(row: Mapping[Any, Any], new: Mapping[str, Any]) -> bool:
    return any(row[k] != new[k] for k in ("lead_name", "lead_email", "lead_email_domain",
                                         "lead_company", "lead_fields", "trace", "reason",
                                         "error"))  # fmt: skip


def scrub_decisions(
    session: Session, where: ColumnElement[bool], values: Sequence[str] | None = None
) -> int:
    """Blank the snapshot and scrub trace, reason and error of the decisions ``where``
    selects, in batches; ``values``: the lead values to remove (default: each row's own).
    Returns how many rows changed (0 when run again)."""
    changed, last = 0, 0
    stmt = update(JournalRow).where(D.id == bindparam("b_id"))
    while True:
        rows = session.execute(
            select(*_COLUMNS).where(where, D.id > last).order_by(D.id).limit(BATCH)
        ).mappings().all()  # fmt: skip
        if not rows:
            return changed
        last = rows[-1]["id"]
        params = []
        for row in rows:
            own = values if values is not None else personal_values([row])
            new = _scrubbed(row, own)
            if _changed(row, new):
                params.append(new)
        if params:
            session.connection().execute(stmt, params)
        changed += len(params)


def has_snapshot() -> ColumnElement[bool]:
    """Rows whose snapshot still holds personal data (not yet scrubbed)."""
    return or_(*(getattr(D, c).is_not(None) for c in (*SNAPSHOT, DERIVED, "lead_fields")))


# --- one lead: a deletion request -----------------------------------------------------------


@dataclass
class PurgeCounts:
    """Rows changed or deleted per table."""

    tables: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, count: int) -> None:
        self.tables[table] = self.tables.get(table, 0) + count

    @property
    def total(self) -> int:
        return sum(self.tables.values())


@dataclass(frozen=True)
class LeadTraces:
    """What the journal knows of one lead: its decision ids and personal values."""

    decision_ids: tuple[int, ...]
    values: tuple[str, ...]


def lead_traces(session: Session, lead: str) -> LeadTraces:
    cols = (D.id, D.lead_name, D.lead_email, D.lead_company)
    rows = session.execute(select(*cols).where(D.lead_id == lead)).mappings().all()
    return LeadTraces(tuple(int(r["id"]) for r in rows), tuple(personal_values(rows)))


def _scrub_heartbeats(session: Session, values: Sequence[str]) -> int:
    if not values:
        return 0
    hit = or_(*(func.lower(HB.last_error).contains(v.lower()) for v in values))
    rows = session.execute(select(HB.worker_id, HB.last_error).where(hit)).all()
    for worker_id, error in rows:
        session.execute(
            update(WorkerHeartbeat)
            .where(HB.worker_id == worker_id)
            .values(last_error=scrub_text(error, values))
        )
    return len(rows)


def scrub_lead(session: Session, lead: str, found: LeadTraces) -> PurgeCounts:
    """Erase one lead's personal data from the journal (snapshot, trace, reason and
    error of each of its decisions) and from worker errors quoting it. The decisions
    stay, so fairness counts are unchanged; the outbox is the notifier's part
    (:func:`worker.notify.outbox.purge_lead_messages`). Idempotent."""
    counts = PurgeCounts()
    counts.add("decision", scrub_decisions(session, D.lead_id == lead, found.values))
    counts.add("worker_heartbeat", _scrub_heartbeats(session, found.values))
    return counts


# --- retention ------------------------------------------------------------------------------


def scrub_expired(session: Session, cutoff: datetime) -> PurgeCounts:
    """The store's part of retention: scrub decisions decided before ``cutoff`` and
    delete the API usage samples taken before it (the outbox is purged separately)."""
    counts = PurgeCounts()
    counts.add("decision", scrub_decisions(session, and_(D.decided_at < cutoff, has_snapshot())))
    usage = session.execute(delete(ApiUsage).where(ApiUsage.at < cutoff))  # type: ignore[arg-type]
    counts.add("api_usage", int(usage.rowcount or 0))  # type: ignore[attr-defined]
    return counts
