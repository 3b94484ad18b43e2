"""Salesforce record Ids: key prefixes, the 18-character checksum, and normalisation.

An Id is 15 case-sensitive base-62 characters, or those 15 plus a 3-letter suffix that
encodes which of the 15 are upper case (so the 18-character form survives
case-insensitive handling). The API returns 18 characters and accepts both.
"""

from __future__ import annotations

import functools
import re

KEY_PREFIXES: dict[str, str] = {
    "Account": "001",
    "Contact": "003",
    "User": "005",
    "Opportunity": "006",
    "Organization": "00D",
    "Group": "00G",
    "Lead": "00Q",
    "Task": "00T",
    "QueueSobject": "03g",
    "AssignmentRule": "01Q",
}
OBJECT_BY_PREFIX = {prefix: name for name, prefix in KEY_PREFIXES.items()}

_LUT = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SHAPE = re.compile(r"^[0-9A-Za-z]{15}([0-9A-Za-z]{3})?$")
# "Hs" stands in for the pod/instance characters of a real Id; it holds upper-case
# letters so the checksum suffix is not trivially "AAA".
_POD = "Hs"


class MalformedId(ValueError):
    """The text is not a well-formed 15/18-character Salesforce Id."""


def checksum(id15: str) -> str:
    """The 3-character suffix of an 18-character Id."""
    chunks = (id15[k * 5 : k * 5 + 5] for k in range(3))
    return "".join(_LUT[sum(1 << j for j, c in enumerate(ch) if "A" <= c <= "Z")] for ch in chunks)


def to18(id15: str) -> str:
    return id15 + checksum(id15)


def normalise(value: str) -> str:
    """Return the canonical 18-character Id, or raise :class:`MalformedId`.

    An 18-character Id is case-insensitive: the case of the first 15 characters is
    restored from the suffix, and a suffix that cannot be decoded is rejected.
    """
    if not isinstance(value, str):
        raise MalformedId(value)
    return _normalised(value)


@functools.lru_cache(maxsize=1 << 16)
def _normalised(value: str) -> str:
    """:func:`normalise` of a string, remembered: every request normalises the same few
    thousand Ids several times (a Composite subrequest four times)."""
    if not _SHAPE.match(value):
        raise MalformedId(value)
    if len(value) == 15:
        return to18(value)
    suffix = value[15:].upper()
    chars = list(value[:15])
    for k, code in enumerate(suffix):
        bits = _LUT.find(code)
        if bits < 0:
            raise MalformedId(value)
        for j in range(5):
            pos = k * 5 + j
            upper = bool(bits & (1 << j))
            if upper != chars[pos].isupper() and chars[pos].isalpha():
                chars[pos] = chars[pos].upper() if upper else chars[pos].lower()
            elif upper and not chars[pos].isalpha():
                raise MalformedId(value)
    fixed = "".join(chars)
    return to18(fixed)


def make_id(sobject: str, sequence: int) -> str:
    """The 18-character Id of the ``sequence``-th record of ``sobject`` in this org."""
    body = ""
    n = sequence
    for _ in range(10):
        n, r = divmod(n, 62)
        body = _BASE62[r] + body
    if n:
        raise OverflowError("Id sequence exhausted")
    return to18(KEY_PREFIXES[sobject] + _POD + body)


def object_of(value: str) -> str | None:
    """The sObject an Id belongs to, from its key prefix (None if unknown)."""
    return OBJECT_BY_PREFIX.get(value[:3])


def is_user_id(value: str) -> bool:
    """Whether ``value`` is a User's Id (an owner that is a person, not a queue)."""
    return value.startswith(KEY_PREFIXES["User"])
