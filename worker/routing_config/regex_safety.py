"""Refuse rule regexes that can take exponential time on a hostile lead value.

A rule's pattern is written by RevOps, but the text it runs on comes from web forms: a
pattern with nested repetition, such as ``(a+)+$`` or ``(\\w+\\s?)*x``, backtracks
exponentially on a long value that almost matches, and one such lead would stall every
intake cycle. Nested repetition (a repeated group that itself contains a repeat) is the
classic cause, so ``config check`` refuses it; the routing core then only ever runs
patterns whose matching time grows polynomially with the value. (Overlapping
alternatives like ``(a|a)*`` are not detected: this is a guard, not a proof.)
"""

from __future__ import annotations

import importlib
import re
from typing import Any

# the parser behind ``re`` (not in the typeshed stubs, hence importlib and Any)
_c: Any = importlib.import_module("re._constants")
_sre: Any = importlib.import_module("re._parser")

_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", _c.MAX_REPEAT)}


def _height(items: Any) -> int:
    """How deeply repeats (``*``, ``+``, ``{n,m}`` with m > 1) nest in a parsed pattern."""
    deepest = 0
    for op, arg in items:
        if op in _REPEATS:
            _low, high, sub = arg
            deepest = max(deepest, _height(sub) + (1 if high > 1 else 0))
        elif op == _c.SUBPATTERN:  # (group, add_flags, del_flags, pattern)
            deepest = max(deepest, _height(arg[-1]))
        elif op == getattr(_c, "ATOMIC_GROUP", None):  # the pattern itself (conservative)
            deepest = max(deepest, _height(arg))
        elif op == _c.BRANCH:
            deepest = max([deepest, *(_height(branch) for branch in arg[1])])
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            deepest = max(deepest, _height(arg[1]))
    return deepest


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used in a rule, or None."""
    try:
        re.compile(pattern)
        parsed = _sre.parse(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    if _height(parsed) >= 2:
        return (
            "nested repetition (a repeated group containing a repeat, e.g. (a+)+) can take "
            "exponential time on a long lead value; rewrite it without the nesting"
        )
    return None
