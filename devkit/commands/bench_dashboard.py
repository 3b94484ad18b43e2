"""``leadrouter bench dashboard``: seconds per dashboard page, cold, on stores of three sizes.

Issue 20's acceptance: an empty store, the demo store and a 1,000,000-decision store each
render every page in under 2 s. This renders each page in Streamlit's own test runner
(``AppTest``: the whole script, every query and every widget, without a browser), signed
in as an admin, with Streamlit's data cache cleared before each page (the cold figure:
what the first viewer after a change waits for). A figure, not a gate: it prints seconds
(wall, and the CPU seconds of this process: on a shared machine the wall figure moves with
the neighbours) (``--json`` for a machine) and exits 0 whatever they are.

The stores: ``empty`` (migrated, no rows), ``demo`` (the dashboard's fake journal of
``dashboard.fake-data``: 3,000 decisions over 14 days) and ``million`` (20,000 fake
decisions over 90 days, copied onto themselves up to 1,000,000 rows: about a minute to
build, kept at ``--million-file`` for the next run). ``--store NAME=URL`` benches any
other store too (a PostgreSQL copy, a demo's state), ``--only`` picks stores.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from devkit.commands.dashboard_fake import demo_routing_yaml, insert_fake

PAGES = ("overview", "log", "fairness", "team", "whatif", "today", "search", "lead", "routing")
APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
ADMIN = ("admin", "bench-admin-pass-123")
MILLION = 1_000_000
# what "Find a lead" is timed with besides its empty form: a domain with leads, one with
# none, and a name part nobody has (the searches that used to read every row)
SEARCHES = ("company0.example", "nobody-here.example", "Zzyzx Nobody")
DEFAULT_MILLION_FILE = Path("var/bench/dashboard-million.db")


def grow_by_doubling(url: str, target: int) -> None:
    """Copy the journal onto itself until it holds ``target`` rows (SQL only: seconds,
    where generating a million rows in Python takes minutes). SQLite drops its indexes
    while copying and rebuilds them once at the end (much faster)."""
    from worker.store.db import make_engine

    engine = make_engine(url, pool=False)
    cols = [c["name"] for c in sa.inspect(engine).get_columns("decision") if c["name"] != "id"]
    listed = ", ".join(cols)
    if engine.dialect.name == "sqlite":
        engine.dispose()
        _grow_sqlite(str(engine.url.database), listed, target)
        return
    with engine.begin() as conn:
        while (n := conn.exec_driver_sql("SELECT count(*) FROM decision").scalar_one()) < target:
            conn.exec_driver_sql(_copy(listed, n, target))
    # what autovacuum does soon after a bulk insert (index-only scans need it)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE decision")
    engine.dispose()


def _copy(listed: str, n: int, target: int) -> str:
    return (
        f"INSERT INTO decision ({listed}) SELECT {listed} FROM decision "
        f"ORDER BY id LIMIT {min(n, target - n)}"
    )


def _grow_sqlite(path: str, listed: str, target: int) -> None:
    """The SQLite copy, on a store nobody else has open (a fresh build): indexes dropped
    and rebuilt once, and neither a rollback journal nor fsyncs while it runs (a crash
    leaves a half-built file, which the builders delete and start again); the store's
    own WAL mode is set back at the end. A third faster than through the store's WAL
    (27 s against 40 s for a million rows on the 2-core machine)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=OFF")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")  # 256 MB for the index builds
        conn.execute("PRAGMA temp_store=MEMORY")
        indexes = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='index' "
            "AND tbl_name='decision' AND sql IS NOT NULL"
        ).fetchall()
        conn.execute("BEGIN")
        for name, _ in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        while (n := conn.execute("SELECT count(*) FROM decision").fetchone()[0]) < target:
            conn.execute(_copy(listed, n, target))
        for _, sql in indexes:
            conn.execute(sql)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode=WAL")
    finally:
        conn.close()


def build_million(path: Path, rows: int = MILLION) -> str:
    """The million-decision SQLite store at ``path`` (built when missing, migrated to the
    head either way); its URL."""
    from worker.store.db import upgrade

    url = f"sqlite:///{path}"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".building")
        for stale in path.parent.glob(partial.name + "*"):
            stale.unlink()
        fill_million(f"sqlite:///{partial}", rows)
        partial.rename(path)
    upgrade(url)
    return url


def fill_million(url: str, rows: int = MILLION) -> None:
    """Migrate the (empty) store ``url`` and fill it with ``rows`` fake decisions: 20,000
    over 90 days (the dashboard's fake generator), copied onto themselves."""
    from worker.store.db import make_engine, upgrade

    upgrade(url)
    engine = make_engine(url, pool=False)
    insert_fake(engine, min(rows, 20_000), days=90, seed=5)
    engine.dispose()
    grow_by_doubling(url, rows)


def build_demo(path: Path) -> str:
    from worker.store.db import make_engine, upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    insert_fake(make_engine(url, pool=False), 3000, days=14, seed=11)
    return url


def build_empty(path: Path) -> str:
    from worker.store.db import upgrade

    url = f"sqlite:///{path}"
    upgrade(url)
    return url


def open_page(at: Any, page: str) -> Any:
    """Switch ``at`` (an ``AppTest``) to ``page`` (its URL path) before the next ``run()``:
    the pages are functions that ``st.Page`` keys by the hash of their URL path, which
    ``AppTest.switch_page`` (page files only) cannot name. Refuses a page the signed-in
    navigation does not know."""
    from streamlit.util import calc_hash

    known = at._registered_pages
    if known and calc_hash(page) not in known:
        titles = sorted(str(i.get("page_name")) for i in known.values())
        raise ValueError(f"no page {page!r} in the navigation: {titles}")
    at._page_hash = calc_hash(page)
    return at


