"""Files for ``leadrouter simulate``: leads and accounts from CSV or JSON, decisions out.

Leads: one record per lead, keys = Salesforce Lead API names (``Id``, ``Email``,
``Company``, ``Country``, ``NumberOfEmployees`` ...); ``CreatedDate`` (ISO 8601), when
present, is the routing instant of that lead. Accounts: ``Id``, ``Name``, ``Website``,
``OwnerId``, ``OwnerActive``, ``NumberOfEmployees``, ``BillingCountry``, ``Phone``,
``LastActivityDate``, ``OpenOpportunities``. Contacts: ``Id``, ``Email``, ``AccountId``,
``OwnerId``, ``OwnerActive``. CSV empty cells are blank (None).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from worker.routing import Account, Decision, KnownEmail, Lead


class InputError(ValueError):
    """A leads/accounts file cannot be read; the message names the file and record."""


def _records(path: Path) -> list[dict[str, Any]]:
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                data = data.get("records", data.get("leads", data.get("accounts")))
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise InputError(f"{path}: expected a JSON list of objects")
            return data
        if path.suffix.lower() == ".csv":
            with path.open(newline="", encoding="utf-8-sig") as fh:
                return [
                    {k: (v if v != "" else None) for k, v in row.items()}
                    for row in csv.DictReader(fh)
                ]
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    raise InputError(f"{path}: unsupported file type (use .csv or .json)")


def _number(raw: Any) -> Any:
    """CSV gives text: turn numeric-looking values into numbers (JSON keeps its types)."""
    if isinstance(raw, str):
        try:
            return int(raw) if raw.strip().lstrip("-").isdigit() else float(raw)
        except ValueError:
            return raw
    return raw


_NUMERIC = frozenset({"NumberOfEmployees", "AnnualRevenue"})


def _when(raw: Any, where: str) -> datetime | None:
    if raw in (None, ""):
        return None
    try:
        value = datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{where}.CreatedDate: not an ISO 8601 date-time: {raw!r}") from None
    if value.tzinfo is None:
        raise InputError(f"{where}.CreatedDate: needs a UTC offset (e.g. Z): {raw!r}")
    return value


def read_leads(path: Path) -> list[Lead]:
    leads = []
    for i, rec in enumerate(_records(path)):
        where = f"{path} record {i + 1}"
        lead_id = rec.get("Id") or f"row{i + 1}"
        fields = {
            k: (_number(v) if k in _NUMERIC else v)
            for k, v in rec.items()
            if k not in ("Id", "CreatedDate")
        }
        leads.append(Lead(str(lead_id), fields, _when(rec.get("CreatedDate"), where)))
    return leads


def _truthy(raw: Any) -> bool:
    return raw not in (False, "false", "False", "0", 0, "no")


def read_accounts(path: Path) -> list[Account]:
    out = []
    for i, rec in enumerate(_records(path)):
        if not rec.get("Id") or not rec.get("Name"):
            raise InputError(f"{path} record {i + 1}: Id and Name are required")
        last = rec.get("LastActivityDate")
        employees = _number(rec.get("NumberOfEmployees"))
        out.append(
            Account(
                id=str(rec["Id"]),
                name=str(rec["Name"]),
                website=rec.get("Website"),
                owner_id=rec.get("OwnerId"),
                owner_active=_truthy(rec.get("OwnerActive", True)),
                employees=int(employees) if isinstance(employees, int | float) else None,
                country=rec.get("BillingCountry"),
                phone=rec.get("Phone"),
                last_activity=date.fromisoformat(str(last)[:10]) if last else None,
                open_opportunities=int(_number(rec.get("OpenOpportunities")) or 0),
            )  # fmt: skip
        )
    return out


def read_contacts(path: Path) -> list[KnownEmail]:
    """Existing Contacts (``Id``, ``Email``, ``AccountId``, ``OwnerId``, ``OwnerActive``):
    a lead with the same e-mail goes to the contact's account owner, as in the worker."""
    out = []
    for i, rec in enumerate(_records(path)):
        if not rec.get("Id") or not rec.get("Email") or not rec.get("OwnerId"):
            raise InputError(f"{path} record {i + 1}: Id, Email and OwnerId are required")
        out.append(
            KnownEmail(
                email=str(rec["Email"]).strip().lower(),
                kind="contact",
                record_id=str(rec["Id"]),
                account_id=rec.get("AccountId") or None,
                owner_id=str(rec["OwnerId"]),
                owner_active=_truthy(rec.get("OwnerActive", True)),
            )
        )
    return out


COLUMNS = (
    "lead_id",
    "action",
    "rep_key",
    "owner_id",
    "pool",
    "rule",
    "method",
    "reason",
    "account_id",
)


def decision_rows(decisions: Iterable[Decision]) -> list[dict[str, Any]]:
    return [{c: getattr(d, c) for c in COLUMNS} for d in decisions]


def write_decisions(path: Path, decisions: Sequence[Decision], with_trace: bool = True) -> None:
    from worker.routing import decision_to_dict

    if path.suffix.lower() == ".json":
        data = [
            decision_to_dict(d) if with_trace else row
            for d, row in zip(decisions, decision_rows(decisions), strict=True)
        ]
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        return
    if path.suffix.lower() != ".csv":
        raise InputError(f"{path}: unsupported output type (use .csv or .json)")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(decision_rows(decisions))
