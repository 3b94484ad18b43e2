"""Hypothesis strategies for hostile Salesforce-shaped input.

Values are what the REST API *could* hand us for a Lead (or what a careless integration
could put in a text field): any unicode (astral planes, RTL marks, control characters
but no NUL, no lone surrogates: JSON cannot carry those), 10-100 kB strings, nulls,
numbers as strings, booleans where text is expected, nested ``attributes``-like objects,
dates in odd formats, injection-looking text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from worker.jobs.fields import lead_fields
from worker.routing_config import load_config

INJECTIONS = (
    "x' OR Name LIKE '%",
    "\\' OR Id != null OR Name = \\'",
    "' OR '1'='1",
    "') OR (Id != null",
    "%' AND Name LIKE '_",
    "\\",
    "\\\\'",
    "{}",
    "{0}",
    "{!r}",
    "%s",
    "'; DELETE FROM Lead; --",
    "\r\nX-Injected: 1",
    "${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    "Robert'); DROP TABLE Students;--",
    "\u202eevil\u202c",
    "ＡＣＭＥ　Ｉｎｃ．",
)
MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad"
ODD_DATES = (
    "",
    "2026-11-23",
    "2026-11-23T14:00:00Z",
    "2026-11-23T14:00:00.000+0000",
    "2026-11-23T14:00:00.000-1400",
    "2026-11-23T14:00:00+99:99",
    "23/11/2026",
    "11/23/2026 2:00 PM",
    "2026-02-30",
    "0000-00-00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999+1400",
    "2026-W48-1",
    "20261123",
    "2026-11-23T14:00:00.000+00",
    "T",
    "Z",
    "+0000",
)

control = st.characters(categories=["Cc"], exclude_characters="\x00")
astral = st.characters(min_codepoint=0x10000)
marks = st.sampled_from(MARKS)

short_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), control, astral, marks),
    min_size=0,
    max_size=30,
)

# the fields the worker selects for the demo config
LEAD_FIELDS = lead_fields(
    load_config(Path(__file__).resolve().parents[3] / "config" / "routing.yaml")
)


@st.composite
def huge_text(draw: st.DrawFn) -> str:
    """A 10-100 kB string (a repeated random chunk: random 100 kB text is slow to draw)."""
    chunk = draw(st.text(st.characters(codec="utf-8"), min_size=1, max_size=8))
    size = draw(st.integers(10_000, 100_000))
    return (chunk * (size // len(chunk) + 1))[:size]


text = st.one_of(
    short_text,
    st.sampled_from(INJECTIONS),
    st.builds(lambda a, b: a + b, st.sampled_from(INJECTIONS), short_text),
    huge_text(),
)

numbers_as_text = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e309", "-0", "NaN", "Infinity", "1,000", " 42 ", "0x1F", "1_000"]),
)
wrong_types = st.one_of(
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    numbers_as_text,
    st.sampled_from(["true", "false", "TRUE", "null", "None", "[]", "{}"]),
    st.just({"type": "Lead", "url": "/services/data/v59.0/sobjects/Lead/00Q"}),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.lists(st.text(max_size=5), max_size=3),
)
dates = st.one_of(st.sampled_from(ODD_DATES), st.datetimes().map(lambda d: d.isoformat()))

any_value: st.SearchStrategy[Any] = st.one_of(st.none(), text, wrong_types, dates)

LEAD_ID = st.from_regex(r"00Q[0-9A-Za-z]{15}", fullmatch=True)
EXTRA_KEYS = st.one_of(
    st.sampled_from(["Owner", "Phone", "Language__c", "X__c", "attributes", "Name"]),
    st.text(min_size=1, max_size=12),
)


@st.composite
def lead_records(draw: st.DrawFn, lead_id: str | None = None) -> dict[str, Any]:
    """A Lead as the REST API returns it, with hostile values, missing and extra keys.

    ``Id`` is always a well-formed Lead Id (Salesforce always returns one for
    ``SELECT Id``); every other key may be missing, null or anything.
    """
    record: dict[str, Any] = {}
    if draw(st.booleans()):
        record["attributes"] = draw(
            st.one_of(
                st.just({"type": "Lead", "url": "/services/data/v59.0/sobjects/Lead/x"}),
                any_value,
            )
        )
    for name in LEAD_FIELDS:
        if name == "Id" or not draw(st.integers(0, 3)):  # about one in four missing
            continue
        record[name] = draw(any_value)
    for key in draw(st.lists(EXTRA_KEYS, max_size=3)):
        record[key] = draw(any_value)
    record["Id"] = lead_id if lead_id is not None else draw(LEAD_ID)
    return record
