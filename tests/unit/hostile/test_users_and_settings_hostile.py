"""Malformed dashboard users files and settings: one clear line naming the file and entry
(or the environment variable), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli import cli
from worker.settings import SettingsError, load_settings

# ---------------------------------------------------------------------------------------
# dashboard users file
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_hash() -> str:
    from worker.commands.dashboard import hash_password

    return hash_password("correct horse battery staple")


USERS_CASES = [
    pytest.param("users.yaml", "- [unclosed\n", "not valid YAML/JSON", id="not-yaml"),
    pytest.param("users.json", "[{'username': 'a'}]", "not valid YAML/JSON", id="bad-json"),
    pytest.param(
        "users.yaml", "admin: {role: admin}\n", "expected a list of users", id="not-a-list"
    ),
    pytest.param("users.yaml", "", "expected a list of users", id="empty-file"),
    pytest.param(
        "users.yaml", "- just-a-name\n", "user #1 is not a mapping", id="entry-not-a-mapping"
    ),
    pytest.param(
        "users.yaml",
        "- {role: admin, password_hash: HASH}\n",
        "user #1: username missing",
        id="no-username",
    ),
    pytest.param(
        "users.yaml",
        "- {username: ann, role: root, password_hash: HASH}\n",
        "user 'ann': role must be admin, viewer or rep",
        id="bad-role",
    ),
    pytest.param(
        "users.yaml",
        "- {username: ann, role: admin, password_hash: hunter2}\n",
        "user 'ann': password_hash",
        id="plain-password",
    ),
    pytest.param(
        "users.yaml",
        "- {username: ann, role: admin, password_hash: HASH}\n- \x07\n",
        "not valid YAML/JSON",
        id="control-character",
    ),
    pytest.param(
        "users.yaml",
        "- {username: ann, role: admin, password_hash: HASH, since: 2026-13-45}\n",
        "not valid YAML/JSON",
        id="impossible-date",
    ),
]


@pytest.mark.parametrize(("name", "content", "fragment"), USERS_CASES)
def test_users_file_gives_one_line_naming_file_and_entry(
    tmp_path: Path, good_hash: str, name: str, content: str, fragment: str
) -> None:
    from dashboard.auth import UsersFileError, load_users

    path = tmp_path / name
    path.write_text(content.replace("HASH", f"'{good_hash}'"), encoding="utf-8")
    with pytest.raises(UsersFileError) as info:
        load_users(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and fragment in message and "\n" not in message


def test_users_file_of_binary_garbage_is_one_clear_error(tmp_path: Path) -> None:
    from dashboard.auth import UsersFileError, load_users

    path = tmp_path / "users.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage\x89")
    with pytest.raises(UsersFileError, match="users.yaml"):
        load_users(path)


def test_users_file_with_a_duplicate_username_is_an_error(tmp_path: Path, good_hash: str) -> None:
    from dashboard.auth import UsersFileError, load_users

    path = tmp_path / "users.yaml"
    path.write_text(f"- {{username: ann, role: admin, password_hash: '{good_hash}'}}\n"
                    f"- {{username: ann, role: viewer, password_hash: '{good_hash}'}}\n")  # fmt: skip
    with pytest.raises(UsersFileError, match="ann"):
        load_users(path)


# ---------------------------------------------------------------------------------------
# settings from the environment
# ---------------------------------------------------------------------------------------

SETTINGS_CASES = [
    pytest.param("DATABASE_URL", "not a url", "not a database URL", id="database-url-garbage"),
    pytest.param(
        "DATABASE_URL",
        "mysql://root@localhost/x",
        "unsupported database 'mysql'",
        id="database-url-mysql",
    ),
    pytest.param("INTAKE_INTERVAL_SECONDS", "fast", "valid number", id="interval-not-a-number"),
    pytest.param("INTAKE_INTERVAL_SECONDS", "-1", "greater than 0", id="interval-negative"),
    pytest.param("SLA_INTERVAL_SECONDS", "nan", "", id="interval-nan"),
    pytest.param("METRICS_PORT", "70000", "less than or equal to 65535", id="port-out-of-range"),
    pytest.param("LOG_LEVEL", "LOUD", "'DEBUG', 'INFO', 'WARNING' or 'ERROR'", id="log-level"),
    pytest.param(
        "SF_INSTANCE_URL",
        "http://acme.my.salesforce.com",
        "must start with https://",
        id="instance-url-http",
    ),
    pytest.param("API_STOP_SHARE", "2", "less than or equal to 1", id="share-above-one"),
]


@pytest.mark.parametrize(("var", "value", "fragment"), SETTINGS_CASES)
def test_a_bad_setting_is_one_line_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, var: str, value: str, fragment: str
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv(f"LEADROUTER_{var}", value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"LEADROUTER_{var}: ") and fragment in message, message
    assert "\n" not in message
    result = CliRunner().invoke(cli, ["config", "check"])  # reads the settings first
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.strip() == f"Error: {message}", result.output
