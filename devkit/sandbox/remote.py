"""The admin operations of a sandbox running in another process (``leadrouter sandbox
serve``), over its authenticated ``/__sandbox/<op>`` endpoint.

Call with keyword arguments only: ``remote.create_leads(count=50)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests

from devkit.sandbox.admin import OPS


class RemoteAdminError(RuntimeError):
    pass


class RemoteAdmin:
    def __init__(
        self, instance_url: str, admin_token: str, ca_path: Path | str, timeout: float = 60
    ) -> None:
        self.instance_url = instance_url.rstrip("/")
        self._token = admin_token
        self._timeout = timeout
        self._session = requests.Session()
        self._session.verify = str(ca_path)
        self._session.trust_env = False  # REQUESTS_CA_BUNDLE must not override our CA

    @classmethod
    def from_state_dir(cls, state_dir: Path) -> RemoteAdmin:
        info = json.loads((state_dir / "sandbox.json").read_text())
        return cls(info["instance_url"], info["admin_token"], info["ca_path"])

    def call(self, op: str, **params: Any) -> Any:
        response = self._session.post(
            f"{self.instance_url}/__sandbox/{op}",
            json=params,
            headers={"X-Sandbox-Admin-Token": self._token},
            timeout=self._timeout,
        )
        body = response.json()
        if response.status_code != 200:
            raise RemoteAdminError(f"{op}: {body[0]['errorCode']}: {body[0]['message']}")
        return body["result"]

    def __getattr__(self, op: str) -> Any:
        if op not in OPS:
            raise AttributeError(op)
        return lambda **params: self.call(op, **params)

    def close(self) -> None:
        self._session.close()
