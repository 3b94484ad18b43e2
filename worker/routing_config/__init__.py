"""Loading, validating, overriding and dumping the routing config (I/O lives here, not in
the pure ``worker.routing`` core)."""

from worker.routing_config.dump import config_to_raw, dump_config
from worker.routing_config.loader import (
    CheckResult,
    check_config,
    check_text,
    load_config,
    parse_config,
)
from worker.routing_config.overrides import apply_overrides, validate_rep_override
from worker.routing_config.problems import ConfigError, Problem

__all__ = [
    "CheckResult",
    "ConfigError",
    "Problem",
    "apply_overrides",
    "check_config",
    "check_text",
    "config_to_raw",
    "dump_config",
    "load_config",
    "parse_config",
    "validate_rep_override",
]
