"""Team settings (RevOps): pools and members, per-rep weight, caps, tags, hours, time zone,
out of office and on/off toggle; validated on save with the config rules, recorded in the
change history, effective at the worker's next cycle. Viewers see everything read-only."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

import pandas as pd
import streamlit as st

from dashboard import data, fmt, session, state
from dashboard.context import PageContext
from dashboard.effective import effective_or_error
from dashboard.shape.saved_words import saved_message
from dashboard.shape.settings_history import history_table
from dashboard.shape.team_form import (
    DAYS,
    HOURS_COLUMNS,
    MEMBER_COLUMNS,
    RepForm,
    form_changes,
    hours_rows,
    member_values,
    membership_rows,
    ooo_text,
    own_weight_pools,
    rep_values,
)
from worker.config_source import Effective
from worker.routing.model import RoutingConfig
from worker.routing_config import dump_config, validate_rep_override
from worker.store.queries.team_settings import OverrideState
from worker.store.team_repo import InvalidSettings, PermissionDenied, StaleEdit, save_rep_override

FORM_KEYS = (
    "team_weight",
    "team_per_day",
    "team_per_hour",
    "team_max_open",
    "team_tags",
    "team_tz",
    "team_hours",
    "team_ooo",
    "team_enabled",
    "team_reason",
    "team_members",
)


def render(ctx: PageContext) -> None:
    st.title("Team settings")
    if not ctx.is_admin:
        st.info("Read-only: only admins (RevOps) can change settings.")
    current_config = effective_or_error(ctx)
    if current_config is None:
        return
    effective = current_config.routing
    overrides = data.load_overrides(ctx.url)
    for problem in current_config.problems:
        st.warning(
            "A saved override no longer fits the config file and is not applied: " + fmt.md(problem)
        )
    flash = st.session_state.get(state.SETTINGS_FLASH)
    if flash:
        st.success(flash)
        st.session_state[state.SETTINGS_FLASH] = None
    _members(effective, overrides)
    rep_key = _edit(ctx, current_config, overrides)
    _history(ctx, rep_key)
    _export(effective)


def _members(effective: RoutingConfig, overrides: dict[str, OverrideState]) -> None:
    st.subheader("Pools and members")
    rows = membership_rows(effective, overrides)
    st.caption(
        "Weight and caps as the router applies them: a pool's own weight replaces the rep's "
        "default weight in that pool; a pool cap counts that pool's leads, the rep's cap counts "
        "leads from every pool, and both apply."
    )
    st.dataframe(  # placeholder: a missing number (no cap) is blank, not "None"
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        height=min(38 + 35 * len(rows), 420),
        placeholder="",
    )


def _edit(ctx: PageContext, current_config: Effective, overrides: dict[str, OverrideState]) -> str:
    """The Edit-a-rep form, saved through the settings service; returns the rep shown."""
    st.subheader("Edit a rep")
    effective = current_config.routing
    keys = sorted(effective.reps, key=lambda k: effective.reps[k].name)
    rep_key = st.selectbox(
        "Rep", keys, format_func=lambda k: f"{effective.reps[k].name} ({k})", key="team_rep"
    )
    rep = effective.reps[rep_key]
    stored = overrides.get(rep_key)
    shown = (rep_key, stored.version if stored else 0)
    if st.session_state.get("team_form_rep") != shown:
        for k in FORM_KEYS:  # another rep, or saved: start the form from the stored values
            st.session_state.pop(k, None)
        st.session_state["team_form_rep"] = shown
    current = rep_values(rep)
    memberships = member_values(effective, rep_key)
    form, edited_members, saved = _form(current, memberships, ctx.is_admin)
    if saved:
        changes, problems = form_changes(
            current,
            form,
            memberships,
            edited_members.to_dict("records"),
            stored.data.get("pools") if stored else None,
        )
        _save(current_config, rep_key, rep.name, changes, problems, stored, current)
    return rep_key


def _form(
    current: dict[str, Any], memberships: list[dict[str, Any]], is_admin: bool
) -> tuple[RepForm, pd.DataFrame, bool]:
    zones = sorted(available_timezones())
    with st.form("rep_form"):
        c1, c2, c3, c4 = st.columns(4)
        weight = c1.number_input(
            "Default weight",
            min_value=0.0,
            value=float(current["weight"]),
            step=0.1,
            key="team_weight",
            disabled=not is_admin,
        )
        caps = current["caps"]
        per_day, per_hour, max_open = (
            column.number_input(
                label,
                min_value=0,
                value=caps.get(cap),
                step=1,
                key=f"team_{cap}",
                disabled=not is_admin,
            )  # fmt: skip
            for column, label, cap in (
                (c2, "Cap per day", "per_day"),
                (c3, "Cap per hour", "per_hour"),
                (c4, "Max open leads", "max_open"),
            )
        )
        c1, c2 = st.columns(2)
        tags = c1.text_input(
            "Tags (comma separated)",
            ", ".join(current["tags"]),
            key="team_tags",
            disabled=not is_admin,
        )
        tz = c2.selectbox(
            "Time zone",
            zones,
            index=zones.index(current["timezone"]) if current["timezone"] in zones else 0,
            key="team_tz",
            disabled=not is_admin,
        )
        c1, c2 = st.columns(2)
        with c1:
            hours = _hours_editor(current["working_hours"], is_admin)
        ooo = c2.text_area(
            "Out of office (one range a line)",
            ooo_text(current["out_of_office"]),
            key="team_ooo",
            height=120,
            disabled=not is_admin,
            placeholder="2026-12-01 to 2026-12-05",
        )
        c1, c2 = st.columns([1, 3])
        enabled = c1.toggle(
            "Takes leads", value=bool(current["enabled"]), key="team_enabled", disabled=not is_admin
        )
        reason = c2.text_input(
            "Reason when off",
            current["disabled_reason"] or "",
            key="team_reason",
            disabled=not is_admin,
        )
        edited_members = _members_editor(memberships, is_admin)
        saved = st.form_submit_button(
            "Save", type="primary", key="team_save", disabled=not is_admin
        )
    form = RepForm(weight, per_day, per_hour, max_open, tags, tz, hours, ooo, bool(enabled), reason)
    return form, edited_members, saved


def _hours_editor(hours: dict[str, list[str]] | None, is_admin: bool) -> list[dict[str, Any]]:
    """Working hours as rows of a day and a time range (several rows for a split day);
    no rows: always available. Times are in the rep's time zone."""
    st.markdown("**Working hours** (no rows: always available)")
    edited = st.data_editor(
        pd.DataFrame(hours_rows(hours), columns=list(HOURS_COLUMNS)),
        hide_index=True,
        width="stretch",
        num_rows="dynamic" if is_admin else "fixed",
        key="team_hours",
        disabled=not is_admin,
        column_config={
            "day": st.column_config.SelectboxColumn("day", options=list(DAYS), required=True),
            "from": st.column_config.TextColumn("from", help="HH:MM", validate=r"^\d\d:\d\d$"),
            "to": st.column_config.TextColumn("to", help="HH:MM (24:00: midnight)",
                                              validate=r"^\d\d:\d\d$"),
        },
    )  # fmt: skip
    return list(edited.to_dict("records"))


