"""Cached loaders: one shared engine per database URL, query results cached briefly.

No widgets here and no side effects inside cached functions; results are plain values
(dataclasses, lists of dicts, DataFrames) so ``st.cache_data`` can pickle them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker import exports, root
from worker.config_source import ConfigSource, Effective
from worker.routing.facts import lead_emails
from worker.routing.matching import AccountIndex
from worker.routing.model import AccountMatching, KnownEmail, Lead
from worker.settings import Settings, load_settings
from worker.store.queries import (
    accounts,
    fairness,
    journal_log,
    overview,
    quality,
    replay,
    team_day,
    team_settings,
)

TTL = 30  # seconds: the worker writes every few seconds; pages refresh on interaction


def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner=False)
def get_engine(url: str) -> Engine:
    return root.engine_for(url)


def engine() -> Engine:
    return get_engine(settings().database_url)


@st.cache_data(ttl=TTL, show_spinner=False)
def load_overview(url: str, now: datetime, tz_name: str = "UTC") -> overview.Overview:
    """The overview's figures; "today" is the day of the zone ``tz_name``."""
    return overview.overview(get_engine(url), now, tz=ZoneInfo(tz_name))


@st.cache_data(ttl=TTL, show_spinner=False)
def load_api_usage(url: str, since: datetime) -> list[tuple[datetime, int, int]]:
    return overview.api_usage_series(get_engine(url), since)


