"""OAuth token endpoint (client credentials, JWT bearer) and the sessions it hands out.

Salesforce returns no ``expires_in`` and no refresh token for these flows: a session
lives until it times out or is revoked, and the client re-authenticates when a call
answers 401 ``INVALID_SESSION_ID``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509

ALLOWED_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLOCK_SKEW_S = 180  # Salesforce allows three minutes of clock skew on exp


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.body = {"error": error, "error_description": description}
        self.status = status


@dataclass(frozen=True)
class ConnectedApp:
    client_id: str
    client_secret: str
    certificate_pem: bytes  # the X.509 certificate registered for the JWT bearer flow
    run_as_user_id: str  # the "Run As" user of the client credentials flow


@dataclass
class Session:
    user_id: str
    issued_at: float
    last_used: float


class Sessions:
    """Access tokens -> sessions; thread-safe. ``ttl_s`` is an inactivity timeout."""

    def __init__(self, org_id: str, ttl_s: float | None = None) -> None:
        self.org_id = org_id
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def issue(self, user_id: str) -> str:
        token = f"{self.org_id[:15]}!{secrets.token_urlsafe(72)}"
        now = time.time()
        with self._lock:
            self._sessions[token] = Session(user_id, now, now)
        return token

    def user_for(self, token: str) -> str | None:
        now = time.time()
        with self._lock:
            session = self._sessions.get(token)
            if session is None:
                return None
            if self.ttl_s is not None and now - session.last_used > self.ttl_s:
                del self._sessions[token]
                return None
            session.last_used = now
            return session.user_id

    def revoke(self, token: str) -> None:
        with self._lock:
            self._sessions.pop(token, None)

    def revoke_all(self) -> int:
        with self._lock:
            count = len(self._sessions)
            self._sessions.clear()
            return count


class TokenEndpoint:
    def __init__(
        self,
        app: ConnectedApp,
        sessions: Sessions,
        instance_url: str,
        find_user: Callable[[str], tuple[str, bool] | None],
    ) -> None:
        self.app = app
        self.sessions = sessions
        self.instance_url = instance_url
        self.find_user = find_user  # username -> (user id, is active)
        self._public_key = x509.load_pem_x509_certificate(app.certificate_pem).public_key()

    def grant(self, form: dict[str, str], authorization: str | None) -> dict[str, Any]:
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            return self._client_credentials(form, authorization)
        if grant_type == JWT_GRANT:
            return self._jwt_bearer(form.get("assertion", ""))
        raise OAuthError("unsupported_grant_type", "grant type not supported")

    def _client_credentials(
        self, form: dict[str, str], authorization: str | None
    ) -> dict[str, Any]:
        client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if authorization and authorization.lower().startswith("basic "):
            try:
                client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise OAuthError("invalid_client", "invalid client credentials") from None
        if client_id != self.app.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        # bytes: compare_digest raises TypeError on a non-ASCII str (a 500, not a 400)
        given, expected = secret.encode("utf-8", "surrogatepass"), self.app.client_secret.encode()
        if not hmac.compare_digest(given, expected):
            raise OAuthError("invalid_client", "invalid client credentials")
        return self._response(self.app.run_as_user_id)

    def _jwt_bearer(self, assertion: str) -> dict[str, Any]:
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        if unverified.get("iss") != self.app.client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        audiences = [*ALLOWED_AUDIENCES, self.instance_url]
        try:
            claims = jwt.decode(
                assertion, self._public_key, algorithms=["RS256"], audience=audiences,  # type: ignore[arg-type]
                leeway=CLOCK_SKEW_S, options={"require": ["exp", "iss", "sub", "aud"]},
            )  # fmt: skip
        except jwt.ExpiredSignatureError:
            raise OAuthError("invalid_grant", "expired authorization code") from None
        except (jwt.InvalidAudienceError, jwt.MissingRequiredClaimError) as exc:
            description = (
                "audience is invalid"
                if isinstance(exc, jwt.InvalidAudienceError)
                else "invalid assertion"
            )
            raise OAuthError("invalid_grant", description) from None
        except jwt.PyJWTError:
            raise OAuthError("invalid_grant", "invalid assertion") from None
        user = self.find_user(str(claims["sub"]))
        if user is None or not user[1]:
            # Salesforce answers an unknown or unauthorised user this way.
            raise OAuthError("invalid_grant", "user hasn't approved this consumer")
        return self._response(user[0])

    def _response(self, user_id: str) -> dict[str, Any]:
        token = self.sessions.issue(user_id)
        issued_at = str(int(time.time() * 1000))
        identity = f"{self.instance_url}/id/{self.sessions.org_id}/{user_id}"
        digest = hmac.new(
            self.app.client_secret.encode(), (identity + issued_at).encode(), hashlib.sha256
        ).digest()
        return {
            "access_token": token,
            "signature": base64.b64encode(digest).decode(),
            "scope": "api",
            "instance_url": self.instance_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        }
