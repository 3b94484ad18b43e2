"""Sending: HTTP POST (Slack and generic webhooks) and SMTP, with errors classified.

Every failure becomes a :class:`SendError` whose message is safe to log and store: an
HTTP status, "timeout", an SMTP reply code. Never the exception text, which for
``requests`` contains the URL (a Slack webhook URL is a credential) and for SMTP may
contain addresses.
"""

from __future__ import annotations

import hashlib
import math
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, parsedate_to_datetime

import requests

from worker.notify.model import SmtpSettings


class SendError(Exception):
    """A send failed. ``permanent``: retrying cannot help (HTTP 4xx, SMTP 5xx)."""

    def __init__(self, message: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class Transports:
    """The real network. Subclass and override :meth:`post` / :meth:`send_mail` in tests
    that want no network; the integration tests use this class against local servers."""

    def __init__(self, smtp: SmtpSettings, *, timeout: float = 10.0) -> None:
        self.smtp = smtp
        self.timeout = timeout
        self._http = requests.Session()
        self._mailer: smtplib.SMTP | None = None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> None:
        try:
            response = self._http.post(
                url,
                data=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout:
            raise SendError("timeout") from None
        except requests.RequestException as exc:
            raise SendError(f"connection failed ({type(exc).__name__})") from None
        status = response.status_code
        if 200 <= status < 300:
            return
        retry_after = retry_after_seconds(
            response.headers.get("Retry-After"), now=_server_now(response)
        )
        transient = status in (408, 425, 429) or status >= 500
        raise SendError(f"HTTP {status}", permanent=not transient, retry_after=retry_after)

    def send_mail(self, to: str, subject: str, text: str, html: str, message_id: str) -> None:
        if not self.smtp.host:
            raise SendError("SMTP is not configured (LEADROUTER_SMTP_HOST)", permanent=True)
        message = EmailMessage()
        message["From"] = self.smtp.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        # stable per outbox message: a resend after a lost "250 OK" carries the same id
        digest = hashlib.sha256(message_id.encode()).hexdigest()[:32]
        message["Message-ID"] = f"<{digest}@leadrouter>"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        try:
            self._connection().send_message(message)
        except smtplib.SMTPRecipientsRefused:
            self.close()
            raise SendError("SMTP recipient refused", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            self.close()
            # 5xx is permanent, except authentication (fixable config) and 4xx (try later)
            permanent = exc.smtp_code >= 500 and exc.smtp_code not in (530, 535)
            raise SendError(f"SMTP {exc.smtp_code}", permanent=permanent) from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendError(f"SMTP connection failed ({type(exc).__name__})") from None

    def close(self) -> None:
        if self._mailer is not None:
            try:
                self._mailer.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._mailer = None

    def _connection(self) -> smtplib.SMTP:
        """One SMTP connection per delivery run, opened on first use."""
        if self._mailer is not None:
            return self._mailer
        cfg = self.smtp
        assert cfg.host is not None
        context = ssl.create_default_context(cafile=str(cfg.ca_bundle) if cfg.ca_bundle else None)
        mailer: smtplib.SMTP
        if cfg.tls:
            mailer = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=self.timeout, context=context)
        else:
            mailer = smtplib.SMTP(cfg.host, cfg.port, timeout=self.timeout)
            if cfg.starttls:
                mailer.starttls(context=context)
        if cfg.username:
            password = cfg.password.get_secret_value() if cfg.password else ""
            mailer.login(cfg.username, password)
        self._mailer = mailer
        return mailer


def retry_after_seconds(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header, or None when absent or unreadable.

    The header is either delay-seconds (``120``) or an HTTP-date (``Wed, 21 Oct 2026
    07:28:00 GMT``, RFC 9110 section 10.2.3); a date is counted from ``now``, which the
    caller takes from the response's own ``Date`` header when it has one, so a skewed
    local clock does not stretch or cut the wait. A date in the past means "now": 0.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            at = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = (at.replace(tzinfo=at.tzinfo or UTC) - now).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _server_now(response: requests.Response) -> datetime:
    """The server's clock (its ``Date`` header) when readable, else ours."""
    try:
        at = parsedate_to_datetime(response.headers.get("Date") or "")
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return at.replace(tzinfo=at.tzinfo or UTC)
