"""E-mail over STARTTLS and implicit TLS to a real aiosmtpd server with a test CA."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import trustme

from devkit.sink import Sink
from worker.notify import SendError, Transports
from worker.notify.model import SmtpSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


def _send(smtp: SmtpSettings) -> None:
    transports = Transports(smtp, timeout=5)
    try:
        transports.send_mail("sarah@acme.example", "New lead", "plain", "<p>html</p>", "outbox-1")
    finally:
        transports.close()


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_mail_is_delivered_over_an_encrypted_connection(
    ca: trustme.CA, tmp_path: Path, mode: str
) -> None:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    context = _server_context(ca)
    sink = Sink(tmp_path, **{"starttls" if mode == "starttls" else "implicit_tls": context}).start()
    try:
        _send(
            SmtpSettings(
                host="127.0.0.1",
                port=sink.smtp_port,
                starttls=mode == "starttls",
                tls=mode == "tls",
                ca_bundle=bundle,
                sender="router@acme.example",
            )
        )
    finally:
        sink.stop()

    (mail,) = sink.log.entries()
    assert mail["to"] == ["sarah@acme.example"] and mail["subject"] == "New lead"
    assert mail["text"].strip() == "plain" and "<p>html</p>" in mail["html"]


def test_untrusted_server_certificate_is_a_retryable_failure_not_a_plaintext_fallback(
    ca: trustme.CA, tmp_path: Path
) -> None:
    sink = Sink(tmp_path, starttls=_server_context(ca)).start()  # CA not given to the client
    try:
        with pytest.raises(SendError) as err:
            _send(SmtpSettings(host="127.0.0.1", port=sink.smtp_port, starttls=True))
    finally:
        sink.stop()

    assert str(err.value).startswith("SMTP connection failed") and not err.value.permanent
    assert sink.log.entries() == []
