"""A check's result and how it is printed (one line) or serialised (``--json``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "FAIL"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""  # what to do about it (shown unless the check passed)
    # failed because Salesforce did not answer (a 5xx, a reset, a timeout), not because
    # of what it answered: worth asking again (the worker's preflight does)
    transient: bool = False

    def line(self) -> str:
        text = f"{self.status.value:<4}  {self.name:<20}  {self.detail}"
        if self.fix and self.status is not Status.OK:
            text += f"  → {self.fix}"
        return text

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL


def ok(name: str, detail: str) -> Check:
    return Check(name, Status.OK, detail)


def warn(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, Status.WARN, detail, fix)


def fail(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, Status.FAIL, detail, fix)


def skip(name: str, detail: str, fix: str = "") -> Check:
    return Check(name, Status.SKIP, detail, fix)


def exit_code(checks: Sequence[Check]) -> int:
    """1 when any check failed, else 0 (warnings do not fail)."""
    return 1 if any(c.failed for c in checks) else 0


def to_json(checks: Sequence[Check]) -> str:
    return json.dumps(
        {
            "ok": not any(c.failed for c in checks),
            "checks": [_json(c) for c in checks],
        },
        indent=2,
        ensure_ascii=False,
    )


def _json(check: Check) -> dict[str, object]:
    out = asdict(check) | {"status": check.status.value}
    if not check.transient:
        del out["transient"]
    return out
