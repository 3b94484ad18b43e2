"""Read the ``notifications:`` section of the routing YAML into :class:`NotifySettings`.

This loader is independent of the routing loader: it reads the same file and looks only
at its own section. Errors name the key path (``notifications.channels.ops.url: must be
https``). URLs are parsed (pydantic's ``HttpUrl``), never compared by prefix: https only,
no ``user@`` part, and plain http only to this machine's loopback address when
``allow_local_http: true`` says so (the demo's local sink); the parsed, normalised URL is
the one sent to, so what was checked is what is called. Secrets come from the environment: a channel names the variable holding its
URL (``url_env``) or HMAC key (``secret_env``); SMTP credentials come from
:class:`worker.settings.Settings` (``LEADROUTER_SMTP_*``). See
``config/notifications.example.yaml`` for a documented example.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import HttpUrl, SecretStr, TypeAdapter, ValidationError

from worker.notify.model import (
    ROLES,
    Channel,
    ChannelKind,
    Contact,
    DeliveryPolicy,
    EventKind,
    EventRoute,
    NotifySettings,
    Role,
    SmtpSettings,
)
from worker.routing_config.problems import one_line
from worker.settings import Settings

if TYPE_CHECKING:
    from worker.routing.model import RoutingConfig

KINDS: tuple[ChannelKind, ...] = ("slack", "webhook", "email")
MAX_FILE_CHARS = 2_000_000  # the routing loader's limit too: a config is a few kB
_HTTP_URL: TypeAdapter[HttpUrl] = TypeAdapter(HttpUrl)
LOCAL_HTTP_KEY = "notifications.allow_local_http"


class NotifyConfigError(ValueError):
    """The ``notifications:`` section is invalid; the message starts with the key path."""

    def __init__(self, message: str) -> None:
        super().__init__(one_line(message))  # a key from the file may hold a line break


def load_notify_settings(
    config_path: Path,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> NotifySettings:
    """Load the ``notifications:`` section of ``config_path``; a file without one gives
    disabled notifications. Raises :class:`NotifyConfigError` naming the bad key."""
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NotifyConfigError(f"{config_path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise NotifyConfigError(f"{config_path}: not UTF-8 text") from None
    if len(text) > MAX_FILE_CHARS:
        raise NotifyConfigError(f"{config_path}: larger than {MAX_FILE_CHARS:,} characters")
    try:
        document = yaml.safe_load(text) or {}
    except yaml.MarkedYAMLError as exc:
        line = f":{exc.problem_mark.line + 1}" if exc.problem_mark else ""
        raise NotifyConfigError(f"{config_path}{line}: not valid YAML ({exc.problem})") from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # control characters, 2026-13-45, !!int x, nesting too deep: still one line
        why = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise NotifyConfigError(f"{config_path}: not valid YAML ({why})") from None
    if not isinstance(document, dict):
        raise NotifyConfigError(f"{config_path}: the top level must be a mapping")
    return parse_notify_section(document.get("notifications"), settings=settings, environ=environ)


def parse_notify_section(
    section: object,
    *,
    settings: Settings | None = None,
    environ: Mapping[str, str] | None = None,
) -> NotifySettings:
    """Validate an already-parsed ``notifications:`` mapping (``None`` = disabled)."""
    smtp = smtp_from_settings(settings)
    if section is None:
        return NotifySettings(enabled=False, smtp=smtp)
    env = os.environ if environ is None else environ
    data = _mapping(section, "notifications")
    _no_unknown(
        data,
        "notifications",
        {"enabled", "salesforce_url", "reminder_at", "channels", "events", "pools", "revops"}
        | {"people", "delivery", "allow_local_http"},
    )
    local_http = _bool(data.get("allow_local_http", False), LOCAL_HTTP_KEY)
    channels = {
        name: _channel(name, raw, env, local_http=local_http)
        for name, raw in _mapping(data.get("channels", {}), "notifications.channels").items()
    }
    events = _routes(data.get("events", {}), "notifications.events", channels)
    pools = {
        str(pool): _routes(raw, f"notifications.pools.{pool}", channels)
        for pool, raw in _mapping(data.get("pools", {}), "notifications.pools").items()
    }
    reminder = _number(data.get("reminder_at", 0.7), "notifications.reminder_at")
    if not 0 < reminder < 1:
        raise NotifyConfigError("notifications.reminder_at: must be between 0 and 1 (e.g. 0.7)")
    sf_url = data.get("salesforce_url")
    if sf_url is not None:
        sf_url = _url(sf_url, "notifications.salesforce_url").rstrip("/")
    elif settings is not None:
        sf_url = settings.sf_instance_url
    return NotifySettings(
        enabled=_bool(data.get("enabled", True), "notifications.enabled"),
        salesforce_url=sf_url,
        dashboard_url=settings.dashboard_url if settings is not None else None,
        reminder_at=reminder,
        channels=channels,
        events=events,
        pools=pools,
        revops=tuple(
            _email(e, "notifications.revops")
            for e in _list(data.get("revops", []), "notifications.revops")
        ),
        people=_people(data.get("people", {})),
        delivery=_delivery(data.get("delivery", {})),
        smtp=smtp,
    )


def smtp_from_settings(settings: Settings | None) -> SmtpSettings:
    if settings is None:
        return SmtpSettings()
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        tls=settings.smtp_tls,
        sender=settings.smtp_from,
        ca_bundle=settings.smtp_ca_bundle,
    )


def _channel(name: object, raw: object, env: Mapping[str, str], *, local_http: bool) -> Channel:
    path = f"notifications.channels.{name}"
    data = _mapping(raw, path)
    _no_unknown(data, path, {"type", "url", "url_env", "secret_env", "rate_per_minute"})
    kind = data.get("type")
    if kind not in KINDS:
        raise NotifyConfigError(f"{path}.type: must be one of {', '.join(KINDS)}")
    rate = int(_number(data.get("rate_per_minute", 60), f"{path}.rate_per_minute"))
    if rate < 1:
        raise NotifyConfigError(f"{path}.rate_per_minute: must be at least 1")
    kind = cast(ChannelKind, kind)
    if kind == "email":
        return Channel(name=str(name), kind=kind, rate_per_minute=rate)
    url = _secret_value(data, "url", path, env)
    if url is None:
        raise NotifyConfigError(f"{path}.url: required (or url_env naming a variable)")
    url = _url(url, f"{path}.url", local_http=local_http)
    secret = _secret_value(data, "secret", path, env) if kind == "webhook" else None
    if kind == "webhook" and secret is None:
        raise NotifyConfigError(f"{path}.secret_env: required (the variable with the HMAC key)")
    return Channel(
        name=str(name),
        kind=kind,
        url=SecretStr(url),
        secret=SecretStr(secret) if secret is not None else None,
        rate_per_minute=rate,
    )


def _secret_value(
    data: Mapping[str, Any], key: str, path: str, env: Mapping[str, str]
) -> str | None:
    """``key`` literally (URLs only) or from the variable named by ``key_env``."""
    if f"{key}_env" in data:
        var = str(data[f"{key}_env"])
        if not env.get(var):
            raise NotifyConfigError(f"{path}.{key}_env: variable {var} is not set")
        return env[var]
    if key in data and key != "secret":
        return str(data[key])
    return None


def _routes(raw: object, path: str, channels: Mapping[str, Channel]) -> dict[EventKind, EventRoute]:
    out: dict[EventKind, EventRoute] = {}
    for event, spec in _mapping(raw, path).items():
        if event not in {e.value for e in EventKind}:
            known = ", ".join(e.value for e in EventKind)
            raise NotifyConfigError(f"{path}.{event}: unknown event (known: {known})")
        data = _mapping(spec, f"{path}.{event}")
        _no_unknown(data, f"{path}.{event}", {"notify", "channels"})
        roles = _list(data.get("notify", []), f"{path}.{event}.notify")
        for role in roles:
            if role not in ROLES:
                raise NotifyConfigError(
                    f"{path}.{event}.notify: unknown role {role!r} (known: {', '.join(ROLES)})"
                )
        names = _list(data.get("channels", []), f"{path}.{event}.channels")
        for name in names:
            if name not in channels:
                raise NotifyConfigError(f"{path}.{event}.channels: no channel named {name!r}")
        out[EventKind(event)] = EventRoute(
            roles=tuple(cast(Role, r) for r in roles), channels=tuple(str(n) for n in names)
        )
    return out


def _people(raw: object) -> dict[str, Contact]:
    out: dict[str, Contact] = {}
    for key, spec in _mapping(raw, "notifications.people").items():
        path = f"notifications.people.{key}"
        email = _email(key, path)
        data = _mapping(spec or {}, path)
        _no_unknown(data, path, {"email", "slack", "manager", "name", "timezone"})
        out[email] = Contact(
            email=_email(data["email"], f"{path}.email") if "email" in data else email,
            name=str(data["name"]) if "name" in data else None,
            slack=str(data["slack"]) if "slack" in data else None,
            manager=_email(data["manager"], f"{path}.manager") if "manager" in data else None,
            timezone=_zone(data["timezone"], f"{path}.timezone") if "timezone" in data else None,
        )
    return out


def _zone(raw: object, path: str) -> str:
    try:
        ZoneInfo(str(raw))
    except (ZoneInfoNotFoundError, ValueError):
        raise NotifyConfigError(
            f"{path}: unknown time zone {str(raw)!r} (use an IANA name like Europe/Berlin)"
        ) from None
    return str(raw)


def with_time_zones(notify: NotifySettings, routing: RoutingConfig) -> NotifySettings:
    """``notify`` knowing whose times to show in which zone: each rep's own (the routing
    config's ``timezone``), and the team's (the intake business hours') for everyone else."""
    hours = routing.intake.business_hours
    return replace(
        notify,
        timezone=hours.timezone if hours is not None else "UTC",
        rep_timezones={rep.key.lower(): rep.timezone for rep in routing.reps.values()},
    )


def _delivery(raw: object) -> DeliveryPolicy:
    data = _mapping(raw, "notifications.delivery")
    defaults = DeliveryPolicy()
    fields = {
        "max_attempts": int,
        "backoff_seconds": float,
        "max_backoff_seconds": float,
        "lease_seconds": float,
        "timeout_seconds": float,
        "batch_size": int,
    }
    _no_unknown(data, "notifications.delivery", set(fields))
    values: dict[str, Any] = {}
    for key, kind in fields.items():
        value = _number(data.get(key, getattr(defaults, key)), f"notifications.delivery.{key}")
        if value <= 0:
            raise NotifyConfigError(f"notifications.delivery.{key}: must be positive")
        values[key] = kind(value)
    return DeliveryPolicy(**values)


def _mapping(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotifyConfigError(f"{path}: must be a mapping")
    return {str(k): v for k, v in value.items()}


def _list(value: object, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise NotifyConfigError(f"{path}: must be a list")
    return [str(v) for v in value]


def _number(value: object, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotifyConfigError(f"{path}: must be a number")
    if not math.isfinite(value):  # .inf/.nan: int() of them raised past this loader
        raise NotifyConfigError(f"{path}: must be a finite number")
    return float(value)


def _bool(value: object, path: str) -> bool:
    if not isinstance(value, bool):
        raise NotifyConfigError(f"{path}: must be true or false")
    return value


def _email(value: object, path: str) -> str:
    text = str(value).strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise NotifyConfigError(f"{path}: {value!r} is not an e-mail address")
    return text


def _url(value: object, path: str, *, local_http: bool = False) -> str:
    """The normalised URL: https, or plain http to a loopback host when ``local_http``.

    Never echoes the value in an error: a Slack webhook URL is a credential."""
    try:
        url = _HTTP_URL.validate_python(str(value))
    except ValidationError:
        raise NotifyConfigError(f"{path}: not a valid http(s) URL") from None
    if url.username is not None or url.password is not None:
        # http://localhost@evil.example/ is a request to evil.example
        raise NotifyConfigError(f"{path}: must not have a user name or password (user@host)")
    if url.scheme != "https" and not (local_http and is_loopback_host(url.host)):
        hint = " (plain http only to localhost, and only with allow_local_http: true)"
        raise NotifyConfigError(f"{path}: must be https{hint}")
    return str(url)


def is_loopback_host(host: str | None) -> bool:
    """``localhost``, 127.0.0.0/8 or ``[::1]`` as the URL parser normalised it; a
    look-alike such as ``127.0.0.1.evil.example`` is a domain name, not a loopback."""
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _no_unknown(data: Mapping[str, Any], path: str, known: set[str]) -> None:
    unknown = sorted(set(data) - known)
    if unknown:
        raise NotifyConfigError(
            f"{path}.{unknown[0]}: unknown key (known: {', '.join(sorted(known))})"
        )
