"""Settings: validated from the environment, one clear line per mistake, secrets masked."""

from __future__ import annotations

import pytest

from worker.settings import SettingsError, load_settings


def test_defaults_to_a_sqlite_file_under_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEADROUTER_DATABASE_URL")
    settings = load_settings()
    assert settings.database_url == "sqlite:///var/leadrouter.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "LEADROUTER_DATABASE_URL: not a database URL"),
        ("mysql://root@localhost/x", "LEADROUTER_DATABASE_URL: unsupported database 'mysql'"),
    ],
)
def test_a_bad_database_url_is_one_line_naming_the_variable(url: str, expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(database_url=url)
    assert str(err.value).startswith(expected)
    assert "\n" not in str(err.value)


def test_instance_url_must_be_https() -> None:
    with pytest.raises(SettingsError, match="LEADROUTER_SF_INSTANCE_URL: must start with https://"):
        load_settings(sf_instance_url="http://acme.my.salesforce.com")


def test_reads_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADROUTER_SF_INSTANCE_URL", "https://acme.my.salesforce.com/")
    monkeypatch.setenv("LEADROUTER_INTAKE_INTERVAL_SECONDS", "5")
    settings = load_settings()
    assert settings.sf_instance_url == "https://acme.my.salesforce.com"
    assert settings.token_url == "https://acme.my.salesforce.com/services/oauth2/token"
    assert settings.intake_interval_seconds == 5


@pytest.mark.parametrize(
    ("given", "flow"),
    [
        ({"sf_session_id": "00D!x"}, "session"),
        ({"sf_username": "u@x", "sf_private_key_file": "k.pem"}, "jwt"),
        ({"sf_consumer_secret": "s"}, "client_credentials"),
        ({}, None),
    ],
)
def test_auth_flow_is_inferred_from_what_is_set(given: dict[str, str], flow: str | None) -> None:
    assert load_settings(**given).sf_auth_flow == flow


def test_describe_masks_secrets_and_database_passwords() -> None:
    settings = load_settings(
        sf_consumer_secret="top-secret",
        sf_session_id="00D!session",
        database_url="postgresql+psycopg://app:hunter2@db:5432/leadrouter",
    )
    text = repr(settings.describe()) + repr(settings)
    for secret in ("top-secret", "00D!session", "hunter2"):
        assert secret not in text


def test_trusted_proxies_are_addresses_or_networks_in_one_spelling() -> None:
    settings = load_settings(trusted_proxies=" 10.0.0.5, 10.1.0.0/16 ,2001:db8::/64")
    assert settings.trusted_proxies == "10.0.0.5/32,10.1.0.0/16,2001:db8::/64"
    assert load_settings().trusted_proxies == ""  # default: X-Forwarded-For is ignored


def test_a_bad_trusted_proxy_names_the_variable_and_the_entry() -> None:
    with pytest.raises(SettingsError, match="LEADROUTER_TRUSTED_PROXIES: 'proxy.local'"):
        load_settings(trusted_proxies="10.0.0.5, proxy.local")
