"""`leadrouter dashboard add-user` writes a users-file entry the dashboard accepts: an
argon2 hash (never the password), the file owner-only, other users untouched."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from dashboard.auth import load_users
from worker.cli import cli


def add(args: list[str], password: str = "correct horse 1\n", **env: str) -> Result:
    return CliRunner().invoke(
        cli, ["dashboard", "add-user", *args, "--password-stdin"], input=password, env=env
    )


def test_creates_the_file_owner_only_with_a_verifiable_hash(tmp_path: Path) -> None:
    from argon2 import PasswordHasher

    users = tmp_path / "conf" / "users.yaml"
    result = add(["ann", "--role", "admin"], LEADROUTER_DASHBOARD_USERS_FILE=str(users))
    assert result.exit_code == 0, result.output
    assert f"{users}: added ann (admin)" in result.output
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert "correct horse" not in users.read_text()
    loaded = load_users(users)
    assert loaded["ann"].role == "admin"
    assert PasswordHasher().verify(loaded["ann"].password_hash, "correct horse 1")


def test_updates_an_existing_user_and_keeps_the_others(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    assert add(["ann", "--role", "admin", "--file", str(users)]).exit_code == 0
    assert add(["bob", "--role", "viewer", "--file", str(users)]).exit_code == 0
    bob_hash = load_users(users)["bob"].password_hash
    result = add(["ann", "--role", "viewer", "--file", str(users)], "another secret\n")
    assert result.exit_code == 0 and "updated ann (viewer)" in result.output
    loaded = load_users(users)
    assert [u.username for u in loaded.values()] == ["ann", "bob"]
    assert loaded["ann"].role == "viewer" and loaded["bob"].password_hash == bob_hash


def test_a_json_users_file_stays_json(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    users.write_text("[]")
    assert add(["ann", "--role", "viewer", "--file", str(users)]).exit_code == 0
    assert users.read_text().lstrip().startswith("[") and load_users(users)["ann"]


def test_prompts_twice_and_refuses_a_mismatch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["first password", "second password"])
    monkeypatch.setattr("getpass.getpass", lambda _prompt="": next(answers))
    users = tmp_path / "users.yaml"
    result = CliRunner().invoke(
        cli, ["dashboard", "add-user", "ann", "--role", "admin", "--file", str(users)]
    )
    assert result.exit_code == 1 and "the passwords differ" in result.output
    assert not users.exists()


@pytest.mark.parametrize(
    ("args", "content", "expected"),
    [
        (["ann", "--role", "owner"], None, "Invalid value for '--role'"),
        (["ann", "--role", "admin"], "{a: 1}", "expected a list of users"),
        (["ann", "--role", "admin"], "[unclosed", "not valid YAML/JSON"),
    ],
)
def test_bad_input_is_one_clear_line(
    args: list[str], content: str | None, expected: str, tmp_path: Path
) -> None:
    users = tmp_path / "users.yaml"
    if content is not None:
        users.write_text(content)
    result = add([*args, "--file", str(users)])
    assert result.exit_code != 0 and expected in result.output
    assert "Traceback" not in result.output


def test_no_file_named_anywhere_says_how_to_name_one() -> None:
    result = add(["ann", "--role", "admin"])
    assert result.exit_code == 1 and "LEADROUTER_DASHBOARD_USERS_FILE" in result.output


def test_short_passwords_are_refused(tmp_path: Path) -> None:
    result = add(["ann", "--role", "admin", "--file", str(tmp_path / "u.yaml")], "short\n")
    assert result.exit_code == 1 and "too short" in result.output


def test_the_written_file_is_what_hash_password_users_write_by_hand(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    add(["ann", "--role", "admin", "--file", str(users)])
    (entry,) = yaml.safe_load(users.read_text())
    assert set(entry) == {"username", "role", "password_hash"}
    assert entry["password_hash"].startswith("$argon2id$")


def test_a_rep_user_names_their_rep_and_the_dashboard_accepts_it(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    result = add(["sarah", "--role", "rep", "--rep", "sarah@acme.example", "--file", str(users)])
    assert result.exit_code == 0, result.output
    assert load_users(users)["sarah"].rep == "sarah@acme.example"
    # made an admin later: the rep key goes, an admin is nobody's rep
    assert add(["sarah", "--role", "admin", "--file", str(users)]).exit_code == 0
    assert load_users(users)["sarah"].rep is None
    assert "rep" not in yaml.safe_load(users.read_text())[0]


def test_a_rep_without_their_key_or_a_key_for_another_role_is_refused(tmp_path: Path) -> None:
    users = tmp_path / "users.yaml"
    result = add(["sarah", "--role", "rep", "--file", str(users)])
    assert result.exit_code != 0 and "--rep" in result.output and not users.exists()
    result = add(["ann", "--role", "admin", "--rep", "x@y.z", "--file", str(users)])
    assert result.exit_code != 0 and "only for --role rep" in result.output


def test_the_demos_rep_user_is_a_rep_of_the_config_and_loads_as_one(tmp_path: Path) -> None:
    from devkit.commands.demo import DEMO_REP, REPO_CONFIG, _demo_users
    from worker.commands.dashboard import write_users_file
    from worker.routing_config import load_config

    root = Path(__file__).resolve().parents[3]
    assert DEMO_REP in load_config(root / REPO_CONFIG).reps
    users = _demo_users(tmp_path)
    assert users["sarah"][0] == "rep"
    write_users_file(tmp_path / "users.yaml", users, {"sarah": DEMO_REP})
    loaded = load_users(tmp_path / "users.yaml")
    assert loaded["sarah"].rep == DEMO_REP and loaded["admin"].rep is None
