"""Rule regexes with nested repetition are refused: on a long almost-matching lead value
they backtrack exponentially and would stall every intake cycle."""

from __future__ import annotations

import pytest

from worker.routing_config.regex_safety import regex_problem


@pytest.mark.parametrize(
    "pattern", ["(a+)+$", r"^(\w+\s?)*$", "(a{1,5})+", "(?=(a+)+)", "(x|(a+)*)", r"(\d*)*"]
)
def test_nested_repetition_is_refused(pattern: str) -> None:
    assert "nested repetition" in (regex_problem(pattern) or "")


@pytest.mark.parametrize(
    "pattern",
    ["^acme", r"\d{3}-\d{4}", "(ab){2}", "(a|b)*c", r"^(test|noreply|no-reply)@",
     r"^(?:gmail|yahoo)\.com$", r"bank|finance|insurance", r"^[A-Z]{2}\d+$"],
)  # fmt: skip
def test_ordinary_rule_patterns_are_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


def test_a_broken_pattern_is_named() -> None:
    assert (regex_problem("((") or "").startswith("invalid regular expression")
