"""HTTPS transport: a threading stdlib server, TLS per connection, keep-alive, and real
TCP resets for the fault injector."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devkit.sandbox.app import SandboxApp
from devkit.sandbox.coding import choose, decode_request, encode_response
from devkit.sandbox.framing import FramingError, read_body
from devkit.sandbox.web import Request

log = logging.getLogger(__name__)
MAX_URI = 16_384


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, app: SandboxApp, context: ssl.SSLContext) -> None:
        super().__init__((host, port), _Handler)
        self.app = app
        self.context = context
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs here, in the connection's own thread, so one slow client
        # cannot stall accept().
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        with self._open_lock:
            self._open.add(tls)
        try:
            _Handler(tls, client_address, self)
        except (ConnectionError, ssl.SSLError, TimeoutError, OSError):
            pass
        finally:
            with self._open_lock:
                self._open.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def close_connections(self) -> None:
        with self._open_lock:
            for sock in list(self._open):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header: the org's clock, which may be set off this machine's."""
        skew = float(self.server.app.org.store.meta.get("clock_skew_seconds") or 0.0)
        return super().date_time_string((time.time() if timestamp is None else timestamp) + skew)

    do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = do_GET

    def _dispatch(self) -> None:
        if len(self.path) > MAX_URI:
            # Salesforce refuses URIs over 16,384 bytes: callers must chunk long IN lists.
            body = b'[{"message":"URI Too Long","errorCode":"URI_TOO_LONG"}]'
            self.close_connection = True
            self._send(414, {"Connection": "close"}, body)
            return
        if (
            len(self.requestline) + sum(len(k) + len(v) + 4 for k, v in self.headers.items())
            > MAX_URI
        ):
            body = (
                b'[{"message":"Request Header Fields Too Large","errorCode":"HEADERS_TOO_LARGE"}]'
            )
            self.close_connection = True
            self._send(431, {"Connection": "close"}, body)
            return
        try:
            body, close = read_body(self.rfile, self._framing_headers(), self.request_version)
            body = decode_request(body, self.headers.get("Content-Encoding"))
        except FramingError as err:
            # the body's end is unknown: what follows cannot be read as a next request
            self.close_connection = True
            error = json.dumps([{"message": err.message, "errorCode": "BAD_REQUEST"}])
            self._send(err.status, {"Connection": "close"}, error.encode())
            return
        if close:
            self.close_connection = True
        url = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=url.path,
            query=parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        outcome = self.server.app.serve(request)
        if outcome.reset or outcome.response is None:
            self._reset()
            return
        response = outcome.response
        self._send(response.status, response.headers, response.encoded())

    def _framing_headers(self) -> dict[str, str]:
        """The two framing fields, every occurrence joined (a repeated Content-Length
        must agree with itself)."""
        out = {}
        for name in ("Transfer-Encoding", "Content-Length"):
            values = self.headers.get_all(name)
            if values:
                out[name.lower()] = ", ".join(values)
        return out

    def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
        self.send_response(status)
        if payload and "Content-Type" not in headers:
            self.send_header("Content-Type", "application/json;charset=UTF-8")
        for name, value in headers.items():
            self.send_header(name, value)
        coding = choose(self.headers.get("Accept-Encoding")) if payload else None
        if coding is not None:
            payload = encode_response(payload, coding)
            self.send_header("Content-Encoding", coding)
            self.send_header("Vary", "Accept-Encoding")
        if status not in (204, 304):  # RFC 9110 8.6: no Content-Length on a 204 (or 304)
            self.send_header("Content-Length", str(len(payload)))
        if self.close_connection and "Connection" not in headers:
            self.send_header("Connection", "close")  # the client learns it before the EOF
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Abort the connection with RST, as a crashed proxy or a dropped link would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()  # no TLS close_notify: the peer sees ECONNRESET
        except OSError:
            pass

    def finish(self) -> None:
        try:
            super().finish()
        except (OSError, ValueError):
            pass
