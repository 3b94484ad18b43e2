"""The soak's routing config: one round-robin pool with a short SLA, and a hold rule.

No working hours (the outcome must not depend on the time of day), no account matching
(the sandbox is seeded with few accounts), a one-minute SLA (the shortest the config
accepts: minutes are whole) with one re-assignment then escalation to the manager, and a
``hold`` rule so some leads stay in the intake queue with a logged reason.
"""

from __future__ import annotations

from pathlib import Path

from devkit.sandbox.roster import DEMO_DOMAIN

REPS = tuple(
    f"{name}@{DEMO_DOMAIN}"
    for name in ("sarah.johnson", "michael.brown", "emily.davis", "james.wilson",
                 "daniel.thomas", "olivia.moore", "ashley.taylor", "david.anderson")
)  # fmt: skip
MANAGER = f"maria.gonzalez@{DEMO_DOMAIN}"
OUTSIDERS = (f"ryan.jackson@{DEMO_DOMAIN}", f"laura.clark@{DEMO_DOMAIN}")  # humans' picks too
HOLD_REASON = "free-mail address and no country; qualify by hand"


def soak_config(sla_minutes: int, conditional: bool = True, sweep_seconds: int = 60) -> str:
    """The config; its ``intake.subscribe`` section applies when the workers' intake
    mode (LEADROUTER_INTAKE_MODE, set by the soak) is subscribe."""
    reps = "\n".join(f"  - {{email: {r}}}" for r in (*REPS, MANAGER, *OUTSIDERS))
    return f"""version: 1
intake:
  queues: [Lead_Intake]
  subscribe: {{window_seconds: 0.2, sweep_seconds: {sweep_seconds}}}
writeback: {{reason_field: Routing_Reason__c, conditional: {str(conditional).lower()}}}
account_matching: {{enabled: false}}
reps:
{reps}
pools:
  sales:
    method: round_robin
    members: [{", ".join(REPS)}]
    fallback: [hold]
    sla: {{minutes: {sla_minutes}, max_hops: 1, escalate_to: {{rep: {MANAGER}}}}}
rules:
  - name: Free mail without country
    when: [{{field: $free_mail, equals: true}}, {{field: Country, is_blank: true}}]
    action: hold
    reason: {HOLD_REASON}
  - name: Everything
    action: {{pool: sales}}
"""


def write_config(folder: Path, sla_minutes: int, conditional: bool = True,
                 sweep_seconds: int = 60) -> Path:  # fmt: skip
    path = folder / "routing.yaml"
    path.write_text(soak_config(sla_minutes, conditional, sweep_seconds))
    return path
