"""The effective routing config of a cycle: the YAML file plus the dashboard's overrides.

The file is parsed again only when its modification time changes; the per-rep overrides
(``RepOverride`` rows, edited by RevOps) are read and merged at the start of EVERY cycle,
so a weight, cap or availability change applies without a restart.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlmodel import Session, select

from worker.routing.model import RoutingConfig
from worker.store.models import RepOverride

log = logging.getLogger("leadrouter.config")


class ConfigSource:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._base: RoutingConfig | None = None

    def base(self) -> RoutingConfig:
        from worker.config_loader import load_config

        mtime = self.path.stat().st_mtime
        if self._base is None or mtime != self._mtime:
            self._base, self._mtime = load_config(self.path), mtime
            log.info("routing config loaded from %s", self.path)
        return self._base

    def __call__(self, session: Session) -> RoutingConfig:
        from worker.config_loader import apply_overrides

        overrides: dict[str, dict[str, object]] = {}
        for row in session.exec(select(RepOverride)).all():
            try:
                data = json.loads(row.data)
            except ValueError:
                log.warning("ignoring unreadable override for rep %s", row.rep_key)
                continue
            if isinstance(data, dict) and data:
                overrides[row.rep_key] = data
        base = self.base()
        return apply_overrides(base, overrides) if overrides else base
