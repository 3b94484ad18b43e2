"""A Salesforce connection that looks after its own access token.

simple-salesforce, when handed a ``session_id``, never re-authenticates: a 401 simply
raises. :class:`SalesforceConnection` fetches its token itself (see :mod:`auth`), builds
``Salesforce(session_id=..., instance_url=..., session=...)`` and, in :meth:`call`,
fetches a new token once and retries when Salesforce answers 401 INVALID_SESSION_ID.

The ``requests.Session`` is ours: it trusts the configured CA bundle with
``trust_env = False`` (otherwise ``REQUESTS_CA_BUNDLE`` from the environment silently
overrides ``verify``), applies a default timeout, counts the HTTP calls made, and reads
``Sforce-Limit-Info`` from every response, including calls simple-salesforce routes
through a throw-away ``SFType`` whose ``api_usage`` we would otherwise never see, and
the ``Date`` of every API answer (:mod:`worker.sfdc.clock`).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession

from worker.settings import Settings
from worker.sfdc.auth import Token, fetch_token
from worker.sfdc.clock import ServerClock
from worker.sfdc.errors import SfdcAuthError, translate

T = TypeVar("T")
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_ANSWERS = threading.local()  # per thread: called when a successful answer starts


def _oauth(response: requests.Response) -> bool:
    """A token exchange (not an API call: neither counted nor announced)."""
    return "/services/oauth2/" in response.url


@contextmanager
def on_answer(callback: Callable[[], object]) -> Iterator[None]:
    """Call ``callback`` (on this thread) as soon as a successful answer to a call made
    inside the block starts arriving: its status and headers are in, its body not yet
    read or parsed. The write-back uses it to ask the cycle thread to stand aside for
    the rest of its check-then-write step, not while Salesforce is still working."""
    before = getattr(_ANSWERS, "callback", None)
    _ANSWERS.callback = callback
    try:
        yield
    finally:
        _ANSWERS.callback = before


# connections kept open per host: the write-back has up to two bursts of 8 Composite
# calls in flight, with owner re-reads and the next page's read beside them (requests'
# default, 10, opened and dropped a connection per call beyond it)
POOL_SIZE = 32


class _TimeoutAdapter(HTTPAdapter):
    def __init__(self, timeout: float) -> None:
        super().__init__(max_retries=0, pool_maxsize=POOL_SIZE)
        self._timeout = timeout

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().send(request, **kwargs)


CLIENT_ID = "leadrouter"  # our Sforce-Call-Options client: Change Data Capture's changeOrigin


def make_http_session(settings: Settings) -> requests.Session:
    """The HTTP session every Salesforce call goes through. Every call names us as the
    client (``Sforce-Call-Options: client=leadrouter``): the change events our own writes
    cause carry it in ``changeOrigin``, so a subscriber can tell them from people's."""
    session = requests.Session()
    session.trust_env = False
    session.headers["Sforce-Call-Options"] = f"client={CLIENT_ID}"
    if settings.sf_ca_bundle is not None:
        session.verify = str(settings.sf_ca_bundle)
    adapter = _TimeoutAdapter(settings.sf_timeout_seconds)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class SalesforceConnection:
    """Owns the token and the simple-salesforce client; thread-safe token refresh."""

    def __init__(self, settings: Settings, *, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.session = session if session is not None else make_http_session(settings)
        self.session.hooks.setdefault("response", []).append(self._on_response)
        self.http_calls = 0
        self.token_requests = 0
        self.api_usage: tuple[int, int] | None = None
        self.user_id: str | None = None  # who our writes are made as (from the token)
        self.org_id: str | None = None  # the org (from the token; the Pub/Sub tenantid)
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._sf: Salesforce | None = None
        # Salesforce's clock, bounded from below by every answer's Date header
        self.server_clock = ServerClock()

    @property
    def sf(self) -> Salesforce:
        """The client, authenticating on first use."""
        with self._lock:
            if self._sf is None:
                self._sf = self._build(self._token())
            return self._sf

    def call(self, fn: Callable[[Salesforce], T]) -> T:
        """Run ``fn(sf)``; on 401 INVALID_SESSION_ID fetch a new token once and retry.

        Raises:
            SfdcError: any failure, translated (see :mod:`worker.sfdc.errors`).
        """
        sf = self.sf
        try:
            return fn(sf)
        except SalesforceExpiredSession as exc:
            if self.settings.sf_auth_flow == "session":
                raise SfdcAuthError(
                    "session expired and a fixed session id cannot be refreshed",
                    status=401,
                    error_code="INVALID_SESSION_ID",
                ) from None
            sf = self._refresh(stale=sf, cause=exc)
        except Exception as exc:
            raise translate(exc) from exc
        try:
            return fn(sf)
        except Exception as exc:
            raise translate(exc) from exc

    @property
    def instance_url(self) -> str:
        return f"https://{self.sf.sf_instance}"

    def session_id(self) -> str:
        """The current access token (the Pub/Sub API sends it as ``accesstoken``)."""
        return str(self.sf.session_id)

    def refresh_session(self, stale: str) -> str:
        """A new access token when ``stale`` is still the current one (a Pub/Sub call was
        refused with it); otherwise the newer one another caller fetched already."""
        if self.settings.sf_auth_flow == "session":
            raise SfdcAuthError(
                "session expired and a fixed session id cannot be refreshed",
                status=401,
                error_code="INVALID_SESSION_ID",
            )
        with self._lock:
            if self._sf is None or self._sf.session_id == stale:
                self._sf = self._build(self._token())
            return str(self._sf.session_id)

    def _refresh(self, *, stale: Salesforce, cause: Exception) -> Salesforce:
        with self._lock:
            if self._sf is stale:  # another thread may have refreshed already
                self._sf = self._build(self._token())
            assert self._sf is not None
            return self._sf

    def _token(self) -> Token:
        self.token_requests += 1
        return fetch_token(self.settings, self.session)

    def _build(self, token: Token) -> Salesforce:
        self.user_id = token.user_id
        self.org_id = token.org_id or self.org_id
        instance_url = token.instance_url or self.settings.sf_instance_url
        if not instance_url:
            raise SfdcAuthError("the token response named no instance_url")
        return Salesforce(
            session_id=token.access_token,
            instance_url=instance_url,
            session=self.session,
            version=self.settings.sf_api_version,
            # plain dicts: the default OrderedDict hook makes parsing a 2,000-lead page
            # about 2.5x slower, and nothing here depends on key order. (Not orjson: it
            # parsed ~2x faster, but its large parse buffers grew the worker's RSS by
            # ~25 MB over 100,000 leads through malloc fragmentation.)
            object_pairs_hook=None,
        )

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        received = time.monotonic()  # its headers are in, the body not yet read
        callback = getattr(_ANSWERS, "callback", None)
        if callback is not None and response.status_code < 300 and not _oauth(response):
            callback()
        if not _oauth(response):  # the token may come from another host (login.salesforce.com)
            self.server_clock.observe(response.headers.get("Date"), received)
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        with self._count_lock:  # writes run on several threads
            if not _oauth(response):
                self.http_calls += 1
            if match:
                self.api_usage = (int(match.group(1)), int(match.group(2)))
