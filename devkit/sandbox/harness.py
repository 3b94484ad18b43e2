"""Start a sandbox org in a background thread: the entry point for tests, the demo, the
soak and the benchmarks (``leadrouter sandbox serve`` runs the same thing in the
foreground).

    handle = start_sandbox(tmp_path, leads=100)
    sf = Salesforce(session_id=..., instance_url=handle.instance_url, session=...)
    handle.admin().create_leads(10)
    handle.stop()
"""

from __future__ import annotations

import json
import secrets
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devkit.sandbox.admin import SandboxAdmin
from devkit.sandbox.app import SandboxApp
from devkit.sandbox.auth import ConnectedApp, Sessions, TokenEndpoint
from devkit.sandbox.certs import ensure_keys
from devkit.sandbox.faults import FaultConfig
from devkit.sandbox.latency import LatencyProfile
from devkit.sandbox.org import Org
from devkit.sandbox.seed import seed_base, seed_data
from devkit.sandbox.server import SandboxServer
from worker.files import private_dir, tighten, write_private

if TYPE_CHECKING:
    from devkit.sandbox.pubsub.server import PubSubServer

STATE_FILE = "org.sqlite"
INFO_FILE = "sandbox.json"


@dataclass
class SandboxHandle:
    instance_url: str  # "https://127.0.0.1:<port>"
    token_url: str  # instance_url + "/services/oauth2/token"
    ca_path: Path  # CA bundle to trust
    client_id: str  # a registered connected app (client_credentials and JWT)
    client_secret: str
    jwt_private_key_path: Path  # signs JWT assertions; its certificate is registered
    jwt_username: str  # the integration user's username
    state_path: Path  # the SQLite file
    admin_token: str  # for the /__sandbox admin endpoint
    _admin: SandboxAdmin = field(repr=False)
    _server: SandboxServer = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    # the Pub/Sub API (gRPC over TLS, same CA), "host:port"; None unless asked for
    pubsub_endpoint: str | None = None
    _pubsub: PubSubServer | None = field(default=None, repr=False)

    @property
    def latency(self) -> LatencyProfile:
        """The org's latency profile (``delay(kind, records)``; ``event_delivery`` for
        change events)."""
        return self._admin.org.latency

    def admin(self) -> SandboxAdmin:
        """In-process control of the org (faults, data, usage); not counted as API calls."""
        return self._admin

    def access_token(self) -> str:
        """A fresh session for the integration user, without calling the token endpoint."""
        return self._admin.issue_token()

    def pubsub(self) -> PubSubServer:
        """The Pub/Sub API server (its event bus, service settings); started on request."""
        if self._pubsub is None:
            raise RuntimeError("this sandbox serves no Pub/Sub API: start it with pubsub_port")
        return self._pubsub

    def info(self) -> dict[str, Any]:
        info = {
            "instance_url": self.instance_url, "token_url": self.token_url, "ca_path": str(self.ca_path),
            "client_id": self.client_id, "client_secret": self.client_secret,
            "jwt_private_key_path": str(self.jwt_private_key_path), "jwt_username": self.jwt_username,
            "state_path": str(self.state_path), "admin_token": self.admin_token,
        }  # fmt: skip
        if self.pubsub_endpoint is not None:
            info |= {"pubsub_endpoint": self.pubsub_endpoint, "org_id": self._admin.org.org_id}
        return info

    def stop(self) -> None:
        if self._pubsub is not None:
            self._pubsub.stop()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._admin.org.store.close()

    def __enter__(self) -> SandboxHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _credentials(state_dir: Path) -> dict[str, str]:
    path = state_dir / "app.json"
    if path.exists():
        tighten(path)
        data: dict[str, str] = json.loads(path.read_text())
        return data
    data = {
        "client_id": "3MVG9" + secrets.token_urlsafe(60).replace("-", "A").replace("_", "b")[:80],
        "client_secret": secrets.token_hex(32).upper(),
        "admin_token": secrets.token_urlsafe(32),
    }
    write_private(path, json.dumps(data, indent=2))
    return data


