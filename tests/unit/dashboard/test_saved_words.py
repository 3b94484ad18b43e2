"""A save is told in words, not field names."""

from __future__ import annotations

import json

from dashboard.shape.saved_words import saved_message


def j(value: object) -> str:
    return json.dumps(value)


def test_switching_a_rep_off_says_away_and_why() -> None:
    changed = [("disabled_reason", None, j("holiday")), ("enabled", j(True), j(False))]
    assert saved_message("Sarah Johnson", changed) == (
        "Saved Sarah Johnson: now away (holiday). The worker applies it at its next cycle."
    )
    back = [("disabled_reason", j("holiday"), None), ("enabled", j(False), j(True))]
    assert saved_message("Sarah Johnson", back).startswith(
        "Saved Sarah Johnson: takes leads again."
    )


def test_weights_and_caps_name_what_changed_and_where() -> None:
    changed = [
        ("caps", j({"per_day": 40}), j({"per_day": 30, "per_hour": 8})),
        ("pools.enterprise", None, j({"weight": 0.5})),
        ("weight", j(1), j(1.5)),
    ]
    assert saved_message("Ben", changed) == (
        "Saved Ben: hourly cap 8; daily cap 30; weight in enterprise 0.5; weight 1.5. "
        "The worker applies it at its next cycle."
    )


def test_nothing_changed_is_said_so() -> None:
    assert saved_message("Ben", []) == "Nothing to save for Ben: no value changed."
