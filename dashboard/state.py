"""Session-state keys, owned in one place (pages never invent their own)."""

from __future__ import annotations

from typing import Any

import streamlit as st

USER = "signed_in"  # auth.SignedIn: username + proof, set only by a successful sign-in
LOG_PAGE = "log_page"  # page number of the distribution log (0-based)
LOG_SELECTED = "log_selected_id"  # decision id whose trace is open
LOG_CSV = "log_csv"  # prepared CSV export (bytes) and the filter it was made for
FAIR_CSV = "fair_csv"
SETTINGS_FLASH = "settings_flash"  # message shown after a save (survives the rerun)
TOKEN = "session_token"  # the signed session token (dashboard.session), also in the URL
TIME_ZONE = "pref_time_zone"  # the viewer's IANA time zone (None: the team's)
CLOCK_24H = "pref_clock_24h"  # True: 24-hour clock, False: AM/PM
PREF_KEYS = (TIME_ZONE, CLOCK_24H)  # kept in the session token, so a reload keeps them

DEFAULTS: dict[str, Any] = {
    LOG_PAGE: 0,
    LOG_SELECTED: None,
    LOG_CSV: None,
    FAIR_CSV: None,
    SETTINGS_FLASH: None,
    TOKEN: None,
}


def init_state() -> None:
    for key, value in DEFAULTS.items():
        if key not in st.session_state:
            st.session_state[key] = value
