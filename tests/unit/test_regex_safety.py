"""Rule regexes run in linear time (RE2): a hostile pattern on a hostile lead value costs
milliseconds, not minutes; what RE2 cannot run is refused by config check with the reason;
patterns keep the meaning they had under Python's ``re`` (case-insensitive, Unicode)."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from worker.routing.conditions import compile_condition
from worker.routing.model import Condition
from worker.routing.patterns import PatternError, compile_rule_regex, to_re2
from worker.routing_config.regex_safety import regex_problem

# (pattern, value): under Python's backtracking re each took seconds to hours
HOSTILE = [
    (r"^\w*\w*\w*\w*\w*!x$", "a" * 100_000),  # 63 s on 300 characters
    (r"^(a|a)+$", "a" * 100_000 + "!"),  # 4.2 s on 27 characters
    (r"(a+)+$", "a" * 100_000 + "!"),
    (r"^(\w+\s?)*$", "word " * 20_000 + "!"),
]
BUDGET_SECONDS = 0.1  # generous: RE2 takes well under a millisecond per 100 kB here


@pytest.mark.parametrize(("pattern", "value"), HOSTILE, ids=[p for p, _ in HOSTILE])
def test_a_hostile_pattern_on_a_100kb_value_is_accepted_and_fast(pattern: str, value: str) -> None:
    assert regex_problem(pattern) is None
    condition = compile_condition(Condition("Company", "regex", pattern))

    started = time.perf_counter()
    matched = condition.test(value)
    elapsed = time.perf_counter() - started

    print(f"{pattern!r} on {len(value):,} chars: {elapsed * 1000:.3f} ms")
    assert matched is False
    assert elapsed < BUDGET_SECONDS


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?P<x>a)(?P=x)", r"(?=acme)a", r"(?!test)", r"(?<=@)gov", r"(?<!x)y",
     r"(?>a+)b", r"a++", r"(?x) a b"],
)  # fmt: skip
def test_what_re2_cannot_run_is_refused_with_the_reason(pattern: str) -> None:
    problem = regex_problem(pattern) or ""
    assert problem.startswith("not supported by the linear-time regex engine (RE2)"), problem
    assert "backreferences, lookahead/lookbehind" in problem


@pytest.mark.parametrize("pattern", [r"[\W]", r"[a\S]"])
def test_a_complemented_class_inside_brackets_is_refused_with_a_hint(pattern: str) -> None:
    assert "inside [...] is not supported" in (regex_problem(pattern) or "")


@pytest.mark.parametrize(
    "pattern",
    ["^acme", r"\d{3}-\d{4}", "(ab){2}", "(a|b)*c", r"^(test|noreply|no-reply)@",
     r"^(?:gmail|yahoo)\.com$", r"bank|finance|insurance", r"^[A-Z]{2}\d+$",
     r"@(.+\.)?gov$", r"\bvp\b", r"^(?P<first>\w+)\s"],
)  # fmt: skip
def test_ordinary_rule_patterns_are_accepted(pattern: str) -> None:
    assert regex_problem(pattern) is None


def test_a_broken_pattern_is_named() -> None:
    assert (regex_problem("((") or "").startswith("invalid regular expression")


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("^vp", "VP Sales", True),
        ("müller", "MÜLLER GmbH", True),  # case-insensitive beyond ASCII, as re.IGNORECASE
        (r"^\w+$", "Müller", True),  # RE2's \w alone would be ASCII-only
        (r"^\d+$", "١٢٣", True),  # Arabic-Indic digits are \d in Python
        (r"^a\sb$", "a\u00a0b", True),  # no-break space is \s in Python
        (r"^\W$", "ü", False),
        (r"^[\w-]+$", "Jean-Loïc", True),
        (r"\u00e9", "CAFÉ", True),
        (r"^a{,2}$", "aa", True),  # {,n} is {0,n}, not literal text
        (r"acme\Z", "acme", True),
    ],
)
def test_patterns_mean_what_they_meant_under_python_re(
    pattern: str, value: str, expected: bool
) -> None:
    assert bool(re.search(pattern, value, re.IGNORECASE)) is expected  # the reference
    assert compile_rule_regex(pattern)(value) is expected


def test_to_re2_leaves_escaped_brackets_and_literal_text_alone() -> None:
    assert to_re2(r"\[\w\]") == r"\[[\p{L}\p{N}_]\]"
    assert to_re2(r"[]\d]") == r"[]\p{Nd}]"
    assert to_re2(r"[^]a]") == r"[^]a]"
    with pytest.raises(PatternError):
        to_re2(r"[\S]")


PATTERNS = [r"^\w+$", r"\d{2,}", r"^[\w.-]+@", r"\s\S", r"^\D*$", r"[\s\d]x", r"^(\w+\s?)*$",
            r"gmbh|ltd\.?$", r"^[a-z]{2}\d"]  # fmt: skip
ALPHABET = st.sampled_from(list("aZü9٣ _.-@x\u00a0\tÉéßLtdGmbH"))


@given(pattern=st.sampled_from(PATTERNS), value=st.text(ALPHABET, max_size=20))
def test_re2_agrees_with_python_re_on_unicode_values(pattern: str, value: str) -> None:
    expected = re.search(pattern, value, re.IGNORECASE) is not None
    assert compile_rule_regex(pattern)(value) is expected
