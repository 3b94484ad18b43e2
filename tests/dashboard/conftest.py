"""Fixtures for the dashboard tests: a users file, a routing config matching the fake
journal, stores (empty, seeded, one million decisions) and a signed-in AppTest."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from filelock import FileLock
from streamlit.testing.v1 import AppTest

from devkit.commands.bench_dashboard import grow_by_doubling
from devkit.commands.dashboard_fake import demo_routing_yaml, insert_fake
from worker.commands.dashboard import write_users_file
from worker.store.db import make_engine, upgrade

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")
PASSWORDS = {"admin": "admin-pass-123", "viewer": "viewer-pass-123"}
PAGES = ("overview", "log", "fairness", "team", "whatif", "today", "search", "lead", "routing")


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("users") / "users.yaml"
    write_users_file(path, {name: (name, pw) for name, pw in PASSWORDS.items()})
    return path


@pytest.fixture(scope="session")
def routing_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "routing.yaml"
    path.write_text(demo_routing_yaml(), encoding="utf-8")
    return path


@pytest.fixture
def empty_store(sqlite_url: str) -> str:
    upgrade(sqlite_url)
    return sqlite_url


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded')}/seeded.db"
    upgrade(url)
    insert_fake(make_engine(url, pool=False), 3000, days=14, seed=11)
    return url


MILLION_VERSION = "1"  # bump when the fake generator changes shape


@pytest.fixture(scope="session")
def million_store(request: pytest.FixtureRequest) -> str:
    """A 1,000,000-decision SQLite store, built once (about a minute) and kept in pytest's
    cache folder, keyed by schema head so a new migration rebuilds it."""
    from worker.store.db import head_revision

    folder = request.config.cache.mkdir("dashboard-million")
    path = folder / f"million-{head_revision()}-v{MILLION_VERSION}.db"
    url = f"sqlite:///{path}"
    # xdist runs this fixture once per worker process: build under a lock, once.
    with FileLock(str(folder / "build.lock")):
        if not path.exists():
            partial = folder / "building.db"
            for stale in folder.glob("building.db*"):
                stale.unlink()
            building = f"sqlite:///{partial}"
            upgrade(building)
            insert_fake(make_engine(building, pool=False), 20_000, days=90, seed=5)
            grow_by_doubling(building, 1_000_000)
            partial.rename(path)
    upgrade(url)
    return url


@pytest.fixture
def dashboard_env(
    monkeypatch: pytest.MonkeyPatch, users_file: Path, routing_file: Path
) -> Callable[[str], None]:
    def point_at(url: str) -> None:
        monkeypatch.setenv("LEADROUTER_DATABASE_URL", url)
        monkeypatch.setenv("LEADROUTER_DASHBOARD_USERS_FILE", str(users_file))
        monkeypatch.setenv("LEADROUTER_ROUTING_CONFIG", str(routing_file))
        monkeypatch.setenv("LEADROUTER_SF_INSTANCE_URL", "https://acme.my.salesforce.com")

    return point_at


def new_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60)


def open_page(at: AppTest, page: str) -> AppTest:
    """Switch to ``page`` (its URL path, one of ``PAGES``) before the next ``run()``.

    The pages are functions (``render(ctx)``) that ``st.Page`` keys by the hash of their
    URL path; ``AppTest.switch_page`` only finds page files, so the key is set here. Once
    the app has run signed in, a page the navigation does not know is refused.
    """
    from streamlit.util import calc_hash

    known = at._registered_pages
    if known and calc_hash(page) not in known:
        titles = sorted(str(i.get("page_name")) for i in known.values())
        raise ValueError(f"no page {page!r} in the navigation: {titles}")
    at._page_hash = calc_hash(page)
    return at


def sign_in(at: AppTest, username: str, password: str | None = None) -> AppTest:
    at.run()
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password or PASSWORDS[username])
    at.button[0].click().run()
    return at


@pytest.fixture
def app_as(dashboard_env: Callable[[str], None]) -> Iterator[Callable[[str, str], AppTest]]:
    """``app_as(store_url, "admin")``: an AppTest signed in as that user."""
    import streamlit as st

    def make(url: str, username: str) -> AppTest:
        dashboard_env(url)
        return sign_in(new_app(), username)

    yield make
    st.cache_data.clear()
    st.cache_resource.clear()


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
