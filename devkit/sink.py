"""The demo's notification sink: a local SMTP server (aiosmtpd) and a webhook receiver
(stdlib ``http.server``) that append everything they receive to ``DIR/outbox.log`` (one
JSON object per line) and show it on a small HTML page (``GET /``).

Point the worker at it with ``LEADROUTER_SMTP_HOST=127.0.0.1 LEADROUTER_SMTP_PORT=<smtp>
LEADROUTER_SMTP_STARTTLS=false`` and channel URLs ``http://127.0.0.1:<http>/slack`` or
``/webhook``. With a secret, webhook signatures are checked and the result logged.
"""

from __future__ import annotations

import email
import email.policy
import html
import json
import socket
import ssl
import threading
import time
from collections.abc import Awaitable
from datetime import UTC, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from worker.files import private_file
from worker.notify import signing

LOG_NAME = "outbox.log"


class OutboxLog:
    """Append-only JSON-lines file shared by both receivers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        private_file(path)  # lead data: owner-only

    def append(self, entry: dict[str, Any]) -> None:
        entry = {"received_at": datetime.now(UTC).isoformat(timespec="seconds"), **entry}
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class _MailHandler:
    def __init__(self, log: OutboxLog) -> None:
        self.log = log

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        text = ""
        if isinstance(message, EmailMessage):
            part = message.get_body(preferencelist=("plain",))
            text = part.get_content() if part is not None else ""
        self.log.append(
            {
                "via": "smtp",
                "from": envelope.mail_from,
                "to": list(envelope.rcpt_tos),
                "subject": str(message.get("Subject", "")),
                "text": text,
                "html": _html_part(message),
            }
        )
        return "250 Message accepted for delivery"


def _html_part(message: Any) -> str | None:
    if not isinstance(message, EmailMessage):
        return None
    part = message.get_body(preferencelist=("html",))
    return str(part.get_content()) if part is not None else None


class _AnyPortController(Controller):
    """aiosmtpd's Controller on a socket we bind ourselves, so port 0 (any free port)
    works and the chosen port is known before the first client connects."""

    def __init__(self, handler: Any, host: str, port: int, **kwargs: Any) -> None:
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._sock = socket.create_server((host, port))
        self.port = self._sock.getsockname()[1]

    def _create_server(self) -> Awaitable[Any]:
        return self.loop.create_server(self._factory_invoker, sock=self._sock, ssl=self.ssl_context)


class Sink:
    """Both receivers, started and stopped together (threads, so tests can use it too)."""

    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        smtp_port: int = 0,
        http_port: int = 0,
        secret: bytes | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ) -> None:
        self.log = OutboxLog(state_dir / LOG_NAME)
        extra: dict[str, Any] = {}
        if starttls is not None:
            extra["tls_context"] = starttls
        if implicit_tls is not None:
            extra["ssl_context"] = implicit_tls
        self._smtp = _AnyPortController(_MailHandler(self.log), host, smtp_port, **extra)
        self._http = ThreadingHTTPServer((host, http_port), _handler_class(self.log, secret))
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)
        self.host = host

    @property
    def smtp_port(self) -> int:
        return int(self._smtp.port)

    @property
    def http_port(self) -> int:
        return int(self._http.server_address[1])

    def start(self) -> Sink:
        self._smtp.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._smtp.stop()


def _handler_class(log: OutboxLog, secret: bytes | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                parsed: Any = json.loads(body)
            except ValueError:
                parsed = body.decode("utf-8", "replace")
            entry: dict[str, Any] = {"via": "http", "path": self.path, "body": parsed}
            delivery = self.headers.get(signing.DELIVERY_HEADER)
            if delivery:
                entry["delivery_id"] = delivery
            if secret is not None and self.headers.get(signing.SIGNATURE_HEADER):
                entry["signature_valid"] = signing.verify(
                    secret, body, dict(self.headers.items()), now=time.time()
                )
            log.append(entry)
            self._reply(200, "text/plain", b"ok")

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/" + LOG_NAME):
                data = log.path.read_bytes() if log.path.exists() else b""
                self._reply(200, "application/x-ndjson", data)
            else:
                self._reply(200, "text/html; charset=utf-8", render_page(log.entries()).encode())

        def _reply(self, status: int, kind: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

    return Handler


def render_page(entries: list[dict[str, Any]]) -> str:
    """Newest first; every value escaped (the entries are lead data from the outside)."""
    rows = []
    for entry in reversed(entries):
        if entry.get("via") == "smtp":
            who = ", ".join(entry.get("to", []))
            title, detail = entry.get("subject", ""), entry.get("text", "")
        else:
            body = entry.get("body")
            who = entry.get("path", "")
            title = _webhook_title(body)
            detail = json.dumps(body, indent=2, ensure_ascii=False)
        rows.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><b>{}</b><pre>{}</pre></td></tr>".format(
                *(
                    html.escape(str(v))
                    for v in (entry.get("received_at"), entry.get("via"), who, title, detail)
                )
            )
        )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>leadrouter outbox</title>"
        "<meta http-equiv='refresh' content='5'><style>body{font-family:sans-serif}"
        "td{vertical-align:top;border-bottom:1px solid #ddd;padding:4px}"
        "pre{white-space:pre-wrap;margin:0}</style></head><body>"
        f"<h1>Notifications received ({len(entries)})</h1><table>"
        "<tr><th>received</th><th>via</th><th>to</th><th>message</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


def _webhook_title(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("summary") or body.get("text") or body.get("event") or "")
    return ""
