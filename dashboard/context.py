"""What every page is given: built once per run by ``app.py`` after sign-in, so a page
reads its inputs from one place instead of reaching for globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from dashboard.fmt import UTC_VIEWER, Viewer
from worker.config_source import Effective
from worker.routing.model import RoutingConfig
from worker.settings import Settings
from worker.store.team_repo import Actor


@dataclass(frozen=True)
class PageContext:
    """The signed-in ``actor`` (who may see the page; a write re-derives it at the call),
    the ``settings``, this run's clock reading ``now`` (UTC) and ``effective``, the
    accessor of the effective routing config (file + overrides; raises when the file
    cannot be loaded), and the ``viewer``'s time zone and clock (:mod:`dashboard.fmt`)."""

    actor: Actor
    settings: Settings
    now: datetime
    effective: Callable[[], Effective]
    viewer: Viewer = UTC_VIEWER

    @property
    def url(self) -> str:
        """The store's URL: the key of every cached loader in :mod:`dashboard.data`."""
        return self.settings.database_url

    @property
    def today(self) -> date:
        """The viewer's date now (in their time zone)."""
        return self.viewer.today(self.now)

    @property
    def minute(self) -> datetime:
        """Now, truncated to the minute so cached results are reused within a minute."""
        return self.now.replace(second=0, microsecond=0)

    @property
    def is_admin(self) -> bool:
        return self.actor.role == "admin"

    def routing_or_none(self) -> RoutingConfig | None:
        """The effective routing config, or None when it cannot be loaded (pages that
        only read the journal still work)."""
        try:
            return self.effective().routing
        except Exception:  # noqa: BLE001 - any config problem: fall back to journal data
            return None
