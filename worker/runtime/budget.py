"""The org's daily API allocation: slow down at a share of it, stop writing near the end.

Salesforce reports ``api-usage=used/max`` on every response (``Sforce-Limit-Info``). At
``slow_share`` (default 80 %) the worker stretches its poll interval; at ``stop_share``
(default 95 %) it stops writing and says so loudly on every cycle, because from then on
every call competes with the org's own integrations for the last few thousand requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

log = logging.getLogger("leadrouter.budget")


class Pace(StrEnum):
    NORMAL = "normal"
    SLOW = "slow"
    STOP = "stop"


@dataclass(frozen=True)
class Budget:
    slow_share: float = 0.80
    stop_share: float = 0.95

    def pace(self, usage: tuple[int, int] | None) -> Pace:
        if usage is None or usage[1] <= 0:
            return Pace.NORMAL
        share = usage[0] / usage[1]
        if share >= self.stop_share:
            return Pace.STOP
        if share >= self.slow_share:
            return Pace.SLOW
        return Pace.NORMAL

    def announce(self, usage: tuple[int, int] | None) -> Pace:
        """The pace, logged at WARNING (slow) or ERROR (stop)."""
        pace = self.pace(usage)
        if pace is Pace.STOP and usage:
            log.error(
                "API allocation at %d/%d (>= %.0f%%): NOT WRITING to Salesforce until it resets",
                usage[0],
                usage[1],
                self.stop_share * 100,
            )
        elif pace is Pace.SLOW and usage:
            log.warning(
                "API allocation at %d/%d (>= %.0f%%): slowing down",
                usage[0],
                usage[1],
                self.slow_share * 100,
            )
        return pace
