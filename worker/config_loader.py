"""The routing-config loader's public face (implementation in :mod:`worker.routing_config`).

``load_config(path) -> RoutingConfig`` (raises :class:`ConfigError` listing every problem
as ``file:line key.path: message``), ``apply_overrides``, ``validate_rep_override`` and
``dump_config``.
"""

from worker.routing_config import (
    CheckResult,
    ConfigError,
    Problem,
    apply_overrides,
    check_config,
    check_text,
    config_to_raw,
    dump_config,
    load_config,
    parse_config,
    validate_rep_override,
)

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
