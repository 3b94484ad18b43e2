"""The sign-in throttle, on SQLite and PostgreSQL: per account whoever the client is, per
client only where its address is trustworthy, checked and counted atomically, and never
a lockout of the owner beyond a short delay."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from dashboard import auth, session
from tests.dashboard.conftest import PASSWORDS
from worker.settings import parse_networks
from worker.store.db import make_engine, upgrade
from worker.store.sign_in_repo import ACCOUNT, CLIENT, begin_sign_in

T0 = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
RIGHT, WRONG = PASSWORDS["admin"], "wrong-guess-Zq9"


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> dict[str, auth.User]:
    from worker.commands.dashboard import write_users_file

    path = tmp_path_factory.mktemp("users") / "users.yaml"
    write_users_file(path, {"admin": ("admin", RIGHT)})
    return auth.load_users(path)


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Every password check that happened (argon2 skipped: the right password is
    ``RIGHT``), so a test counts guesses without paying for hashes."""
    calls: list[tuple[Any, ...]] = []
    lock = threading.Lock()

    def verify(*args: Any) -> bool:
        with lock:
            calls.append(args)
        return RIGHT in args

    monkeypatch.setattr(auth, "_verify", verify)
    return calls


def attempt(engine: Engine, users: dict[str, auth.User], **kw: Any) -> Callable[..., str]:
    def run(password: str = WRONG, client: str | None = None, at: float = 0) -> str:
        signed, message = auth.sign_in(engine, users, kw.get("username", "admin"), password,
                                       client, now=T0 + timedelta(seconds=at))  # fmt: skip
        return "ok" if signed else message

    return run


def test_fifteen_parallel_attempts_get_no_more_than_five_passwords_checked(
    engine: Engine, users: dict[str, auth.User], checked: list[tuple[Any, ...]]
) -> None:
    start = threading.Barrier(15)
    answers: list[str] = []

    def guess(i: int) -> None:
        start.wait()
        _signed, message = auth.sign_in(engine, users, "admin", f"{WRONG}-{i}", None)
        answers.append(message)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == 15
    assert len(checked) == ACCOUNT.free
    assert sum("Too many failed attempts" in a for a in answers) == 15 - ACCOUNT.free


def test_a_new_client_address_on_every_guess_gets_no_more_guesses(
    engine: Engine, users: dict[str, auth.User], checked: list[tuple[Any, ...]]
) -> None:
    guess = attempt(engine, users)
    answers = [guess(client=f"203.0.113.{i}", at=i * 0.1) for i in range(12)]
    assert len(checked) == ACCOUNT.free
    assert all("Too many failed attempts" in a for a in answers[ACCOUNT.free :])


@pytest.mark.parametrize("owner_client", ["198.51.100.7", None], ids=["other-client", "shared"])
def test_the_owner_gets_in_within_ten_seconds_of_an_attackers_last_failure(
    engine: Engine, users: dict[str, auth.User], owner_client: str | None
) -> None:
    guess = attempt(engine, users)
    for i in range(40):  # the attacker keeps guessing, a try every half second
        guess(client="203.0.113.9" if owner_client else None, at=i * 0.5)
    last = 40 * 0.5
    assert guess(RIGHT, owner_client, at=last + 10.01) == "ok"  # the promise: 10 s at most


def test_a_client_guessing_every_second_for_ten_minutes_is_locked_out_for_long(
    engine: Engine, users: dict[str, auth.User], checked: list[tuple[Any, ...]]
) -> None:
    guess = attempt(engine, users)
    answers = [guess(client="203.0.113.9", at=t) for t in range(600)]
    failed_at = [t for t, a in enumerate(answers) if "Wrong" in a]
    assert len(checked) == len(failed_at) <= CLIENT.free + 4  # 30 s, 60 s, 120 s, 240 s
    later = failed_at[-1] + 60
    assert "Too many failed attempts" in guess(RIGHT, "203.0.113.9", at=later)
    assert guess(RIGHT, "198.51.100.7", at=later) == "ok"


