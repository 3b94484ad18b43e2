"""The checks, in the order they run. Each asks the org through :class:`OrgProbe` (reads
only) and judges the answer here, so the thresholds are plain functions.

The worker runs :data:`PREFLIGHT` before it starts (:func:`preflight_failure`): a check
that FAILs there stops ``leadrouter run`` with the same line ``doctor`` prints.

Thresholds (documented in ``docs/doctor.md``):

- API allocation headroom (``/limits`` ``DailyApiRequests``): warn below 20 % remaining,
  FAIL below 5 % (the worker slows, then stops, at ``LEADROUTER_API_*_SHARE``).
- Clock skew (the ``Date`` header of Salesforce's answer against this machine's clock):
  warn above 5 s, FAIL above 60 s. Working hours, caps per day and SLA clocks are read on
  this machine's clock, and a JWT assertion is refused once its ``exp`` is more than
  3 minutes off Salesforce's clock; at a minute off, SLA reminders are already a minute
  late, which is the most a configured SLA of minutes can bear.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import cast

from worker.doctor.model import Check, Status, fail, ok, skip, warn
from worker.jobs.directory import Directory
from worker.jobs.fields import lead_fields
from worker.routing.model import RoutingConfig
from worker.sfdc.errors import SfdcAuthError, SfdcConfigError, SfdcError, SfdcTransientError
from worker.sfdc.gateway import OrgProbe, SalesforceGateway
from worker.sfdc.probe import ApiLimits, Identity, ObjectAccess
from worker.sfdc.soql import ACCOUNT_FIELDS, CONTACT_FIELDS

HEADROOM_WARN, HEADROOM_FAIL = 0.20, 0.05
SKEW_WARN_S, SKEW_FAIL_S = 5.0, 60.0
DRY_RUN_LEADS = 10
READ_OBJECTS = ("User", "Group", "Account", "Contact", "Task")
PERMISSION_HINT = (
    "grant the integration user's permission set {what} (Setup → Permission Sets → Object Settings)"
)

# what `leadrouter run` refuses to start without
PREFLIGHT = ("token", "api_version", "lead_access", "fields", "intake_queues", "users")


@dataclass
class Inputs:
    """What the checks are run with (the command builds it from the settings)."""

    probe: OrgProbe
    config: RoutingConfig
    api_version: str
    now: Callable[[], datetime]  # this machine's clock (UTC)
    intake_mode: str = "poll"  # or "subscribe": change events over the Pub/Sub API
    pubsub_endpoint: str | None = None  # host:port of the Pub/Sub API
    org_id: str | None = None  # the Pub/Sub tenant id; default: the identity's
    intake_user_keys: tuple[str, ...] = ()  # LEADROUTER_INTAKE_USERS
    dry_run: Callable[[], Check] | None = None  # routes the next leads (no writes)
    _identity: list[Identity] = field(default_factory=list)
    _describes: dict[str, ObjectAccess | None] = field(default_factory=dict)
    _limits: list[ApiLimits] = field(default_factory=list)

    def describe(self, sobject: str) -> ObjectAccess | None:
        if sobject not in self._describes:
            self._describes[sobject] = self.probe.describe_object(sobject)
        return self._describes[sobject]

    def identity(self) -> Identity:
        if not self._identity:
            self._identity.append(self.probe.identity())
        return self._identity[0]

    def limits(self) -> ApiLimits:
        """``/limits`` once for both the headroom and the clock checks."""
        if not self._limits:
            self._limits.append(self.probe.org_limits())
        return self._limits[0]


# --- pure judgements ------------------------------------------------------------------
def headroom_status(daily_max: int, remaining: int) -> Status:
    if daily_max <= 0:
        return Status.FAIL
    share = remaining / daily_max
    if share < HEADROOM_FAIL:
        return Status.FAIL
    return Status.WARN if share < HEADROOM_WARN else Status.OK


def skew_status(seconds: float) -> Status:
    off = abs(seconds)
    if off > SKEW_FAIL_S:
        return Status.FAIL
    return Status.WARN if off > SKEW_WARN_S else Status.OK


def config_fields(config: RoutingConfig) -> dict[str, list[str]]:
    """sObject -> the fields the effective config has the worker read (and write)."""
    wanted: dict[str, list[str]] = {"Lead": list(lead_fields(config))}
    reason = config.writeback.reason_field
    if reason and reason.lower() not in {f.lower() for f in wanted["Lead"]}:
        wanted["Lead"].append(reason)
    matching = config.account_matching
    if matching.enabled:
        wanted["Account"] = _fields(ACCOUNT_FIELDS)
        if matching.by_known_email:  # the contact mirror's (and the lookup's) fields
            wanted["Contact"] = _fields(CONTACT_FIELDS)
    return wanted


def _fields(select_list: str) -> list[str]:
    """A SELECT list's own fields (relationship fields are another object's)."""
    return [f.strip() for f in select_list.split(",") if f.strip() and "." not in f]


# --- the checks -----------------------------------------------------------------------
def check_token(i: Inputs) -> Check:
    who = i.identity()
    return ok("token", f"signed in as {who.username or who.user_id} (org {who.org_id})")


def check_api_version(i: Inputs) -> Check:
    served = i.probe.api_versions()
    latest = max(served, key=float, default="?")
    if i.api_version in served:
        return ok("api_version", f"v{i.api_version} is served (latest v{latest})")
    return fail(
        "api_version",
        f"v{i.api_version} is not among the org's API versions (latest v{latest})",
        f"set LEADROUTER_SF_API_VERSION to a served version, e.g. {latest}",
    )


def check_lead_access(i: Inputs) -> Check:
    lead = i.describe("Lead")
    if lead is None or not lead.readable:
        return fail("lead_access", "the integration user cannot read Leads",
                    PERMISSION_HINT.format(what="Read and Edit on Lead"))  # fmt: skip
    if not lead.updateable:
        return fail("lead_access", "the integration user can read Leads but not edit them",
                    PERMISSION_HINT.format(what="Edit on Lead"))  # fmt: skip
    if not lead.has("OwnerId"):
        return fail("lead_access", "Lead.OwnerId is hidden from the integration user",
                    PERMISSION_HINT.format(what="Read and Edit on Lead.Owner"))  # fmt: skip
    if not lead.can_update("OwnerId"):
        return fail(
            "lead_access", "Lead.OwnerId is not updateable by the integration user",
            PERMISSION_HINT.format(what="Edit on Lead.Owner (and the Transfer Leads permission)"),
        )  # fmt: skip
    return ok("lead_access", "Leads readable and editable, OwnerId updateable")


def check_read_access(i: Inputs) -> Check:
    missing = [name for name in READ_OBJECTS if not _readable(i.describe(name))]
    if missing:
        return fail("read_access", f"the integration user cannot read {', '.join(missing)}",
                    PERMISSION_HINT.format(what=f"Read on {', '.join(missing)}"))  # fmt: skip
    return ok("read_access", f"{', '.join(READ_OBJECTS)} readable")


def _readable(obj: ObjectAccess | None) -> bool:
    return obj is not None and obj.readable


def check_fields(i: Inputs) -> Check:
    problems: list[str] = []
    count = 0
    for sobject, names in config_fields(i.config).items():
        obj = i.describe(sobject)
        if obj is None:
            problems.append(f"{sobject} (not readable)")
            continue
        count += len(names)
        problems += [f"{sobject}.{n}" for n in names if not obj.has(n)]
    reason = i.config.writeback.reason_field
    lead = i.describe("Lead")
    if reason and lead is not None and lead.has(reason) and not lead.can_update(reason):
        problems.append(f"Lead.{reason} (writeback.reason_field) is not updateable")
    if problems:
        where = f" in {i.config.source}" if i.config.source else ""
        return fail(
            "fields",
            f"missing or hidden by field-level security: {', '.join(problems)}",
            "grant Read (Edit for writeback.reason_field) on them in the integration user's "
            f"permission set (Field Permissions), or correct the field names{where}",
        )
    return ok("fields", f"all {count} fields the config uses exist and are readable")


def check_intake_queues(i: Inputs) -> Check:
    names = list(i.config.intake.queues)
    if not names:
        return skip("intake_queues", "the config names no intake queue (intake users only)")
    found = i.probe.queue_ids(names)
    missing = [n for n in names if n not in found]
    where = f" in {i.config.source}" if i.config.source else ""
    if missing:
        return fail(
            "intake_queues",
            f"no queue with DeveloperName {', '.join(missing)}",
            "intake.queues takes the queue's API name (Setup → Queues → the queue → "
            f"Queue Name, not its Label); correct it{where}",
        )
    holds = i.probe.queue_sobjects(list(found.values()))
    no_leads = [n for n in names if "Lead" not in holds.get(found[n], set())]
    if no_leads:
        return fail("intake_queues", f"queue(s) {', '.join(no_leads)} cannot own Leads",
                    "add Lead to the queue's Supported Objects (Setup → Queues → Edit)")  # fmt: skip
    return ok("intake_queues", f"{', '.join(names)} found, holding Leads")


def check_users(i: Inputs) -> Check:
    """The intake users (``LEADROUTER_INTAKE_USERS``) and the config's reps, looked up as
    the worker looks them up (:class:`worker.jobs.directory.Directory`)."""
    directory = Directory(cast(SalesforceGateway, i.probe))
    keys = [*i.intake_user_keys, *i.config.reps]
    users = directory.users(keys)
    unknown_intake = [k for k in i.intake_user_keys if users.get(k.lower()) is None]
    if unknown_intake:
        return fail("users", f"intake user(s) not found in Salesforce: {', '.join(unknown_intake)}",
                    "LEADROUTER_INTAKE_USERS takes users' e-mails or usernames")  # fmt: skip
    reps = list(i.config.reps)
    missing = [k for k in reps if users.get(k) is None]
    inactive = [k for k in reps if (u := users.get(k)) is not None and not u.is_active]
    if missing or inactive:
        parts = [f"not found: {', '.join(missing)}"] if missing else []
        parts += [f"inactive: {', '.join(inactive)}"] if inactive else []
        return warn("users", f"rep(s) {'; '.join(parts)} (they get no leads)",
                    "a rep's key is the e-mail or username of an active Salesforce user")  # fmt: skip
    return ok("users", f"{len(reps)} rep(s) found and active"
              + (f", {len(i.intake_user_keys)} intake user(s) found" if i.intake_user_keys else ""))  # fmt: skip


def check_assignment_rules(i: Inputs) -> Check:
    rules = i.probe.active_assignment_rules("Lead")
    if rules:
        return warn(
            "assignment_rules",
            f"active lead assignment rule {', '.join(rules)}: the worker's writes send "
            "Sforce-Auto-Assign: FALSE so it does not re-assign routed leads, but it still "
            "assigns new leads (it must send them to the intake queue)",
            "make the rule's last entry assign to the intake queue, or deactivate it",
        )
    return ok("assignment_rules", "no active lead assignment rule (writes send "
              "Sforce-Auto-Assign: FALSE anyway)")  # fmt: skip


def check_api_headroom(i: Inputs) -> Check:
    limits = i.limits()
    status = headroom_status(limits.daily_max, limits.daily_remaining)
    share = limits.daily_remaining / limits.daily_max if limits.daily_max else 0.0
    detail = (
        f"{limits.daily_remaining:,} of {limits.daily_max:,} daily API requests left ({share:.0%})"
    )
    fix = (
        "wait for the rolling 24 hours to free calls, find the integration using them "
        "(Setup → System Overview / API Usage), or buy more"
    )
    return Check("api_headroom", status, detail, "" if status is Status.OK else fix)


def check_clock_skew(i: Inputs) -> Check:
    limits = i.limits()
    here = i.now().replace(microsecond=0)  # the Date header has whole seconds
    if limits.server_date is None:
        return warn("clock_skew", "Salesforce's answer carried no Date header")
    seconds = (here - limits.server_date).total_seconds()
    status = skew_status(seconds)
    side = "ahead of" if seconds > 0 else "behind"
    detail = f"this machine's clock is {abs(seconds):.0f} s {side} Salesforce's"
    fix = "synchronise this machine's clock (NTP: timedatectl set-ntp true / chrony)"
    return Check("clock_skew", status, detail, "" if status is Status.OK else fix)


LEAD_EVENTS = "/data/LeadChangeEvent"
CDC_FIX = {
    "not_found": "select Lead in Setup → Integrations → Change Data Capture",
    "unreachable": "check LEADROUTER_SF_PUBSUB_ENDPOINT and that this machine may reach it "
    "(TLS, outbound port 7443)",
    "unauthenticated": "check LEADROUTER_SF_ORG_ID (the tenant id) and the token's instance",
    "permission_denied": "grant the integration user View All Data or the Lead object's "
    "Read access (change events follow record access)",
}


def check_change_data_capture(i: Inputs) -> Check:
    name = "change_data_capture"
    if i.intake_mode != "subscribe":
        return skip(name, f"intake mode is {i.intake_mode}: the worker polls for new leads")
    if not i.pubsub_endpoint:
        return fail(name, "intake mode is subscribe but no Pub/Sub endpoint is set",
                    "set LEADROUTER_SF_PUBSUB_ENDPOINT (api.pubsub.salesforce.com:7443)")  # fmt: skip
    tenant = i.org_id or i.identity().org_id
    topic = i.probe.change_events_topic(i.pubsub_endpoint, LEAD_EVENTS, tenant)
    if topic.found and topic.can_subscribe:
        return ok(name, f"{LEAD_EVENTS} at {i.pubsub_endpoint}: Lead change events on")
    if topic.found:
        return fail(name, f"{LEAD_EVENTS} exists but the integration user may not subscribe",
                    CDC_FIX["permission_denied"])  # fmt: skip
    problem = topic.problem or "error"
    what = {
        "not_found": "Change Data Capture is not enabled for Lead",
        "unreachable": f"the Pub/Sub endpoint {i.pubsub_endpoint} does not answer",
    }.get(problem, f"GetTopic {LEAD_EVENTS} refused ({problem})")
    return fail(name, f"{what}: {topic.detail}".rstrip(": "), CDC_FIX.get(problem, ""))


def check_dry_run(i: Inputs) -> Check:
    if i.dry_run is None:
        return skip("dry_run", "not asked for")
    return i.dry_run()


CHECKS: dict[str, Callable[[Inputs], Check]] = {
    "token": check_token,
    "api_version": check_api_version,
    "lead_access": check_lead_access,
    "read_access": check_read_access,
    "fields": check_fields,
    "intake_queues": check_intake_queues,
    "users": check_users,
    "assignment_rules": check_assignment_rules,
    "api_headroom": check_api_headroom,
    "clock_skew": check_clock_skew,
    "change_data_capture": check_change_data_capture,
    "dry_run": check_dry_run,
}
GATES = ("token", "api_version")  # when one of these fails, nothing else can be asked


def run_checks(inputs: Inputs, names: Sequence[str] | None = None) -> list[Check]:
    """The checks ``names`` (default: all), in order. An error from Salesforce fails the
    check it happened in; after a failed gate the rest are skipped."""
    out: list[Check] = []
    blocked: str | None = None
    for name in names or list(CHECKS):
        if blocked is not None:
            out.append(skip(name, f"needs a working {blocked}"))
            continue
        try:
            result = CHECKS[name](inputs)
        except SfdcConfigError as exc:
            result = fail(name, str(exc), "correct the setting the message names")
        except SfdcAuthError as exc:
            result = fail(name, f"no token: {exc}", _AUTH_FIX)
            # a token was issued, then a call said its session had expired (again, after
            # the refresh): asking again may find a good session; a refused token may not
            result = replace(result, transient=exc.error_code == "INVALID_SESSION_ID")
        except SfdcError as exc:
            if name == "token":  # the first call: it signs in, too
                result = fail(name, str(exc), _AUTH_FIX)
            else:
                result = fail(name, f"Salesforce: {exc}")
            result = replace(result, transient=isinstance(exc, SfdcTransientError))
        out.append(result)
        if result.failed and name in GATES:
            blocked = "token" if name == "token" else "API version"
    return out


_AUTH_FIX = (
    "check LEADROUTER_SF_INSTANCE_URL (your My Domain URL), the consumer key/secret or JWT "
    "key, and that the app's client credentials flow has a run-as user"
)


def preflight_key(inputs: Inputs, instance_url: str | None) -> str:
    """What the preflight's verdict depends on besides the org itself: the org, the API
    version, the fields, queues, reps and intake users (a changed config is re-checked)."""
    parts = [
        instance_url, inputs.api_version, config_fields(inputs.config),
        list(inputs.config.intake.queues), sorted(inputs.config.reps),
        list(inputs.intake_user_keys), inputs.config.writeback.reason_field,
    ]  # fmt: skip
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def preflight_failure(inputs: Inputs) -> Check | None:
    """The first check of :data:`PREFLIGHT` that fails, or None: the worker refuses to
    start on it."""
    return next((c for c in run_checks(inputs, PREFLIGHT) if c.failed), None)


PREFLIGHT_TTL_S = 3600.0  # `run --once` from cron re-checks an unchanged setup hourly
