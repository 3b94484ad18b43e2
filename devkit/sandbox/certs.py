"""Key material in the state folder: a local CA and server certificate (so clients use
real TLS with a CA bundle), and the JWT signing key whose certificate the sandbox's
connected app trusts. Files are created once and reused, owner-only (0600) like all the
state folder: the server and JWT keys are secrets, and a key beside a readable
certificate tells a reader nothing it should not know, but one rule is easier to check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from worker.files import tighten, write_private


@dataclass(frozen=True)
class KeyFiles:
    ca: Path  # CA bundle clients trust
    server: Path  # server key + certificate chain (PEM)
    jwt_key: Path  # private key a client signs JWT assertions with
    jwt_cert: Path  # its certificate, registered on the connected app


def ensure_keys(state_dir: Path) -> KeyFiles:
    files = KeyFiles(
        state_dir / "ca.pem",
        state_dir / "server.pem",
        state_dir / "jwt_key.pem",
        state_dir / "jwt_cert.pem",
    )
    if not (files.ca.exists() and files.server.exists()):
        ca = trustme.CA(organization_name="leadrouter sandbox CA")
        server = ca.issue_cert("127.0.0.1", "localhost", "::1")
        write_private(files.server, server.private_key_and_cert_chain_pem.bytes())
        write_private(files.ca, ca.cert_pem.bytes())
    if not (files.jwt_key.exists() and files.jwt_cert.exists()):
        _jwt_pair(files.jwt_key, files.jwt_cert)
    for path in (files.ca, files.server, files.jwt_key, files.jwt_cert):
        tighten(path)  # made by an older version with the default mode
    return files


def _jwt_pair(key_path: Path, cert_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leadrouter-sandbox-jwt")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    write_private(
        key_path,
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
