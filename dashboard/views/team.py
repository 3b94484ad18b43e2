"""Team settings (RevOps): pools and members, per-rep weight, caps, tags, hours, time zone,
out of office and on/off toggle; validated on save with the config rules, recorded in the
change history, effective at the worker's next cycle. Viewers see everything read-only."""

from __future__ import annotations

from zoneinfo import available_timezones

import pandas as pd
import streamlit as st

from dashboard import data, fmt, session, state
from dashboard.team_form import (
    MEMBER_COLUMNS,
    changed_fields,
    hours_text,
    member_changes,
    member_values,
    membership_rows,
    merged_pools,
    ooo_text,
    parse_hours,
    parse_ooo,
    parse_tags,
    rep_values,
)
from worker.routing_config import dump_config, validate_rep_override
from worker.store.team_repo import InvalidSettings, PermissionDenied, StaleEdit, save_rep_override

cfg = data.settings()
url = cfg.database_url
actor = session.current_actor()
is_admin = actor is not None and actor.role == "admin"

st.title("Team settings")
if not is_admin:
    st.info("Read-only: only admins (RevOps) can change settings.")

try:
    current_config = data.effective()
except Exception as exc:  # noqa: BLE001 - any config problem is shown, not raised
    st.error(f"Cannot load the routing config {cfg.routing_config}: {exc}")
    st.stop()
base = current_config.file.routing
effective = current_config.routing
overrides = data.load_overrides(url)
for problem in current_config.problems:
    st.warning(f"A saved override no longer fits the config file and is not applied: {problem}")

flash = st.session_state.get(state.SETTINGS_FLASH)
if flash:
    st.success(flash)
    st.session_state[state.SETTINGS_FLASH] = None

st.subheader("Pools and members")
rows = membership_rows(effective, overrides)
st.caption(
    "Weight and caps as the router applies them: a pool's own weight replaces the rep's "
    "default weight in that pool; a pool cap counts that pool's leads, the rep's cap counts "
    "leads from every pool, and both apply."
)
st.dataframe(
    pd.DataFrame(rows), hide_index=True, width="stretch", height=min(38 + 35 * len(rows), 420)
)

st.subheader("Edit a rep")
keys = sorted(effective.reps, key=lambda k: effective.reps[k].name)
rep_key = st.selectbox(
    "Rep", keys, format_func=lambda k: f"{effective.reps[k].name} ({k})", key="team_rep"
)
rep = effective.reps[rep_key]
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
if st.session_state.get("team_form_rep") != (
    rep_key,
    overrides[rep_key].version if rep_key in overrides else 0,
):
    for k in FORM_KEYS:  # another rep, or saved: start the form from the stored values
        st.session_state.pop(k, None)
    st.session_state["team_form_rep"] = (
        rep_key,
        overrides[rep_key].version if rep_key in overrides else 0,
    )
current = rep_values(rep)
version = overrides[rep_key].version if rep_key in overrides else None
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
    per_day = c2.number_input(
        "Cap per day",
        min_value=0,
        value=caps.get("per_day"),
        step=1,
        key="team_per_day",
        disabled=not is_admin,
    )
    per_hour = c3.number_input(
        "Cap per hour",
        min_value=0,
        value=caps.get("per_hour"),
        step=1,
        key="team_per_hour",
        disabled=not is_admin,
    )
    max_open = c4.number_input(
        "Max open leads",
        min_value=0,
        value=caps.get("max_open"),
        step=1,
        key="team_max_open",
        disabled=not is_admin,
    )
    c1, c2 = st.columns(2)
    tags = c1.text_input(
        "Tags (comma separated)", ", ".join(current["tags"]), key="team_tags", disabled=not is_admin
    )
    tz = c2.selectbox(
        "Time zone",
        zones,
        index=zones.index(current["timezone"]) if current["timezone"] in zones else 0,
        key="team_tz",
        disabled=not is_admin,
    )
    c1, c2 = st.columns(2)
    hours = c1.text_area(
        "Working hours (YAML; empty = always available)",
        hours_text(current["working_hours"]),
        key="team_hours",
        height=120,
        disabled=not is_admin,
        placeholder='mon-fri: ["09:00-17:00"]',
    )
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
    memberships = member_values(effective, rep_key)
    own = [m["pool"] for m in memberships if m["weight in pool"] is not None]
    st.markdown("**Terms in each pool** (blank weight: the default weight above applies)")
    if own:
        st.caption(
            "The default weight does not apply in "
            + ", ".join(own)
            + ": the pool's own weight does. Clear it there to use the default."
        )
    edited_members = st.data_editor(
        pd.DataFrame(memberships, columns=list(MEMBER_COLUMNS)),
        hide_index=True,
        width="stretch",
        key="team_members",
        disabled=["pool"] if is_admin else True,
        column_config={
            "weight in pool": st.column_config.NumberColumn(min_value=0.01, step=0.1),
            "cap/day in pool": st.column_config.NumberColumn(min_value=0, step=1),
            "cap/hour in pool": st.column_config.NumberColumn(min_value=0, step=1),
        },
    )
    saved = st.form_submit_button("Save", type="primary", key="team_save", disabled=not is_admin)

if saved:
    problems: list[str] = []
    hours_value, hours_problem = parse_hours(hours)
    ooo_value, ooo_problems = parse_ooo(ooo)
    problems += [p for p in [hours_problem, *ooo_problems] if p]
    caps_value = {
        k: int(v)
        for k, v in (("per_hour", per_hour), ("per_day", per_day), ("max_open", max_open))
        if v is not None
    }
    form = {
        "weight": float(weight),
        "caps": caps_value,
        "tags": parse_tags(tags),
        "working_hours": hours_value,
        "timezone": tz,
        "out_of_office": ooo_value,
        "enabled": bool(enabled),
        "disabled_reason": reason.strip() or None,
    }
    changes = changed_fields(current, form)
    pool_changes = member_changes(memberships, edited_members.to_dict("records"))
    if pool_changes:
        stored = overrides[rep_key].data.get("pools") if rep_key in overrides else None
        changes["pools"] = merged_pools(stored, pool_changes)
    try:
        if problems:
            raise InvalidSettings(problems)
        done = save_rep_override(
            data.engine(),
            actor=session.current_actor(),
            rep_key=rep_key,
            changes=changes,
            validate=lambda key, values: validate_rep_override(base, key, values),
            expected_version=version,
            effective_before=current,
        )
    except PermissionDenied as exc:
        st.error(f"Not saved: {exc}")
    except InvalidSettings as exc:
        st.error("Not saved; fix these first:\n\n" + "\n".join(f"- {p}" for p in exc.problems))
    except StaleEdit as exc:
        st.warning(f"Not saved: {exc}")
    else:
        data.clear_settings_caches()
        fields = ", ".join(f for f, _, _ in done) or "nothing changed"
        st.session_state[state.SETTINGS_FLASH] = (
            f"Saved {rep.name}: {fields}. The worker applies it at its next cycle."
        )
        st.rerun()

st.subheader("Change history")
only_rep = st.checkbox("Only this rep", key="team_history_rep")
history = data.load_history(url, entity=f"rep:{rep_key}" if only_rep else None, limit=100)
if history.empty:
    st.caption("No change recorded yet.")
else:
    history["at"] = history["at"].map(fmt.when)
    shown = history.rename(
        columns={
            "at": "when",
            "actor": "who",
            "entity": "what",
            "old_value": "old",
            "new_value": "new",
        }
    )
    st.table(shown.set_index("when"))  # plain HTML table: readable, printable, escaped

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
