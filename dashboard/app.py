"""The leadrouter dashboard: ``streamlit run dashboard/app.py`` (or ``leadrouter dashboard
serve``). Sign-in first, then navigation over the pages in ``dashboard/views/``: each is
a ``render(ctx)`` given the :class:`~dashboard.context.PageContext` built here."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE.parent) not in sys.path:  # `streamlit run dashboard/app.py` from a checkout
    sys.path.insert(0, str(HERE.parent))

import streamlit as st  # noqa: E402

from dashboard import auth, data, fmt, session, state  # noqa: E402
from dashboard.context import PageContext  # noqa: E402
from dashboard.views import (  # noqa: E402
    fairness,
    lead,
    log,
    my_leads,
    overview,
    routing_editor,
    search,
    team,
    today,
    whatif,
)
from worker.settings import SettingsError  # noqa: E402


def _sso_sign_in() -> None:
    """Single sign-on (``st.login``, OIDC): the identity provider checks the person, the
    settings map their e-mail to a role (``auth.sso_actor``)."""
    settings = data.settings()
    user = session.sso_user()
    if user.get("is_logged_in") is True:
        st.warning(
            f"You are signed in as {fmt.md(user.get('email') or 'an unnamed user')}, "
            "who has no role on this dashboard: ask an admin."
        )
        if st.button("Sign out", key="sso_sign_out"):
            st.logout()
        return
    if st.button("Sign in with single sign-on", key="sso_sign_in", type="primary"):
        st.login(settings.dashboard_sso_provider)  # None: the [auth] section's provider


def _sign_in_form() -> None:
    st.title("leadrouter")
    st.caption("Sign in to see the distribution log, fairness audits and team settings.")
    settings = data.settings()
    if settings.sso_roles:
        _sso_sign_in()
    if settings.dashboard_users_file is None:
        return
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input("Username", key="signin_username")
        password = st.text_input("Password", type="password", key="signin_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        signed, message = auth.sign_in(
            data.engine(), session.users(), username, password, session.client_id()
        )
        if signed is None:
            st.error(message)
        else:
            st.session_state[state.USER] = signed
            session.issue(signed.username, _prefs())
            st.rerun()


def _team_zone() -> str:
    """The team's time zone: the intake's business hours in the routing config, else UTC."""
    try:
        hours = data.effective().routing.intake.business_hours
    except Exception:  # noqa: BLE001 - any config problem: UTC
        return "UTC"
    return hours.timezone if hours else "UTC"


def _prefs() -> dict[str, object]:
    return {k: st.session_state[k] for k in state.PREF_KEYS if k in st.session_state}


def _viewer(team_zone: str) -> fmt.Viewer:
    chosen = st.session_state.get(state.TIME_ZONE)
    return fmt.Viewer(
        fmt.zone(chosen if isinstance(chosen, str) else None, team_zone),
        st.session_state.get(state.CLOCK_24H) is not False,
    )


def _sidebar(actor_name: str, role: str, team_zone: str) -> fmt.Viewer:
    """Who is signed in, their time zone and clock (kept in the session token), sign-out."""
    with st.sidebar:
        st.caption(f"Signed in as **{fmt.md(actor_name)}** ({role})")
        viewer = _viewer(team_zone)
        zones = fmt.time_zones()
        picked = st.selectbox(
            "Time zone",
            zones,
            index=zones.index(viewer.zone_name) if viewer.zone_name in zones else 0,
            help=f"Times, days and charts in this zone. The team's: {team_zone}.",
            key="sidebar_time_zone",
        )
        clock = st.radio(
            "Clock",
            ("24-hour", "AM/PM"),
            index=0 if viewer.clock24 else 1,
            horizontal=True,
            key="sidebar_clock",
        )
        wanted = {state.TIME_ZONE: picked, state.CLOCK_24H: clock == "24-hour"}
        if picked != viewer.zone_name or wanted[state.CLOCK_24H] != viewer.clock24:
            st.session_state.update(wanted)
            if session.current_token() is not None:  # a password sign-in: keep them in it
                session.issue(actor_name, _prefs())
            viewer = _viewer(team_zone)
        if st.button("Sign out", key="sign_out"):
            session.sign_out()
            if session.sso_user().get("is_logged_in") is True:
                st.logout()  # clears the identity cookie and reruns
            st.rerun()
    return viewer


def run() -> None:
    st.set_page_config(page_title="leadrouter", page_icon=":material/alt_route:", layout="wide")
    state.init_state()
    try:
        if data.settings().dashboard_users_file is not None or not data.settings().sso_roles:
            session.users()  # single sign-on alone needs no users file
    except (SettingsError, auth.UsersFileError) as exc:
        st.error(f"The dashboard is not configured: {fmt.md(exc)}")
        st.stop()
    session.restore()
    actor = session.current_actor()
    if actor is None:
        _sign_in_form()
        st.stop()
    viewer = _sidebar(actor.username, actor.role, _team_zone())
    ctx = PageContext(actor, data.settings(), datetime.now(UTC), data.effective, viewer)
    st.navigation(_pages(ctx)).run()


def _page(
    render: Callable[[PageContext], None], ctx: PageContext, path: str, title: str, icon: str
) -> st.Page:
    """A page that renders with ``ctx``; ``path`` is its URL (and AppTest's page key).
    The default page is the overview; a rep's is My leads, and a ``?lead=`` link opens
    the lead's "why" page."""
    if ctx.actor.role == "rep":
        default = "my_leads"
    else:
        default = "lead" if st.query_params.get("lead") else "overview"
    return st.Page(
        partial(render, ctx), title=title, icon=icon, url_path=path, default=path == default
    )


def _pages(ctx: PageContext) -> dict[str, list[st.Page]]:
    if ctx.actor.role == "rep":  # their own leads and availability, nothing else
        return {"Me": [_page(my_leads.render, ctx, "my_leads", "My leads", ":material/person:")]}
    return {
        "Monitor": [
            _page(overview.render, ctx, "overview", "Overview", ":material/dashboard:"),
            _page(log.render, ctx, "log", "Distribution log", ":material/list:"),
            _page(fairness.render, ctx, "fairness", "Fairness audit", ":material/balance:"),
        ],
        "Team": [
            _page(today.render, ctx, "today", "Team today", ":material/groups:"),
            _page(search.render, ctx, "search", "Find a lead", ":material/search:"),
            _page(lead.render, ctx, "lead", "Why this lead", ":material/help:"),
        ],
        "Routing": [
            _page(team.render, ctx, "team", "Team settings", ":material/tune:"),
            _page(whatif.render, ctx, "whatif", "What-if", ":material/science:"),
            _page(
                routing_editor.render, ctx, "routing", "Routing editor", ":material/account_tree:"
            ),
        ],
    }


run()