def start_sandbox(
    state_dir: Path,
    *,
    port: int = 0,
    seed: int | None = None,
    leads: int = 0,
    faults: FaultConfig | None = None,
    accounts: int = 200,
    host: str = "127.0.0.1",
    session_ttl_s: float | None = None,
    latency: str | Path | LatencyProfile = "none",
    pubsub_port: int | None = None,
    delivery_delay: Callable[[], float] | None = None,
    keepalive_s: float = 270.0,
) -> SandboxHandle:
    """Serve the org kept in ``state_dir`` (seeding it on first use) in a background thread.

    A fresh state gets the roster's users, the intake queue, ``accounts`` accounts and
    ``leads`` leads drawn from ``seed``; an existing state only gets ``leads`` more leads.
    ``latency``: ``none`` (answer at once), ``real`` or a calibration YAML's path (see
    :mod:`devkit.sandbox.latency`), its draws seeded from ``seed``.

    With ``pubsub_port`` (0: any free port) it also serves the Pub/Sub API: every lead
    change from then on is a ``LeadChangeEvent``, deliverable ``delivery_delay()``
    seconds after its commit (default: the latency profile's ``event_delivery``, as the
    bus's lag at the moment: :mod:`devkit.sandbox.latency.lag`), and an idle subscription
    gets a keepalive every
    ``keepalive_s`` seconds (Salesforce: within 270).
    """
    profile = (  # first: a profile that cannot be read stops us before any work
        latency
        if isinstance(latency, LatencyProfile)
        else LatencyProfile.load(latency, seed=seed or 0)
    )
    state_dir = private_dir(Path(state_dir))
    keys = ensure_keys(state_dir)
    creds = _credentials(state_dir)
    org = Org.open(state_dir / STATE_FILE)
    fresh = org.integration_user_id is None
    seed_base(org)
    if fresh and (accounts or leads):
        seed_data(org, seed=seed or 0, accounts=accounts, leads=leads)
    sessions = Sessions(org.org_id, session_ttl_s)
    admin = SandboxAdmin(org, sessions, seed=seed or 0)
    if not fresh and leads:
        admin.create_leads(leads)
    if faults is not None:
        org.faults.configure(faults)
    org.latency = profile

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(keys.server))
    server = SandboxServer(host, port, None, context)  # type: ignore[arg-type]
    instance_url = f"https://{host}:{server.server_address[1]}"
    org.instance_url = instance_url
    integration = org.store.get_row(org.integration_user_id or "")
    assert integration is not None
    app = ConnectedApp(
        creds["client_id"], creds["client_secret"], keys.jwt_cert.read_bytes(), integration["Id"]
    )

    def find_user(username: str) -> tuple[str, bool] | None:
        for row in org.store.rows("User"):
            if str(row["Username"]).lower() == username.lower():
                return row["Id"], bool(row["IsActive"])
        return None

    tokens = TokenEndpoint(app, sessions, instance_url, find_user)
    server.app = SandboxApp(org, sessions, tokens, creds["admin_token"], admin.call)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sandbox-org", daemon=True
    )
    thread.start()
    pubsub = None
    if pubsub_port is not None:
        from devkit.sandbox.pubsub.bus import EventBus
        from devkit.sandbox.pubsub.server import start_pubsub

        lag = profile.delivery_lag()  # the bus's lag at each moment (latency.lag)
        delay = delivery_delay or (lambda: lag(time.monotonic()))
        bus = EventBus(org, delivery_delay=delay)
        admin.bus = bus  # its delivery count, for the bench (admin op event_deliveries)
        try:
            pubsub = start_pubsub(
                bus, sessions, instance_url, keys.server, host=host, port=pubsub_port,
                keepalive_s=keepalive_s,
            )  # fmt: skip
        except OSError:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            org.store.close()
            raise
    handle = SandboxHandle(
        instance_url=instance_url,
        token_url=instance_url + "/services/oauth2/token",
        ca_path=keys.ca,
        client_id=creds["client_id"],
        client_secret=creds["client_secret"],
        jwt_private_key_path=keys.jwt_key,
        jwt_username=str(integration["Username"]),
        state_path=state_dir / STATE_FILE,
        admin_token=creds["admin_token"],
        _admin=admin,
        _server=server,
        _thread=thread,
        pubsub_endpoint=pubsub.endpoint if pubsub else None,
        _pubsub=pubsub,
    )
    return handle
