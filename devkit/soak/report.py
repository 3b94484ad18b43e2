"""The soak's result: one flat dict (the ``--json`` object) and the reasons it failed.

Invariants (any breach fails the soak): nothing lost, nothing assigned twice, no human's
choice overwritten, every SLA hop correct, nothing left pending, no worker exiting by
itself, every kill survived (a worker active again), and the requested number of kills
done. The fault share and kill count are figures of the campaign, checked by the tests
against the profile.
"""

from __future__ import annotations

from typing import Any

from devkit.soak.campaign import Run
from devkit.soak.profile import Profile
from devkit.soak.verdict import Verdict


def summary(profile: Profile, run: Run, v: Verdict, database: str) -> dict[str, Any]:
    requests, share = run.requests, _share(run)
    survived = sum(1 for k in run.kills if k.takeover_s is not None)
    takeovers = [k.takeover_s for k in run.kills if k.takeover_s is not None]
    faults = dict(sorted(run.fault_counts.items()))
    faults["sigkill"] = len(run.kills)
    faults["api_allocation_low"] = run.squeezes
    out: dict[str, Any] = {
        "ok": False, "profile": profile.name, "database": database, "workers": profile.workers,
        "seed": profile.seed, "conditional_writes": profile.conditional,
        "latency": profile.latency, "intake": profile.intake,
        "created": v.created, "routed": v.routed, "held": v.held,
        "lost": v.lost, "double_assigned": v.double_assigned, "overwritten": v.overwritten,
        "overwritten_in_flight": v.overwritten_in_flight,
        "unexplained_owner": v.unexplained_owner, "pending_left": v.pending_left,
        "sla_reassigned": v.sla_reassigned, "sla_escalated": v.sla_escalated,
        "sla_incorrect": v.sla_incorrect, "sla_missed": v.sla_missed,
        "human_changes": len(run.evidence.humans), "rep_touches": len(run.evidence.touches),
        "restarts": survived, "kills": len(run.kills),
        "kills_mid_write": sum(1 for k in run.kills if k.pending),
        "takeover_max_s": max(takeovers) if takeovers else None,
        "unexpected_exits": len(run.unexpected_exits), "faults_injected": faults,
        "fault_share": round(share, 3), "api_requests": requests, "api_calls": run.billed,
        "api_calls_per_1000": round(run.billed / max(v.created, 1) * 1000, 1),
        "api_slow_cycles": run.slow_cycles, "p50_owner_s": v.quantile(0.5),
        "p95_owner_s": v.quantile(0.95), "drained": run.drained,
        "final_reconcile": run.final_reconcile, "owner_samples": run.owner_samples,
        "worker_log_errors": run.log_errors, "wall_s": round(run.seconds, 1),
    }  # fmt: skip
    out["failures"] = failures(profile, run, v)
    out["examples"] = v.examples
    out["notes"] = run.notes
    out["ok"] = not out["failures"]
    return out


def failures(profile: Profile, run: Run, v: Verdict) -> list[str]:
    out = list(v.failures)
    lost_kills = [k.pid for k in run.kills if k.takeover_s is None]
    if lost_kills:
        out.append(f"no worker active again after killing pid(s) {lost_kills}")
    if len(run.kills) < profile.kills:
        out.append(f"only {len(run.kills)} of {profile.kills} kills happened")
    out += [f"worker exited by itself: {e}" for e in run.unexpected_exits]
    out += [f"the soak's {note}" for note in run.notes]
    if v.created < profile.leads:
        out.append(f"only {v.created} of {profile.leads} leads were created")
    return out


def _share(run: Run) -> float:
    from devkit.soak.chaos import REQUEST_KINDS

    faults = sum(run.fault_counts.get(k, 0) for k in REQUEST_KINDS)
    return faults / run.requests if run.requests else 0.0


def text_lines(result: dict[str, Any]) -> list[str]:
    """The result for people: one ``name value`` line each."""
    skip = {"examples", "failures", "notes"}
    lines = [f"{k:22} {v}" for k, v in result.items() if k not in skip]
    lines += [f"FAILED: {f}" for f in result["failures"]]
    return lines