@contextmanager
def _dashboard_env(url: str, folder: Path) -> Iterator[None]:
    from worker.commands.dashboard import write_users_file

    users = folder / "users.yaml"
    if not users.exists():
        write_users_file(users, {ADMIN[0]: (ADMIN[0], ADMIN[1])})
    routing = folder / "routing.yaml"
    routing.write_text(demo_routing_yaml(), encoding="utf-8")
    env = {
        "LEADROUTER_DATABASE_URL": url,
        "LEADROUTER_DASHBOARD_USERS_FILE": str(users),
        "LEADROUTER_ROUTING_CONFIG": str(routing),
        "LEADROUTER_SF_INSTANCE_URL": "https://acme.my.salesforce.com",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def time_pages(url: str, folder: Path, pages: tuple[str, ...] = PAGES) -> dict[str, Any]:
    """Seconds per page of the dashboard on ``url``, each cold (Streamlit's caches
    cleared first), and the errors a page showed (none expected)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    out: dict[str, Any] = {}
    with _dashboard_env(url, folder):
        st.cache_data.clear()
        st.cache_resource.clear()
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.run()
        at.text_input(key="signin_username").input(ADMIN[0])
        at.text_input(key="signin_password").input(ADMIN[1])
        at.button[0].click().run()
        for page in pages:
            st.cache_data.clear()  # the cold figure, not the cache's
            out[page] = _timed(at, lambda a, p=page: open_page(a, p).run())  # type: ignore[misc]
            if page == "search":
                for text in SEARCHES:
                    st.cache_data.clear()
                    out[f"search {text}"] = _timed(
                        at,
                        lambda a, t=text: a.text_input(key="search_text").input(t).run(),  # type: ignore[misc]
                    )
                at.text_input(key="search_text").input("").run()
        st.cache_data.clear()
        st.cache_resource.clear()
    return out


def _timed(at: Any, run: Any) -> dict[str, Any]:
    """Wall seconds of one run, and the CPU seconds this process spent in it (on a busy
    shared machine the wall figure moves with the neighbours; the CPU one much less)."""
    cpu, started = time.process_time(), time.perf_counter()
    run(at)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"seconds": round(wall, 3), "cpu_seconds": round(cpu, 3), "errors": _problems(at)}


def _problems(at: Any) -> list[str]:
    return [str(e.value) for e in at.exception] + [str(e.value) for e in at.error]


def _rows(url: str) -> int:
    from worker.store.db import make_engine

    engine = make_engine(url, pool=False)
    with engine.connect() as conn:
        n = int(conn.exec_driver_sql("SELECT count(*) FROM decision").scalar_one())
    engine.dispose()
    return n


@click.command("dashboard")
@click.option(
    "--only",
    type=click.Choice(["empty", "demo", "million"]),
    multiple=True,
    help="Bench only these built-in stores (repeatable; default: all three).",
)
@click.option(
    "--store",
    "stores",
    multiple=True,
    metavar="NAME=URL",
    help="Also bench this store (e.g. a PostgreSQL copy of the million store).",
)
@click.option(
    "--million-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_MILLION_FILE,
    show_default=True,
    help="SQLite file of the 1,000,000-decision store (built there when missing).",
)
@click.option("--page", "pages", type=click.Choice(PAGES), multiple=True, help="Only these pages.")
@click.option(
    "--fill-million",
    "fill_urls",
    multiple=True,
    metavar="URL",
    help="First fill this empty store (e.g. a new PostgreSQL database) with 1,000,000 fake "
    "decisions; bench it with --store NAME=URL.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def dashboard(
    only: tuple[str, ...],
    stores: tuple[str, ...],
    million_file: Path,
    pages: tuple[str, ...],
    fill_urls: tuple[str, ...],
    as_json: bool,
) -> None:
    """Seconds per dashboard page (cold) on an empty, the demo and a 1,000,000-decision
    store (issue 20's target: every page under 2 s). A figure, not a gate."""
    targets: list[tuple[str, Any]] = []
    for item in stores:
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise click.BadParameter(f"{item!r}: use NAME=URL", param_hint="--store")
        targets.append((name, url))
    for url in fill_urls:
        fill_million(url)
    built = [s for s in ("empty", "demo", "million") if s in only or (not only and not stores)]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        folder = Path(tmp)
        for name in built:
            if name == "empty":
                url = build_empty(folder / "empty.db")
            elif name == "demo":
                url = build_demo(folder / "demo.db")
            else:
                if not as_json:
                    click.echo(f"million store: {million_file} (built when missing, ~1 min)")
                url = build_million(million_file)
            targets.insert(built.index(name), (name, url))
        for name, url in targets:
            figures = time_pages(url, folder, pages or PAGES)
            results[name] = {"decisions": _rows(url), "pages": figures}
            if not as_json:
                _print(name, results[name])
    if as_json:
        click.echo(json.dumps(results, indent=2))


def _print(name: str, result: dict[str, Any]) -> None:
    click.echo(f"{name} ({result['decisions']:,} decisions)")
    for page, fig in result["pages"].items():
        flag = "" if fig["seconds"] < 2 else "  over 2 s"
        errors = f"  errors: {'; '.join(fig['errors'])}" if fig["errors"] else ""
        cpu = f"(cpu {fig['cpu_seconds']:5.2f} s)"
        click.echo(f"  {page:<32} {fig['seconds']:6.2f} s {cpu}{flag}{errors}")
