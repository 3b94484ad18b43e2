"""``leadrouter doctor``: is the configured org ready for the worker?

Each check is one line (``ok|warn|FAIL|skip  <name>  <detail>  → <fix>``); the worker
runs the fatal ones (:data:`checks.PREFLIGHT`) before it starts, through the same code.
Salesforce is asked only through :class:`worker.sfdc.gateway.OrgProbe` (reads only).
"""

from worker.doctor.checks import PREFLIGHT, Inputs, preflight_failure, run_checks
from worker.doctor.model import Check, Status, exit_code, to_json

__all__ = [
    "PREFLIGHT",
    "Check",
    "Inputs",
    "Status",
    "exit_code",
    "preflight_failure",
    "run_checks",
    "to_json",
]
