"""Driving the org from outside the API (no API-usage counting): tests, demo, soak, bench.

:class:`SandboxAdmin` works in-process; :class:`RemoteAdmin` offers the same methods over
the authenticated ``/__sandbox/<op>`` endpoint for a sandbox running in another process.
"""

from __future__ import annotations

import hashlib
import random
import threading
from typing import Any

from devkit.sandbox import access
from devkit.sandbox.auth import Sessions
from devkit.sandbox.faults import FaultConfig
from devkit.sandbox.leadgen import DataFactory
from devkit.sandbox.org import Org
from devkit.sandbox.replication import PURGED_AT
from devkit.sandbox.schema import ACCOUNT, ASSIGNMENT_RULE, CONTACT, LEAD, OPPORTUNITY, TASK, USER
from devkit.sandbox.seed import create_leads, ensure_queue_holds_leads
from devkit.sandbox.sobjects import render_record
from devkit.sandbox.store import Row
from devkit.sandbox.values import DmlError
from worker.sfdc.ids import MalformedId, normalise

VERSION = "59.0"

# Methods callable through the admin endpoint (name -> accepted keyword arguments).
OPS = (
    "set_faults", "faults", "fault_counts", "set_api_limit", "reset_api_usage", "api_calls",
    "create_leads", "change_owner", "log_task", "set_lead_status", "convert_lead", "delete_lead",
    "undelete_lead",
    "deactivate_user", "activate_user", "get_lead", "leads", "intake_queue_id", "user_ids",
    "set_assignment_rule", "expire_sessions", "simulate_activity", "issue_token",
    "merge_accounts", "purge_deleted",
    "set_access", "access", "set_clock_skew", "set_queue_holds_leads", "set_cdc",
    "event_deliveries",
)  # fmt: skip


def neglected(lead_id: str, owner_id: str, share: float) -> bool:
    """Whether this owner never works this lead: a stable ``share`` of (lead, owner) pairs."""
    digest = hashlib.sha256(f"{lead_id}:{owner_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") < share * 2**32