def _members_editor(memberships: list[dict[str, Any]], is_admin: bool) -> pd.DataFrame:
    own = own_weight_pools(memberships)
    st.markdown("**Terms in each pool** (blank weight: the default weight above applies)")
    if own:
        st.caption(
            "The default weight does not apply in "
            + ", ".join(own)
            + ": the pool's own weight does. Clear it there to use the default."
        )
    return st.data_editor(
        pd.DataFrame(memberships, columns=list(MEMBER_COLUMNS)),
        hide_index=True,
        width="stretch",
        placeholder="",  # a blank weight or cap reads blank, not "None"
        key="team_members",
        disabled=["pool"] if is_admin else True,
        column_config={
            "weight in pool": st.column_config.NumberColumn(min_value=0.01, step=0.1),
            "cap/day in pool": st.column_config.NumberColumn(min_value=0, step=1),
            "cap/hour in pool": st.column_config.NumberColumn(min_value=0, step=1),
        },
    )


def _save(
    current_config: Effective,
    rep_key: str,
    rep_name: str,
    changes: dict[str, Any],
    problems: list[str],
    stored: OverrideState | None,
    current: dict[str, Any],
) -> None:
    """Through the one settings service; the actor is re-derived at the call from the
    session's proof, never taken from what the page was shown with."""
    base = current_config.file.routing
    try:
        if problems:
            raise InvalidSettings(problems)
        done = save_rep_override(
            data.engine(),
            actor=session.current_actor(),
            rep_key=rep_key,
            changes=changes,
            validate=lambda key, values: validate_rep_override(base, key, values),
            expected_version=stored.version if stored else None,
            effective_before=current,
        )
    except PermissionDenied as exc:
        st.error(f"Not saved: {fmt.md(exc)}")
    except InvalidSettings as exc:
        st.error(
            "Not saved; fix these first:\n\n" + "\n".join(f"- {fmt.md(p)}" for p in exc.problems)
        )
    except StaleEdit as exc:
        st.warning(f"Not saved: {fmt.md(exc)}")
    else:
        data.clear_settings_caches()
        st.session_state[state.SETTINGS_FLASH] = fmt.md(saved_message(rep_name, done))
        st.rerun()


def _history(ctx: PageContext, rep_key: str) -> None:
    st.subheader("Change history")
    only_rep = st.checkbox("Only this rep", key="team_history_rep")
    history = data.load_history(ctx.url, entity=f"rep:{rep_key}" if only_rep else None, limit=100)
    if history.empty:
        st.caption("No change recorded yet.")
    else:
        st.dataframe(history_table(history, ctx.viewer), hide_index=True, width="stretch")


def _export(effective: RoutingConfig) -> None:
    st.subheader("Effective config (file + overrides)")
    text = dump_config(effective)
    st.download_button(
        "Export as config file",
        text.encode(),
        file_name="routing.effective.yaml",
        mime="application/x-yaml",
        key="team_export",
    )
    with st.expander("Show"):
        st.code(text, language="yaml")
