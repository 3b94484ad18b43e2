"""Settings: one validated object, read from the environment (and an optional ``.env``).

Every variable is prefixed ``LEADROUTER_`` (``LEADROUTER_DATABASE_URL``...). This is the
only module that reads ``os.environ`` for configuration. Secrets are ``SecretStr``: they
print as ``**********`` and :meth:`Settings.describe` masks them, so settings can be
logged safely.
"""

from __future__ import annotations

import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

AuthFlow = Literal["jwt", "client_credentials", "session"]

DEFAULT_DATABASE_URL = "sqlite:///var/leadrouter.db"


class SettingsError(ValueError):
    """Settings are missing or invalid; the message names the variable."""


IPNetwork = IPv4Network | IPv6Network


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """``"10.0.0.5, 10.1.0.0/16"`` as networks; raises ValueError naming a bad entry."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if item:
            try:
                networks.append(ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
    return tuple(networks)


def networks_text(value: str) -> str:
    """The canonical spelling of a network list (``10.0.0.5/32,10.1.0.0/16``): the form
    the trusted-proxies setting is stored in and handed to the dashboard's server."""
    return ",".join(str(n) for n in parse_networks(value))


def parse_sso_roles(value: str) -> dict[str, str]:
    """``"ann@acme.example=admin, @acme.example=viewer"`` as a dict; raises ValueError
    naming a bad entry. A ``rep`` signs in as the rep whose key is their e-mail."""
    roles: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        who, sep, role = (p.strip() for p in item.partition("="))
        if not sep or "@" not in who or role not in ("admin", "viewer", "rep"):
            raise ValueError(
                f"{item!r}: expected e-mail=admin|viewer|rep or @domain=admin|viewer|rep"
            )
        roles[who.lower()] = role
    return roles


