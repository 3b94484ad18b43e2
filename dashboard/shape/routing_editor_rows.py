"""The routing editor's tables: the draft's rules, the version history. Plain rows (no
Markdown: the page shows them with ``st.dataframe``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.shape.routing_diff import value
from worker.store.config_versions_repo import ConfigVersion

RULE_COLUMNS = ("#", "rule", "action", "when")  # the long column last
HISTORY_COLUMNS = ("version", "status", "published at (UTC)", "by", "message", "from")


def _action(action: Any) -> str:
    if isinstance(action, Mapping) and "pool" in action:
        return f"pool {action['pool']}"
    return "" if action is None else str(action)


def rule_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    rules = doc.get("rules")
    out = []
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, Mapping):
            continue
        out.append(
            {
                "#": i + 1,
                "rule": str(rule.get("name") or ""),
                "action": _action(rule.get("action")),
                "when": value(rule["when"]) if rule.get("when") else "(everything)",
            }
        )
    return out


def history_rows(versions: Sequence[ConfigVersion]) -> list[dict[str, Any]]:
    """Newest first: number, status, when (UTC, to the minute), who, why, based on."""
    return [
        {
            "version": v.number,
            "status": v.status,
            "published at (UTC)": v.created_at.strftime("%Y-%m-%d %H:%M"),
            "by": v.author,
            "message": v.message,
            "from": "" if v.base_number is None else str(v.base_number),
        }
        for v in versions
    ]