@st.cache_data(ttl=300, show_spinner=False)
def load_facets(url: str) -> journal_log.Facets:
    return journal_log.facets(get_engine(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def load_log_page(url: str, flt: journal_log.LogFilter, limit: int, offset: int) -> pd.DataFrame:
    rows = journal_log.log_page(get_engine(url), flt, limit=limit, offset=offset)
    return pd.DataFrame(rows, columns=[*journal_log.LOG_COLUMNS, "outcome"])


@st.cache_data(ttl=TTL, show_spinner=False)
def load_log_count(url: str, flt: journal_log.LogFilter) -> int:
    return journal_log.log_count(get_engine(url), flt)


@st.cache_data(ttl=TTL, show_spinner=False)
def load_decision(url: str, decision_id: int) -> dict[str, Any] | None:
    return journal_log.decision_detail(get_engine(url), decision_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def load_lead_history(url: str, lead_id: str) -> list[dict[str, Any]]:
    return journal_log.lead_history(get_engine(url), lead_id)


def export_log_csv(url: str, flt: journal_log.LogFilter, max_rows: int) -> bytes:
    """The filtered log as CSV (not cached: built on request, streamed in batches)."""
    return frame_csv(pd.DataFrame(journal_log.iter_log(get_engine(url), flt, max_rows=max_rows)))


def frame_csv(frame: pd.DataFrame) -> bytes:
    """A table as a CSV download: formula-looking cells neutralised, UTF-8 with BOM
    (``worker.exports``, the one CSV writer)."""
    cells = frame.astype(object).where(frame.notna(), None)
    return exports.csv_bytes([str(c) for c in frame.columns], cells.to_dict("records"))


@st.cache_data(ttl=TTL, show_spinner=False)
def load_fairness(
    url: str, pool: str, start: datetime, end: datetime, weights: dict[str, float] | None = None
) -> fairness.FairnessReport:
    return fairness.fairness_report(get_engine(url), pool, start, end, weights=weights)


@st.cache_resource(show_spinner=False)
def config_source(path: str) -> ConfigSource:
    """One source per config file for the whole dashboard process: the file is parsed
    again only when it changes, exactly as in the worker."""
    return root.config_source_for(Path(path))


def effective() -> Effective:
    """The effective config (the published version, else the file, + overrides) as the
    worker computes it; raises ``ConfigError`` or ``OSError`` when the file cannot be
    loaded."""
    cfg = settings()
    overrides = {k: o.data for k, o in load_overrides(cfg.database_url).items()}
    source = config_source(str(cfg.routing_config))
    with Session(engine()) as session:  # the published version wins over the file's
        published = source.published_in(session)
    return source.effective(overrides, published)


@st.cache_data(ttl=TTL, show_spinner=False)
def load_lead_mix(url: str, pool: str, start: datetime, end: datetime) -> pd.DataFrame:
    rows = quality.lead_mix(get_engine(url), pool, start, end)
    return pd.DataFrame(rows, columns=["owner_id", "owner", "dimension", "bucket", "leads"])


@st.cache_data(ttl=TTL, show_spinner=False)
def load_rep_service(url: str, pool: str, start: datetime, end: datetime) -> pd.DataFrame:
    rows = quality.rep_service(get_engine(url), pool, start, end)
    cols = [
        "owner_id",
        "owner",
        "leads",
        "touched",
        "sla_breaches",
        "median_first_touch_min",
        "avg_first_touch_min",
    ]
    return pd.DataFrame(rows, columns=cols)


def load_overrides(url: str) -> dict[str, team_settings.OverrideState]:
    return team_settings.load_overrides(get_engine(url))  # not cached: edits must show at once


def load_history(url: str, entity: str | None = None, limit: int = 200) -> pd.DataFrame:
    rows = team_settings.change_history(get_engine(url), entity=entity, limit=limit)
    return pd.DataFrame(rows, columns=["at", "actor", "entity", "field", "old_value", "new_value"])


def clear_settings_caches() -> None:
    """After a settings write: anything derived from the effective config is stale."""
    load_fairness.clear()


def load_replay_leads(url: str, since: datetime, pool: str, limit: int) -> list[dict[str, Any]]:
    """What-if's leads (not cached: read once per run of the replay)."""
    return replay.recent_routed_leads(get_engine(url), since, pool=pool, limit=limit)


def load_rep_directory(url: str) -> dict[str, dict[str, Any]]:
    return replay.rep_directory(get_engine(url))


def load_known_emails(
    url: str, leads: list[Lead], directory: dict[str, dict[str, Any]]
) -> list[KnownEmail]:
    """The contacts carrying these leads' addresses, from the store's contact mirror as
    the worker reads them (owners' ``IsActive`` from the reps' users the worker last saw;
    none while the mirror has not loaded)."""
    active = {str(d["user_id"]): bool(d.get("active", True))
              for d in directory.values() if d.get("user_id")}  # fmt: skip
    found = accounts.known_emails(get_engine(url), lead_emails(leads), active)
    return [k for hits in found.values() for k in hits]


def load_account_index(url: str, leads: list[Lead], matching: AccountMatching) -> AccountIndex:
    """The accounts these leads could match, from the store's account mirror, as the
    worker reads them."""
    return accounts.account_index(get_engine(url), leads, matching)


# -- the team's day (Team today, My leads, the lead's "why") ----------------------------


@st.cache_data(ttl=TTL, show_spinner=False)
def load_assigned(url: str, since: datetime) -> dict[str, int]:
    return team_day.assigned_per_rep(get_engine(url), since)


@st.cache_data(ttl=TTL, show_spinner=False)
def load_sla_clocks(url: str, due_since: datetime, due_before: datetime) -> list[dict[str, Any]]:
    return team_day.open_sla_clocks(get_engine(url), due_before, due_since=due_since)


def load_rep_leads(url: str, rep_key: str, since: datetime) -> list[dict[str, Any]]:
    return team_day.rep_leads(get_engine(url), rep_key, since)  # not cached: a rep's own


def load_routing_state(url: str) -> Any:
    """The routing state the worker saved last (not cached: who is next moves with it)."""
    return team_day.routing_state(get_engine(url))


@st.cache_data(ttl=TTL, show_spinner=False)
def load_untouched(url: str, due_since: datetime) -> dict[str, int]:
    return team_day.untouched_per_rep(get_engine(url), due_since)


def load_latest_decision(url: str, lead_id: str) -> int | None:
    return team_day.latest_decision_id(get_engine(url), lead_id)
