"""Why a rule's regex cannot be used, for ``config check`` and the loader.

Rule regexes are matched by RE2 (see :mod:`worker.routing.patterns`), in time linear
in the lead's value, so no pattern can stall routing, however it nests its repeats. What
remains to refuse is what RE2 cannot do at all (backreferences, lookahead and
lookbehind, atomic groups, possessive repeats, repeat counts above 1000) and what is not
a regular expression in the first place. The check compiles the pattern exactly as the
router will, so a pattern the check accepts is one the router can run.
"""

from __future__ import annotations

import re

from worker.routing.patterns import PatternError, compile_rule_regex

_UNSUPPORTED = (
    "not supported by the linear-time regex engine (RE2), which rules use so that no "
    "lead value can stall routing: backreferences, lookahead/lookbehind, atomic groups "
    "and possessive repeats cannot be used"
)


def regex_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be used in a rule, or None."""
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    except (OverflowError, RecursionError) as exc:
        return f"invalid regular expression: {type(exc).__name__}"
    try:
        compile_rule_regex(pattern)
    except PatternError as exc:
        return f"{exc} (rules use the linear-time regex engine RE2)"
    except ValueError as exc:
        return f"{_UNSUPPORTED} ({exc})"
    return None
