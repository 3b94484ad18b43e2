"""Request pipeline: token endpoint, admin endpoint, and the data API with auth, fault
injection and the daily API allocation in front of it."""

from __future__ import annotations

import hmac
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from devkit.sandbox import api, identity, inflight
from devkit.sandbox.auth import OAuthError, Sessions, TokenEndpoint
from devkit.sandbox.inflight import InFlight
from devkit.sandbox.latency.calls import draws
from devkit.sandbox.org import Org
from devkit.sandbox.pubsub.origin import rest_origin, writing_as
from devkit.sandbox.web import ApiError, Request, Response, not_found

log = logging.getLogger(__name__)

ADMIN_PREFIX = "/__sandbox/"
RESET = "reset"  # the transport must kill the connection instead of answering


@dataclass
class Outcome:
    response: Response | None
    reset: bool = False  # close with a TCP reset (after sending nothing)


class SandboxApp:
    def __init__(
        self, org: Org, sessions: Sessions, tokens: TokenEndpoint, admin_token: str, admin_ops: Any
    ) -> None:
        self.org = org
        self.sessions = sessions
        self.tokens = tokens
        self.admin_token = admin_token
        self.admin_ops = admin_ops  # callable(op, params) -> JSON-able
        self.inflight = InFlight(org.latency.long_running)

    def serve(self, req: Request) -> Outcome:
        path = req.path
        if path.rstrip("/") == "/services/oauth2/token":
            self._wait("oauth_token")
            return Outcome(self._token(req))
        if path.startswith(ADMIN_PREFIX):
            return Outcome(self._admin(req))
        if path.startswith(identity.PREFIX):
            self._wait("identity")
            return Outcome(self._identity(req))
        if path.rstrip("/") == "/services/data":
            return Outcome(Response(200, api.versions()))
        if path.startswith("/services/data/"):
            return self._admitted(req)
        return Outcome(not_found().response())

    def _wait(self, kind: str, records: int = 1) -> None:
        self._wait_all([(kind, records)])

    def _wait_all(self, parts: list[tuple[str, int]]) -> None:
        """The time the profile gives this call, the sum of its draws (a Composite's own
        and one per query subrequest, :func:`~devkit.sandbox.latency.calls.draws`),
        spent before it is served (a write is applied at the end of its server time, as a
        real commit is)."""
        seconds = sum(self.org.latency.delay(kind, records) for kind, records in parts)
        if seconds > 0:
            time.sleep(seconds)

    def _admitted(self, req: Request) -> Outcome:
        """A data API request, unless the long-running requests are at the org's limit."""
        ticket = self.inflight.enter()
        if ticket is None:
            refused = ApiError(403, "REQUEST_LIMIT_EXCEEDED", inflight.MESSAGE).response()
            return self._with_usage(Outcome(refused))
        try:
            return self._data(req)
        finally:
            self.inflight.leave(ticket)

    def _token(self, req: Request) -> Response:
        if req.method != "POST":
            return Response(
                405, {"error": "invalid_request", "error_description": "must use HTTP POST"}
            )
        form = {k: v[0] for k, v in parse_qs(req.body.decode("utf-8", "replace")).items()}
        try:
            return Response(200, self.tokens.grant(form, req.header("Authorization")))
        except OAuthError as err:
            return Response(err.status, err.body)

    def _identity(self, req: Request) -> Response:
        token = (req.header("Authorization") or "").partition(" ")[2].strip()
        token = token or req.param("oauth_token") or ""
        user = self.sessions.user_for(token) if token else None
        latest = f"{api.MAX_VERSION:.1f}"
        return identity.serve(self.org, req, user, self.tokens.instance_url, latest)

    def _admin(self, req: Request) -> Response:
        given = req.header("X-Sandbox-Admin-Token") or ""
        # bytes: compare_digest raises TypeError on a non-ASCII str (a 500, not a 401)
        if not hmac.compare_digest(
            given.encode("utf-8", "surrogatepass"), self.admin_token.encode()
        ):
            return Response(
                401,
                [{"message": "admin token missing or wrong", "errorCode": "INVALID_SESSION_ID"}],
            )
        op = req.path[len(ADMIN_PREFIX) :].strip("/")
        try:
            params = req.json() or {}
            return Response(200, {"result": self.admin_ops(op, params)})
        except ApiError as err:
            return err.response()
        except (KeyError, TypeError, ValueError, LookupError) as exc:
            return Response(
                400, [{"message": str(exc).strip("'\""), "errorCode": "INVALID_ADMIN_REQUEST"}]
            )

    def _data(self, req: Request) -> Outcome:
        token = (req.header("Authorization") or "").partition(" ")[2].strip()
        user = self.sessions.user_for(token) if token else None
        if user is None:
            return self._with_usage(Outcome(_invalid_session()))
        req.user_id = user
        fault = self.org.faults.request_fault()
        if fault == "reset":
            return Outcome(None, reset=True)
        if fault == "server_unavailable":
            return self._with_usage(
                Outcome(
                    ApiError(
                        503,
                        "SERVER_UNAVAILABLE",
                        "Server temporarily unavailable; please try again later",
                    ).response()
                )
            )
        if fault == "internal_error":
            return self._with_usage(Outcome(_unknown_exception()))
        if fault == "expire_session":
            self.sessions.revoke(token)
            return self._with_usage(Outcome(_invalid_session()))
        if fault == "slow":
            time.sleep(self.org.faults.config.slow_seconds)
        if self.org.latency.enabled:
            self._wait_all(draws(req))
        if not self.org.count_call():
            response = ApiError(
                403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
            ).response()
            return self._with_usage(Outcome(response))
        origin = rest_origin(req.path, req.header("Sforce-Call-Options"))
        try:
            with writing_as(origin, user):  # the changeOrigin of the change events it causes
                response = api.handle(self.org, req)
        except ApiError as err:
            response = err.response()
        except Exception:  # noqa: BLE001 - a sandbox bug must look like a Salesforce 500
            log.exception("sandbox error on %s %s", req.method, req.path)
            response = _unknown_exception()
        return self._with_usage(Outcome(response, reset=fault == "reset_after"))

    def _with_usage(self, outcome: Outcome) -> Outcome:
        if outcome.response is not None:
            outcome.response.headers["Sforce-Limit-Info"] = self.org.limit_header()
        return outcome


def _invalid_session() -> Response:
    return ApiError(401, "INVALID_SESSION_ID", "Session expired or invalid").response()


def _unknown_exception() -> Response:
    return ApiError(
        500, "UNKNOWN_EXCEPTION",
        "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
    ).response()  # fmt: skip
