"""One-click availability: a rep switched on, or off with a reason, through the one
settings service (:func:`worker.store.team_repo.set_availability`, which decides who may:
an admin for anyone, a rep for themselves). Used by Team today and My leads."""

from __future__ import annotations

import streamlit as st

from dashboard import data, session, state
from dashboard.shape.lead_rows import as_text
from dashboard.shape.my_leads_rows import availability_words
from dashboard.shape.team_form import rep_values
from worker.config_source import Effective
from worker.routing_config import validate_rep_override
from worker.store.team_repo import InvalidSettings, PermissionDenied, set_availability


def toggle(current_config: Effective, rep_key: str, *, key: str, user_id: str | None) -> None:
    """The rep's availability and the one button that flips it (a reason to go away)."""
    rep = current_config.routing.reps[rep_key]
    words = availability_words(rep.enabled, rep.disabled_reason)
    st.markdown(f"**{as_text(rep.name)}** is {as_text(words)}.")
    if rep.enabled:
        c1, c2 = st.columns([3, 1])
        reason = c1.text_input(
            "Reason (required to go away)",
            key=f"{key}_reason",
            placeholder="lunch, customer visit, sick…",
        )
        clicked = c2.button("Go away", key=f"{key}_off", type="primary")
        if clicked:
            _write(current_config, rep_key, False, reason, user_id)
    elif st.button("Set available", key=f"{key}_on", type="primary"):
        _write(current_config, rep_key, True, "", user_id)


def _write(
    current_config: Effective, rep_key: str, available: bool, reason: str, user_id: str | None
) -> None:
    base = current_config.file.routing
    rep = current_config.routing.reps[rep_key]
    try:
        set_availability(
            data.engine(),
            actor=session.current_actor(),  # re-derived from the proof at the call
            rep_key=rep_key,
            available=available,
            reason=reason,
            validate=lambda k, values: validate_rep_override(base, k, values),
            user_id=user_id,
            effective_before=rep_values(rep),
        )
    except PermissionDenied as exc:
        st.error(f"Not changed: {as_text(exc)}")
    except InvalidSettings as exc:
        st.error("Not changed: " + as_text("; ".join(exc.problems)))
    else:
        data.clear_settings_caches()
        words = "available" if available else f"away ({reason.strip()})"
        st.session_state[state.SETTINGS_FLASH] = (
            f"{as_text(rep.name)} is now {as_text(words)}. The worker applies it at its next cycle."
        )
        st.rerun()