class SandboxAdmin:
    def __init__(self, org: Org, sessions: Sessions, *, seed: int = 0) -> None:
        self.org = org
        self.sessions = sessions
        self._seed = seed
        self._factory: DataFactory | None = None
        self._factory_lock = threading.Lock()
        self.bus: Any = None  # the Pub/Sub server's EventBus, when the sandbox serves one

    def call(self, op: str, params: dict[str, Any]) -> Any:
        if op not in OPS:
            raise KeyError(f"unknown admin operation '{op}'")
        return getattr(self, op)(**params)

    # --- faults and limits ---------------------------------------------------------------
    def set_faults(
        self, config: FaultConfig | dict[str, Any] | None = None, **rates: Any
    ) -> dict[str, Any]:
        """Replace the fault settings (a FaultConfig, a dict, or keyword rates)."""
        if isinstance(config, dict) or config is None:
            config = FaultConfig.from_dict({**(config or {}), **rates})
        self.org.faults.configure(config)
        return config.to_dict()

    def faults(self) -> dict[str, Any]:
        return self.org.faults.config.to_dict()

    def fault_counts(self) -> dict[str, int]:
        return dict(self.org.faults.counts)

    def set_api_limit(self, limit: int) -> None:
        self.org.set_usage(self.org.api_used(), limit)

    def reset_api_usage(self, used: int = 0) -> None:
        self.org.set_usage(used)

    def api_calls(self) -> int:
        """API calls counted today against the daily allocation."""
        return self.org.api_used()

    def event_deliveries(self) -> int:
        """Change events delivered to subscribers in the rolling 24-hour window (the
        Pub/Sub delivery allocation's count); 0 when no Pub/Sub server runs."""
        return self.bus.deliveries() if self.bus is not None else 0

    def expire_sessions(self) -> int:
        """Revoke every access token (the next call answers 401 INVALID_SESSION_ID)."""
        return self.sessions.revoke_all()

    def issue_token(self) -> str:
        uid = self.org.integration_user_id
        assert uid is not None
        return self.sessions.issue(uid)

    # --- reading -------------------------------------------------------------------------
    def intake_queue_id(self) -> str:
        qid = self.org.intake_queue_id
        assert qid is not None
        return qid

    def user_ids(self) -> dict[str, str]:
        """Lower-cased e-mail -> User Id."""
        return self.org.user_ids_by_email()

    def get_lead(self, lead_id: str) -> dict[str, Any]:
        row = self.org.store.get_any(_id(lead_id))
        if row is None:
            raise LookupError(f"no lead {lead_id}")
        return render_record(LEAD, row, VERSION)

    def leads(self, include_deleted: bool = False) -> list[dict[str, Any]]:
        return [
            render_record(LEAD, r, VERSION)
            for r in self.org.store.rows("Lead", include_deleted=include_deleted)
        ]

    # --- writing (as people in the org, not through the API) ----------------------------
    def create_leads(self, count: int, owner_id: str | None = None) -> list[str]:
        """Create ``count`` realistic leads now (owned by the intake queue unless told)."""
        with self._factory_lock:
            if self._factory is None:
                self._factory = DataFactory(self._seed + 1)
            ids = create_leads(self.org, self._factory, int(count))
        if owner_id:
            for lead_id in ids:
                self.change_owner(lead_id, owner_id)
        return ids

    def change_owner(self, lead_id: str, owner_id: str, by: str | None = None) -> None:
        """A human reassigns the lead (bumps LastModifiedDate and SystemModstamp)."""
        self._update(lead_id, {"OwnerId": owner_id}, by)

    def set_lead_status(self, lead_id: str, status: str, by: str | None = None) -> None:
        self._update(lead_id, {"Status": status}, by)

    def log_task(
        self,
        lead_id: str,
        subject: str = "Call",
        status: str = "Completed",
        activity_date: str | None = None,
        by: str | None = None,
    ) -> str:
        """A rep logs an activity on the lead; a closed Task sets the lead's LastActivityDate."""
        lead = self.get_lead(lead_id)
        actor = by or lead["OwnerId"]
        values = {"WhoId": lead["Id"], "Subject": subject, "Status": status, "Type": "Call",
                  "ActivityDate": activity_date or self.org.clock().date().isoformat(), "OwnerId": actor if str(actor).startswith("005") else self.org.integration_user_id}  # fmt: skip
        with self.org.txn(actor if str(actor).startswith("005") else None) as txn:
            return str(self._dml(lambda: txn.create(TASK, values))["Id"])

    def convert_lead(self, lead_id: str) -> str:
        """Convert the lead into a new Account + Contact; returns the Account Id."""
        with self.org.txn() as txn:
            lead = dict(self._dml(lambda: txn.existing(LEAD, lead_id)))
            if lead.get("IsConverted"):
                raise ValueError(f"lead {lead_id} is already converted")
            owner = lead["OwnerId"] if str(lead["OwnerId"]).startswith("005") else txn.actor
            account = txn.create(
                ACCOUNT, {"Name": lead["Company"], "Website": lead.get("Website"), "OwnerId": owner}
            )
            contact = txn.create(
                CONTACT,
                {
                    "FirstName": lead.get("FirstName"),
                    "LastName": lead["LastName"],
                    "Email": lead.get("Email"),
                    "AccountId": account["Id"],
                    "OwnerId": owner,
                },
            )
            txn.update(LEAD, lead["Id"], {"IsConverted": True, "Status": "Closed - Converted", "ConvertedDate": txn.now.date().isoformat(),
                                          "ConvertedAccountId": account["Id"], "ConvertedContactId": contact["Id"]}, system=True)  # fmt: skip
            return str(account["Id"])

    def delete_lead(self, lead_id: str) -> None:
        with self.org.txn() as txn:
            self._dml(lambda: txn.delete(LEAD, lead_id))

    def undelete_lead(self, lead_id: str) -> None:
        with self.org.txn() as txn:
            self._dml(lambda: txn.undelete(LEAD, lead_id))

    def merge_accounts(self, master_id: str, loser_ids: list[str]) -> None:
        """Merge accounts as Salesforce does: the losers are deleted (``MasterRecordId``
        names the master), their contacts and opportunities move to the master, and the
        master counts as modified."""
        master = _id(master_id)
        losers = [_id(i) for i in loser_ids]
        with self.org.txn() as txn:
            self._dml(lambda: txn.update(ACCOUNT, master, {}))
            for obj in (CONTACT, OPPORTUNITY):
                for row in self.org.store.rows(obj.name):
                    if row.get("AccountId") in losers:
                        self._dml(
                            lambda r=row, o=obj: txn.update(o, r["Id"], {"AccountId": master})
                        )
            for loser in losers:
                self._dml(lambda i=loser: txn.delete(ACCOUNT, i))
                txn.touch(loser, {"MasterRecordId": master})

    def purge_deleted(self, sobject: str = "Account") -> int:
        """Empty the Recycle Bin of ``sobject``: its deleted records are gone for good,
        and Get Deleted no longer reaches back before now. Returns how many."""
        with self.org.store.lock:
            ids = [r["Id"] for r in self.org.store.rows(sobject, include_deleted=True)
                   if r.get("IsDeleted")]  # fmt: skip
            self.org.store.purge(ids)
            self.org.store.set_meta(PURGED_AT + sobject, self.org.clock().isoformat())
        return len(ids)

    def deactivate_user(self, user: str) -> None:
        self._set_active(user, False)

    def activate_user(self, user: str) -> None:
        self._set_active(user, True)

    def set_assignment_rule(self, on: bool = True, owner_id: str | None = None) -> None:
        """Switch the sandbox lead assignment rule (everything -> the intake queue by
        default); the ``AssignmentRule`` record shows it as active or not."""
        self.org.store.set_meta(
            "assignment_rule_owner", (owner_id or self.org.intake_queue_id) if on else None
        )
        rule_id = self.org.store.meta.get("assignment_rule_id")
        with self.org.txn() as txn:
            if rule_id is None:
                values = {"Name": "Standard", "SobjectType": "Lead", "Active": bool(on)}
                rule_id = txn.create(ASSIGNMENT_RULE, values, system=True)["Id"]
            else:
                txn.update(ASSIGNMENT_RULE, rule_id, {"Active": bool(on)}, system=True)
        self.org.store.set_meta("assignment_rule_id", rule_id)

    # --- how the org is set up (what `leadrouter doctor` checks) ---------------------------
    def set_access(self, **settings: Any) -> dict[str, Any]:
        """What the integration user may see and edit (see :mod:`devkit.sandbox.access`):
        ``hidden_objects``, ``readonly_objects`` (lists of sObjects), ``hidden_fields``,
        ``readonly_fields`` ({sObject: [field, ...]}); nothing given = full access."""
        access.from_dict(settings)  # refuses unknown objects and fields
        self.org.store.set_meta(access.META_KEY, settings or None)
        return settings

    def access(self) -> dict[str, Any]:
        return dict(self.org.store.meta.get(access.META_KEY) or {})

    def set_clock_skew(self, seconds: float = 0.0) -> None:
        """Salesforce's clock (its answers' ``Date`` header) runs ``seconds`` ahead of
        this machine's (behind when negative)."""
        self.org.store.set_meta("clock_skew_seconds", float(seconds))

    def set_cdc(self, entities: list[str] | None = None) -> None:
        """The entities selected for Change Data Capture (default: Lead); an empty list
        selects none: ``/data/LeadChangeEvent`` is then not found on the Pub/Sub API."""
        chosen = ["Lead"] if entities is None else list(entities)
        unknown = [e for e in chosen if e != "Lead"]
        if unknown:
            raise ValueError(f"the sandbox models change events for Lead only, not {unknown}")
        self.org.store.set_meta("cdc_entities", chosen)

    def set_queue_holds_leads(self, on: bool = True) -> None:
        """Whether the intake queue lists Lead among its supported objects."""
        current = self.org.store.meta.get("intake_queue_sobject")
        if on:
            ensure_queue_holds_leads(self.org, again=True)
        elif current:
            with self.org.store.lock:
                self.org.store.purge([current])
                self.org.store.set_meta("intake_queue_sobject", "")

    def simulate_activity(
        self,
        fraction: float = 0.1,
        seed: int | None = None,
        neglect: float = 0.0,
        idle: list[str] | None = None,
    ) -> dict[str, int]:
        """Reps work a ``fraction`` of their open leads: log a call, move the status on.

        A ``neglect`` share of (lead, owner) pairs is never worked by that owner (drawn
        from a hash of the two Ids, so the same pairs every round), and the ``idle`` reps
        (e-mail addresses) work none of theirs: those leads miss their response time and
        the router's SLA moves them to someone who does work them."""
        rng = random.Random(seed)
        by_email = self.org.user_ids_by_email()
        idle_ids = {by_email[e.lower()] for e in idle or () if e.lower() in by_email}
        open_leads = [
            r
            for r in self.org.store.rows("Lead")
            if not r["IsConverted"]
            and str(r["OwnerId"]).startswith("005")
            and r["Status"] == "Open - Not Contacted"
        ]
        touched = {"calls": 0, "status_changes": 0}
        for row in open_leads:
            if row["OwnerId"] in idle_ids or neglected(
                str(row["Id"]), str(row["OwnerId"]), neglect
            ):
                continue
            if rng.random() >= fraction:
                continue
            self.log_task(row["Id"], subject="Call", by=row["OwnerId"])
            touched["calls"] += 1
            if rng.random() < 0.7:
                self.set_lead_status(row["Id"], "Working - Contacted", by=row["OwnerId"])
                touched["status_changes"] += 1
        return touched

    # --- helpers -------------------------------------------------------------------------
    def _update(self, lead_id: str, values: dict[str, Any], by: str | None) -> None:
        with self.org.txn(by) as txn:
            self._dml(lambda: txn.update(LEAD, lead_id, values))

    def _set_active(self, user: str, active: bool) -> None:
        uid = self.org.user_ids_by_email().get(user.lower()) if "@" in user else _id(user)
        if uid is None:
            raise LookupError(f"no user {user}")
        with self.org.txn() as txn:
            self._dml(lambda: txn.update(USER, uid, {"IsActive": active}))

    @staticmethod
    def _dml(action: Any) -> Row:
        try:
            result: Row = action()
            return result
        except DmlError as err:
            raise ValueError(f"{err.code}: {err.message}") from None


def _id(value: str) -> str:
    try:
        return normalise(value)
    except MalformedId:
        raise ValueError(f"malformed Id: {value}") from None