def test_a_success_clears_the_account_and_old_failures_are_forgotten(
    engine: Engine, users: dict[str, auth.User], checked: list[tuple[Any, ...]]
) -> None:
    guess = attempt(engine, users)
    for i in range(ACCOUNT.free):
        guess(at=i)
    assert "Too many" in guess(at=ACCOUNT.free)
    assert guess(RIGHT, at=ACCOUNT.free + ACCOUNT.cap) == "ok"
    assert "Wrong" in guess(at=30)  # counted from zero again
    for i in range(ACCOUNT.free - 1):
        guess(at=31 + i)
    assert "Too many" in guess(at=35)
    assert "Wrong" in guess(at=34 + ACCOUNT.window.total_seconds())  # forgotten


def test_unknown_usernames_are_throttled_per_name_like_known_ones(
    engine: Engine, users: dict[str, auth.User], checked: list[tuple[Any, ...]]
) -> None:
    for name in ("admin", "nobody"):
        guess = attempt(engine, users, username=name)
        answers = [guess(at=i * 0.1) for i in range(ACCOUNT.free + 1)]
        assert ["Wrong" in a for a in answers] == [True] * ACCOUNT.free + [False]


def test_refused_attempts_are_not_counted_and_check_nothing(engine: Engine) -> None:
    for _ in range(ACCOUNT.free):
        assert begin_sign_in(engine, username="ann", client=None, now=T0) == 0
    waits = [begin_sign_in(engine, username="ann", client=None, now=T0) for _ in range(20)]
    assert waits == [ACCOUNT.first] * 20  # refused attempts do not make it grow


@pytest.mark.parametrize(
    ("address", "proxies", "expected"),
    [
        ("203.0.113.5", "", "203.0.113.5"),
        ("127.0.0.1", "", None),  # every local process and an undeclared local proxy
        ("::1", "", None),
        (None, "", None),  # AppTest, bare scripts
        ("10.0.0.2", "10.0.0.0/24", None),  # the proxy itself: it forwarded no address
        ("203.0.113.5", "10.0.0.0/24", "203.0.113.5"),
        ("not-an-ip", "", None),
        ("2001:db8::1", "", "2001:db8::1"),
    ],
)
def test_trusted_client(address: str | None, proxies: str, expected: str | None) -> None:
    assert auth.trusted_client(address, parse_networks(proxies)) == expected


def test_an_unknown_username_costs_the_same_argon2_work_as_the_users_files_hashes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The users file's parameters differ from argon2-cffi's defaults, which the dummy
    hash used to have (20 ms against 146 ms)."""
    from argon2 import PasswordHasher, extract_parameters

    strong = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
    path = tmp_path / "users.yaml"
    path.write_text(f"- {{username: ann, role: viewer, password_hash: '{strong.hash('pw-1')}'}}\n")
    users = auth.load_users(path)
    verified: list[str] = []
    real = PasswordHasher.verify

    def spy(self: PasswordHasher, hash: str, password: str) -> bool:  # noqa: A002
        verified.append(hash)
        return bool(real(self, hash, password))

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    engine = make_engine(f"sqlite:///{tmp_path}/s.db")
    upgrade(f"sqlite:///{tmp_path}/s.db")
    auth.sign_in(engine, users, "ann", "wrong", None)
    auth.sign_in(engine, users, "mallory", "wrong", None)
    known, unknown = (extract_parameters(h) for h in verified)
    assert unknown == known


@pytest.mark.parametrize(
    ("proxies", "server_env", "expected"),
    [
        ("", "", "203.0.113.7"),  # started by `dashboard serve`: the peer is real
        ("", None, None),  # a bare `streamlit run`: uvicorn believes localhost's header
        ("10.0.0.0/24", "", None),  # the server does not know the configured proxies
        ("10.0.0.0/24", "10.0.0.0/24", "203.0.113.7"),
    ],
)
def test_the_dashboard_trusts_the_client_address_only_from_a_server_it_configured(
    proxies: str, server_env: str | None, expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEADROUTER_TRUSTED_PROXIES", proxies)
    if server_env is None:
        monkeypatch.delenv(session.PROXY_ENV, raising=False)
    else:
        monkeypatch.setenv(session.PROXY_ENV, server_env)
    context = SimpleNamespace(ip_address="203.0.113.7")
    monkeypatch.setattr(session, "st", SimpleNamespace(context=context))
    assert session.client_id() == expected
