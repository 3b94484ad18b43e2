"""Rule regexes: written in Python's syntax, matched by RE2 in linear time.

A rule's pattern is written by RevOps, but the text it runs on comes from web forms.
Python's ``re`` backtracks: ``^(a|a)+$`` or ``^\\w*\\w*\\w*\\w*\\w*!x$`` take seconds to hours
on a few hundred characters that almost match, and one such lead would stall every
intake cycle. RE2 (reached through :mod:`worker.routing._libs`) matches in time linear
in the value whatever the pattern; the price is that backreferences, lookaround and
atomic groups cannot be expressed, and ``config check`` refuses them with the reason.

So that a pattern keeps the meaning it had under ``re`` (case-insensitive, Unicode),
:func:`to_re2` rewrites the few escapes whose meaning differs: RE2's ``\\w``, ``\\d`` and
``\\s`` are ASCII-only where Python's are Unicode, RE2 spells Python's ``\\Z`` as ``\\z``
and ``\\uXXXX`` as ``\\x{XXXX}``, and reads ``{,n}`` as literal text where Python
reads ``{0,n}``. Two differences remain (documented for rule authors): ``\\b`` treats only
ASCII letters, digits and ``_`` as word characters, and ``$`` matches only at the very
end of the value, not also before a final line break.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from worker.routing import _libs

_WORD = r"\p{L}\p{N}_"  # Python's str \w: letters, numbers, underscore
_SPACE = r"\t-\r\x1c-\x20\x85\p{Z}"  # Python's str \s: str.isspace()
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
    "Z": r"\z",
}
# inside [...] only what RE2 can put in a class: no complement of a union
_INSIDE = {"w": _WORD, "d": r"\p{Nd}", "D": r"\P{Nd}", "s": _SPACE}
_HEX = re.compile(r"u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})")
_OPEN_LOW = re.compile(r"\{,(\d*)\}")


class PatternError(ValueError):
    """A valid Python pattern that cannot be carried over to RE2 with the same meaning."""


def to_re2(pattern: str) -> str:
    """``pattern`` (Python syntax, already known to compile with ``re``) in RE2 syntax
    with the same meaning. Raises :class:`PatternError` for ``\\W``/``\\S`` inside
    ``[...]``, which RE2 cannot express."""
    out: list[str] = []
    i, in_class, n = 0, False, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\" and i + 1 < n:
            text, i = _escape(pattern, i, in_class)
            out.append(text)
        elif in_class:
            in_class = ch != "]"
            out.append(ch)
            i += 1
        elif ch == "[":
            start = i
            i += 1
            if i < n and pattern[i] == "^":
                i += 1
            if i < n and pattern[i] == "]":  # a leading ] is a literal one
                i += 1
            out.append(pattern[start:i])
            in_class = True
        elif ch == "{" and (low := _OPEN_LOW.match(pattern, i)):
            out.append("{0," + low.group(1) + "}")
            i = low.end()
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """The RE2 form of the escape at ``pattern[i]`` (a backslash) and the index after it."""
    esc = pattern[i + 1]
    table = _INSIDE if in_class else _OUTSIDE
    if esc in table:
        return table[esc], i + 2
    if in_class and esc in "WS":
        raise PatternError(
            f"\\{esc} inside [...] is not supported: write the class without it "
            f"(e.g. [^...] listing what to exclude)"
        )
    hexa = _HEX.match(pattern, i + 1)
    if hexa:
        return "\\x{" + (hexa.group(1) or hexa.group(2)) + "}", hexa.end()
    return pattern[i : i + 2], i + 2


def compile_rule_regex(pattern: str) -> Callable[[str], bool]:
    """The search predicate of a rule's ``regex`` condition (case-insensitive, linear).

    Raises:
        PatternError: ``\\W``/``\\S`` inside ``[...]``.
        ValueError: RE2 refuses the pattern (backreference, lookaround...).
    """
    return _libs.compile_linear_regex(to_re2(pattern))
