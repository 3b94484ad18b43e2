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

from dashboard import auth, data, session, state  # noqa: E402
from dashboard.context import PageContext  # noqa: E402
from dashboard.views import fairness, log, overview, routing_editor, team, whatif  # noqa: E402
from worker.settings import SettingsError  # noqa: E402


def _sso_sign_in() -> None:
    """Single sign-on (``st.login``, OIDC): the identity provider checks the person, the
    settings map their e-mail to a role (``auth.sso_actor``)."""
    settings = data.settings()
    user = session.sso_user()
    if user.get("is_logged_in") is True:
        st.warning(
            f"You are signed in as {user.get('email') or 'an unnamed user'}, "
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
            st.rerun()


def _sidebar(actor_name: str, role: str) -> None:
    with st.sidebar:
        st.caption(f"Signed in as **{actor_name}** ({role})")
        if st.button("Sign out", key="sign_out"):
            st.session_state.pop(state.USER, None)
            if session.sso_user().get("is_logged_in") is True:
                st.logout()  # clears the identity cookie and reruns
            st.rerun()


def run() -> None:
    st.set_page_config(page_title="leadrouter", page_icon=":material/alt_route:", layout="wide")
    state.init_state()
    try:
        if data.settings().dashboard_users_file is not None or not data.settings().sso_roles:
            session.users()  # single sign-on alone needs no users file
    except (SettingsError, auth.UsersFileError) as exc:
        st.error(f"The dashboard is not configured: {exc}")
        st.stop()
    actor = session.current_actor()
    if actor is None:
        _sign_in_form()
        st.stop()
    _sidebar(actor.username, actor.role)
    ctx = PageContext(actor, data.settings(), datetime.now(UTC), data.effective)
    st.navigation(_pages(ctx)).run()


def _page(
    render: Callable[[PageContext], None], ctx: PageContext, path: str, title: str, icon: str
) -> st.Page:
    """A page that renders with ``ctx``; ``path`` is its URL (and AppTest's page key)."""
    return st.Page(
        partial(render, ctx), title=title, icon=icon, url_path=path, default=path == "overview"
    )


def _pages(ctx: PageContext) -> dict[str, list[st.Page]]:
    return {
        "Monitor": [
            _page(overview.render, ctx, "overview", "Overview", ":material/dashboard:"),
            _page(log.render, ctx, "log", "Distribution log", ":material/list:"),
            _page(fairness.render, ctx, "fairness", "Fairness audit", ":material/balance:"),
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
