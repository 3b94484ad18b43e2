"""Our Salesforce errors, and the one table that maps library errors onto them.

::

    SfdcError
    ├── SfdcTransientError      retry with backoff: 5xx, timeouts, resets, UNABLE_TO_LOCK_ROW
    ├── SfdcLimitExceeded       403 REQUEST_LIMIT_EXCEEDED: back off until the next run
    ├── SfdcAuthError           token refused, session expired and not refreshable
    ├── SfdcConfigError         our own settings are wrong (missing key file, no token URL)
    └── SfdcPermanentError      any other 4xx: retrying cannot help
        └── ReplicationWindowExceeded   Get Deleted cannot answer for that span: re-read all

Every error carries ``status`` (HTTP, or None) and ``error_code`` (Salesforce's
``errorCode``, or None) and a message that never contains a token or a secret.
"""

from __future__ import annotations

from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceRefusedRequest,
)

TRANSIENT_CODES = frozenset(
    {"UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE", "REQUEST_RUNNING_TOO_LONG"}
)
# Get Deleted's refusals of a span: it starts before what Salesforce still keeps (15
# days, less once the Recycle Bin was emptied), or holds more than 600,000 deletions
REPLICATION_WINDOW_CODES = frozenset({"INVALID_REPLICATION_DATE", "EXCEEDED_ID_LIMIT"})


class SfdcError(Exception):
    def __init__(self, message: str, *, status: int | None = None, error_code: str | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code


class SfdcTransientError(SfdcError):
    """Worth retrying after a pause."""


class SfdcLimitExceeded(SfdcError):
    """The org's daily API allocation is spent."""


class SfdcAuthError(SfdcError):
    """We could not obtain or renew an access token."""


class SfdcConfigError(SfdcError):
    """Our connection settings are unusable; the message names the setting."""


class SfdcPermanentError(SfdcError):
    """Salesforce refused the request; sending it again will not help."""


class ReplicationWindowExceeded(SfdcPermanentError):
    """Get Deleted cannot list the deletions of that span (too old, or too many): what
    was deleted in it can only be learnt by reading every record again."""


def replication_refusal(exc: SfdcPermanentError) -> SfdcPermanentError:
    """``exc`` as :class:`ReplicationWindowExceeded` when its code says so, else itself."""
    if exc.error_code not in REPLICATION_WINDOW_CODES:
        return exc
    return ReplicationWindowExceeded(str(exc), status=exc.status, error_code=exc.error_code)


def first_error(content: Any) -> tuple[str | None, str]:
    """(errorCode, message) of the first entry of a Salesforce error body ``[{...}]``."""
    if isinstance(content, list) and content and isinstance(content[0], dict):
        entry = content[0]
        return entry.get("errorCode") or entry.get("statusCode"), str(entry.get("message", ""))
    return None, str(content)[:300]


def translate(exc: BaseException) -> SfdcError:
    """Map a simple-salesforce or requests exception onto our tree (idempotent)."""
    if isinstance(exc, SfdcError):
        return exc
    if isinstance(exc, requests.Timeout | requests.ConnectionError):
        return SfdcTransientError(f"network error talking to Salesforce: {type(exc).__name__}")
    if isinstance(exc, SalesforceAuthenticationFailed):
        return SfdcAuthError(f"authentication failed: {exc.code}: {exc.message}")
    if isinstance(exc, SalesforceError):
        code, message = first_error(exc.content)
        status = exc.status
        text = f"Salesforce answered {status} {code or ''}: {message}".strip()
        if isinstance(exc, SalesforceExpiredSession):
            return SfdcAuthError(text, status=status, error_code=code)
        if isinstance(exc, SalesforceRefusedRequest) and code == "REQUEST_LIMIT_EXCEEDED":
            return SfdcLimitExceeded(text, status=status, error_code=code)
        if status >= 500 or status in (408, 420, 429) or code in TRANSIENT_CODES:
            return SfdcTransientError(text, status=status, error_code=code)
        return SfdcPermanentError(text, status=status, error_code=code)
    if isinstance(exc, requests.RequestException):
        return SfdcTransientError(f"HTTP error talking to Salesforce: {type(exc).__name__}")
    return SfdcError(f"{type(exc).__name__}: {exc}")