class Settings(BaseSettings):
    """Everything the worker, the CLI and the dashboard need to know about their environment."""

    model_config = SettingsConfigDict(
        env_prefix="LEADROUTER_", env_file=".env", extra="ignore", frozen=True
    )

    # --- store -----------------------------------------------------------------------
    database_url: str = Field(
        DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL: sqlite:///path.db (default, under ./var) or "
        "postgresql+psycopg://user@host:5432/db for production and several replicas.",
    )

    # --- Salesforce connection -------------------------------------------------------
    sf_instance_url: str | None = Field(
        None, description="https://yourdomain.my.salesforce.com (the org's My Domain URL)."
    )
    sf_token_url: str | None = Field(
        None, description="OAuth token endpoint; default {instance_url}/services/oauth2/token."
    )
    sf_auth_flow: AuthFlow | None = Field(
        None, description="jwt | client_credentials | session; inferred from what is set."
    )
    sf_consumer_key: str | None = Field(None, description="Connected app consumer key.")
    sf_consumer_secret: SecretStr | None = Field(
        None, description="Consumer secret (client credentials flow)."
    )
    sf_username: str | None = Field(None, description="Integration user (JWT bearer flow).")
    sf_private_key_file: Path | None = Field(
        None, description="PEM private key whose certificate is on the connected app (JWT)."
    )
    sf_jwt_audience: str = Field(
        "https://login.salesforce.com",
        description="JWT 'aud': https://login.salesforce.com, https://test.salesforce.com "
        "or the My Domain login URL.",
    )
    sf_session_id: SecretStr | None = Field(
        None, description="An existing access token (tests, debugging); never refreshed."
    )
    sf_ca_bundle: Path | None = Field(
        None, description="CA bundle to trust (the sandbox org's CA); default: system CAs."
    )
    sf_api_version: str = Field("59.0", description="REST API version, e.g. 59.0.")
    sf_timeout_seconds: float = Field(30.0, gt=0, description="HTTP timeout per request.")
    sf_pubsub_endpoint: str = Field(
        "api.pubsub.salesforce.com:7443",
        description="Pub/Sub API endpoint (host:port, TLS) for intake mode subscribe.",
    )
    sf_org_id: str | None = Field(
        None,
        description="The org id sent as the Pub/Sub API's tenantid; default: from the "
        "identity URL of the token response.",
    )

    # --- routing ---------------------------------------------------------------------
    routing_config: Path = Field(
        Path("config/routing.yaml"), description="Routing config file (YAML)."
    )
    intake_mode: Literal["poll", "subscribe"] | None = Field(
        None,
        description="poll | subscribe: overrides intake.mode of the routing config when set.",
    )
    intake_users: str = Field(
        "",
        description="Comma-separated e-mails/usernames of users (e.g. the integration user) "
        "whose new leads are intake too, next to the intake queues.",
    )

    # --- worker cadence --------------------------------------------------------------
    intake_interval_seconds: float = Field(
        2.0, gt=0, description="Intake poll interval while leads flow or in business hours."
    )
    idle_interval_seconds: float = Field(
        30.0, gt=0, description="Intake poll interval when the org has been idle."
    )
    sla_interval_seconds: float = Field(30.0, gt=0, description="SLA sweep interval.")
    contact_mirror_max_age_seconds: float = Field(
        60.0,
        ge=0,
        description="Known-e-mail matching reads contacts from the store's contact mirror, "
        "refreshed first when its last refresh is older than this; a contact changed "
        "within it may be missed (0: query Salesforce for every batch instead).",
    )
    notify_interval_seconds: float = Field(
        5.0, gt=0, description="How often queued notifications are delivered."
    )
    api_slow_share: float = Field(
        0.8, gt=0, le=1, description="Share of the daily API allocation at which to slow down."
    )
    api_stop_share: float = Field(
        0.95, gt=0, le=1, description="Share of the daily API allocation at which to stop writing."
    )

    # --- operations ------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="DEBUG | INFO | WARNING | ERROR; no lead PII at INFO."
    )
    log_format: Literal["json", "text"] = Field(
        "text", description="text | json (one structured object a line)."
    )
    metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Serve /healthz and /metrics on this port."
    )
    metrics_host: str = Field(
        "127.0.0.1",
        description="Address /healthz and /metrics listen on; 0.0.0.0 only inside a "
        "container or behind a firewall.",
    )
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token /metrics requires (Authorization: Bearer ...)."
    )

    # --- notifications: SMTP ---------------------------------------------------
    smtp_host: str | None = Field(None, description="SMTP server for e-mail notifications.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS).")
    smtp_username: str | None = Field(None, description="SMTP login; none = no AUTH.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_starttls: bool = Field(True, description="Upgrade the connection with STARTTLS.")
    smtp_tls: bool = Field(False, description="Implicit TLS from the first byte (port 465).")
    smtp_from: str = Field("leadrouter@localhost", description="From: address of e-mails.")
    smtp_ca_bundle: Path | None = Field(None, description="CA bundle to trust for SMTP TLS.")

    # --- dashboard -------------------------------------------------------------------
    dashboard_users_file: Path | None = Field(
        None,
        description="Dashboard users: YAML or JSON list of {username, role, password_hash} "
        "(argon2; role admin, viewer or rep, a rep with their rep key), see 'Dashboard users' "
        "below; `leadrouter dashboard add-user` writes it.",
    )
    trusted_proxies: str = Field(
        "",
        description="Comma-separated addresses or networks (10.0.0.5, 10.1.0.0/16) of the "
        "reverse proxies in front of the dashboard. Only their X-Forwarded-For is believed; "
        "empty: the header is ignored and the client is the TCP peer.",
    )
    dashboard_url: str | None = Field(
        None,
        description="The dashboard's address as people open it (https://leads.acme.example): "
        "notifications then link each lead to its 'why' page (<url>/lead?lead=<Id>).",
    )
    dashboard_sso_roles: str = Field(
        "",
        description="Single sign-on (Streamlit st.login, OIDC provider in "
        ".streamlit/secrets.toml [auth]): comma-separated e-mail=role pairs, "
        "'@domain=role' for a whole domain, role admin, viewer or rep (a rep is the rep "
        "whose key is their e-mail). Empty: SSO off.",
    )
    dashboard_sso_provider: str | None = Field(
        None, description="Name of the [auth.<name>] provider to use; none: the [auth] one."
    )
    dashboard_session_secret: SecretStr | None = Field(
        None,
        description="Key that signs the dashboard's session tokens (a reload keeps the "
        "session for dashboard_session_hours). At least 32 characters; none: a random key "
        "per dashboard process (a restart signs everyone out).",
    )
    dashboard_session_hours: float = Field(
        12.0, gt=0, le=24 * 7, description="How long a dashboard session token is valid."
    )

    @field_validator("dashboard_session_secret")
    @classmethod
    def _check_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(
                "not a database URL (expected sqlite:///path.db or "
                "postgresql+psycopg://user@host:5432/db)"
            ) from None
        backend, _, driver = url.drivername.partition("+")
        if backend == "postgres" or (backend == "postgresql" and driver != "psycopg"):
            scheme = value.split("://", 1)[0]
            raise ValueError(
                f"{scheme}:// is not supported: write "
                "postgresql+psycopg://user@host:5432/db (the psycopg 3 driver)"
            )
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {backend!r}: use sqlite or postgresql")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: str) -> str:
        return networks_text(value)

    @field_validator("dashboard_sso_roles")
    @classmethod
    def _check_sso_roles(cls, value: str) -> str:
        parse_sso_roles(value)
        return value

    @field_validator("dashboard_url")
    @classmethod
    def _check_dashboard_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(
                "must be an http(s):// address without query (https://leads.acme.example)"
            )
        return value

    @field_validator("sf_instance_url", "sf_token_url")
    @classmethod
    def _check_https_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.rstrip("/")
        if not value.startswith("https://"):
            raise ValueError("must start with https:// (Salesforce only speaks HTTPS)")
        return value

    @model_validator(mode="after")
    def _infer_flow(self) -> Settings:
        if self.sf_auth_flow is None:
            flow: AuthFlow | None = None
            if self.sf_session_id is not None:
                flow = "session"
            elif self.sf_private_key_file is not None and self.sf_username:
                flow = "jwt"
            elif self.sf_consumer_secret is not None:
                flow = "client_credentials"
            object.__setattr__(self, "sf_auth_flow", flow)
        return self

    @property
    def token_url(self) -> str | None:
        if self.sf_token_url:
            return self.sf_token_url
        if self.sf_instance_url:
            return f"{self.sf_instance_url}/services/oauth2/token"
        return None

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def sso_roles(self) -> dict[str, str]:
        """E-mail address or ``@domain`` -> role, lower-cased."""
        return parse_sso_roles(self.dashboard_sso_roles)

    def __repr_args__(self) -> Any:  # repr(), str() and logs never show secrets
        return list(self.describe().items())

    def describe(self) -> dict[str, object]:
        """Settings as a dict safe to print or log: secrets masked, paths as strings."""
        out: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "**********"
            elif name == "database_url":
                value = make_url(value).render_as_string(hide_password=True)
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


def load_settings(**overrides: object) -> Settings:
    """Build :class:`Settings` from the environment; raise :class:`SettingsError` naming the
    variable when something is wrong, instead of pydantic's multi-line report."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "settings"
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"LEADROUTER_{field.upper()}: {message}")
        raise SettingsError("; ".join(lines)) from None


README_BEGIN = "<!-- settings table: generated by `python -m worker.settings --update-readme` -->"
README_END = "<!-- end of settings table -->"


def settings_table() -> str:
    """Every setting as a Markdown table (variable, default, meaning), from the fields
    themselves: the README's table is this text, and a test keeps it so."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        if default is None or default == "":
            shown = "—"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        else:
            shown = f"`{default}`"
        meaning = (field.description or "").replace("|", "\\|")
        rows.append(f"| `LEADROUTER_{name.upper()}` | {shown} | {meaning} |")
    return "\n".join(rows) + "\n"


def readme_with_table(readme: str) -> str:
    """``readme`` with the text between the table's markers replaced by
    :func:`settings_table`; ValueError when the markers are missing."""
    head, begin, rest = readme.partition(README_BEGIN)
    _old, end, tail = rest.partition(README_END)
    if not begin or not end:
        raise ValueError(f"the README has no {README_BEGIN!r} ... {README_END!r} markers")
    return f"{head}{begin}\n{settings_table()}{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    """``python -m worker.settings --markdown`` prints the table;
    ``--update-readme [PATH]`` rewrites it in the README (default ./README.md)."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m worker.settings")
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print the settings table")
    group.add_argument(
        "--update-readme", nargs="?", const="README.md", metavar="PATH", help="rewrite the table"
    )
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(settings_table())
        return 0
    path = Path(args.update_readme)
    path.write_text(readme_with_table(path.read_text(encoding="utf-8")), encoding="utf-8")
    sys.stdout.write(f"{path}: settings table updated ({len(Settings.model_fields)} variables)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
