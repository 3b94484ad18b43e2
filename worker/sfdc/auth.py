"""OAuth 2.0 token requests for a server-side integration user.

Two flows, both documented for server-to-server integrations and neither dependent on
the SOAP ``login()`` call Salesforce is retiring:

* **client credentials**: ``grant_type=client_credentials``, consumer key and secret as
  HTTP Basic auth, against the org's My Domain token URL;
* **JWT bearer**: an RS256 assertion ``{iss: consumer key, sub: username, aud: login
  URL, exp: now + 3 min}`` signed with the private key whose certificate is on the
  connected app.

Salesforce returns no ``refresh_token`` and no ``expires_in`` for either: the session
lasts per org policy, so callers ask again when a call answers 401 INVALID_SESSION_ID.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import requests

from worker.settings import Settings
from worker.sfdc.errors import SfdcAuthError, SfdcConfigError, SfdcTransientError

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class Token:
    access_token: str
    instance_url: str
    # the user we act as: the last part of the identity URL in the token response
    # (``https://login.salesforce.com/id/00D.../005...``); None for a fixed session id
    user_id: str | None = None
    org_id: str | None = None  # the org: the identity URL's part before the user

    def __repr__(self) -> str:  # never print the token
        return f"Token(instance_url={self.instance_url!r}, access_token='***')"


def fetch_token(settings: Settings, session: requests.Session) -> Token:
    """Ask the configured token URL for an access token with the configured flow."""
    flow = settings.sf_auth_flow
    if flow == "session":
        assert settings.sf_session_id is not None
        if not settings.sf_instance_url:
            raise SfdcConfigError("LEADROUTER_SF_INSTANCE_URL is required with a session id")
        return Token(settings.sf_session_id.get_secret_value(), settings.sf_instance_url)
    token_url = settings.token_url
    if not token_url:
        raise SfdcConfigError("set LEADROUTER_SF_INSTANCE_URL or LEADROUTER_SF_TOKEN_URL")
    if flow == "client_credentials":
        return _post(
            session,
            token_url,
            flow,
            data={"grant_type": "client_credentials"},
            auth=(_need(settings.sf_consumer_key, "SF_CONSUMER_KEY"), _secret(settings)),
        )
    if flow == "jwt":
        data = {"grant_type": JWT_GRANT, "assertion": jwt_assertion(settings)}
        return _post(session, token_url, flow, data=data, auth=None)
    raise SfdcConfigError(
        "no Salesforce credentials: set LEADROUTER_SF_CONSUMER_KEY with "
        "LEADROUTER_SF_CONSUMER_SECRET (client credentials) or LEADROUTER_SF_USERNAME with "
        "LEADROUTER_SF_PRIVATE_KEY_FILE (JWT bearer)"
    )


def jwt_assertion(settings: Settings, *, now: float | None = None) -> str:
    """The signed JWT bearer assertion (RS256, valid for 3 minutes)."""
    key = read_private_key(settings.sf_private_key_file)
    issued = int(now if now is not None else time.time())
    claims = {
        "iss": _need(settings.sf_consumer_key, "SF_CONSUMER_KEY"),
        "sub": _need(settings.sf_username, "SF_USERNAME"),
        "aud": settings.sf_jwt_audience,
        "exp": issued + 180,
    }
    try:
        return jwt.encode(claims, key, algorithm="RS256")
    except (ValueError, TypeError) as exc:
        raise SfdcConfigError(
            f"LEADROUTER_SF_PRIVATE_KEY_FILE: not a usable RSA private key ({exc})"
        ) from None


def read_private_key(path: Path | None) -> str:
    if path is None:
        raise SfdcConfigError("LEADROUTER_SF_PRIVATE_KEY_FILE is required for the JWT flow")
    try:
        text = path.read_text()
    except OSError as exc:
        raise SfdcConfigError(
            f"LEADROUTER_SF_PRIVATE_KEY_FILE: cannot read {path}: {exc.strerror}"
        ) from None
    if "PRIVATE KEY" not in text:
        raise SfdcConfigError(f"LEADROUTER_SF_PRIVATE_KEY_FILE: {path} holds no PEM private key")
    return text


def _post(
    session: requests.Session,
    url: str,
    flow: str,
    *,
    data: dict[str, str],
    auth: tuple[str, str] | None,
) -> Token:
    try:
        response = session.post(url, data=data, auth=auth, timeout=30)
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise SfdcTransientError(
            f"cannot reach the Salesforce token URL {url}: {type(exc).__name__}"
        ) from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200 or not isinstance(body, dict) or "access_token" not in body:
        error = body.get("error", f"HTTP {response.status_code}") if isinstance(body, dict) else ""
        description = body.get("error_description", "") if isinstance(body, dict) else ""
        raise SfdcAuthError(
            f"{flow} token request refused by {url}: {error}"
            + (f": {description}" if description else ""),
            status=response.status_code,
            error_code=str(error),
        )
    return Token(
        str(body["access_token"]),
        str(body.get("instance_url") or ""),
        identity_user(body.get("id")),
        identity_org(body.get("id")),
    )


def identity_user(identity: object) -> str | None:
    """The User Id at the end of an identity URL, or None when it does not end in one."""
    if not isinstance(identity, str):
        return None
    last = identity.rstrip("/").rsplit("/", 1)[-1]
    return last if last.startswith("005") and len(last) in (15, 18) and last.isalnum() else None


def identity_org(identity: object) -> str | None:
    """The org Id in an identity URL (``.../id/<org>/<user>``), or None."""
    if identity_user(identity) is None:
        return None
    assert isinstance(identity, str)
    parts = identity.rstrip("/").rsplit("/", 2)
    org = parts[-2] if len(parts) == 3 else ""
    return org if org.startswith("00D") and len(org) in (15, 18) and org.isalnum() else None


def _need(value: str | None, name: str) -> str:
    if not value:
        raise SfdcConfigError(f"LEADROUTER_{name} is required for this authentication flow")
    return value


def _secret(settings: Settings) -> str:
    if settings.sf_consumer_secret is None:
        raise SfdcConfigError("LEADROUTER_SF_CONSUMER_SECRET is required for client credentials")
    return settings.sf_consumer_secret.get_secret_value()
