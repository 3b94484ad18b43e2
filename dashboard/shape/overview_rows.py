"""Overview page: the held reasons, the API allocation, the workers' table and the
warnings about them, from the store's :class:`~worker.store.queries.overview.Overview`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from dashboard import fmt
from worker.store.queries.overview import Overview

SILENT_AFTER_S = 120  # an active worker cycles every few seconds
WORKER_COLUMNS = (
    "worker_id",
    "hostname",
    "role",
    "last seen",
    "last_cycle_at",
    "last_cycle_ms",
    "last_error",
)


def figures_caption(ov: Overview, viewer: fmt.Viewer = fmt.UTC_VIEWER) -> str:
    return (
        f"Figures up to {viewer.when(ov.now)}; today and the sparklines' "
        f"{len(ov.days)} days are days in {viewer.zone_name}."
    )


def held_reasons(ov: Overview) -> pd.DataFrame:
    """Why leads were held, the reason first (it is what the reader looks for)."""
    return pd.DataFrame(ov.held_reasons, columns=["reason", "leads"])


def api_allocation(ov: Overview) -> tuple[str, str] | None:
    """The daily API calls used against the allocation and the share used, or None when
    no usage has been recorded."""
    if ov.api_used is None or not ov.api_max:
        return None
    return f"{ov.api_used:,} / {ov.api_max:,}", f"{ov.api_used / ov.api_max:.1%} of the allocation"


def api_usage(
    usage: Sequence[tuple[datetime, int, int]], viewer: fmt.Viewer = fmt.UTC_VIEWER
) -> pd.DataFrame:
    """API samples with ``at`` as the viewer's wall-clock time (the chart's axis)."""
    frame = pd.DataFrame(usage, columns=["at", "used", "max"])
    if not frame.empty:
        frame["at"] = viewer.wall_clock(frame["at"])
    return frame


def workers_table(
    workers: Sequence[dict[str, Any]], viewer: fmt.Viewer = fmt.UTC_VIEWER
) -> pd.DataFrame:
    """One row per worker, its silence as "… ago" (or "never"; a worker clock ahead of
    ours reads "just now"), its last cycle in the viewer's time, in the order of
    ``WORKER_COLUMNS`` (columns a store does not report are left out), empty cells blank."""
    frame = pd.DataFrame(workers)
    frame["last seen"] = frame["seconds_since_seen"].map(
        lambda s: fmt.ago(None if pd.isna(s) else s)  # a never-seen worker's None is NaN here
    )
    if "last_cycle_at" in frame.columns:
        frame["last_cycle_at"] = viewer.wall_clock(frame["last_cycle_at"])
    return fmt.blanks(frame[[c for c in WORKER_COLUMNS if c in frame.columns]])


def worker_warnings(workers: Sequence[dict[str, Any]]) -> list[str]:
    """No active worker, or an active one silent for longer than ``SILENT_AFTER_S``."""
    active = [w for w in workers if w.get("role") == "active"]
    if not active:
        return ["No worker is active right now."]
    return [
        f"Active worker {w['worker_id']} has been silent for {fmt.duration(silent)}."
        for w in active
        if (silent := w.get("seconds_since_seen")) is not None and silent > SILENT_AFTER_S
    ]
