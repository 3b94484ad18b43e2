"""Normalising lead and account values before comparing them.

Countries become ISO 3166-1 alpha-2 codes ("USA", "United States", "us" -> ``US``),
states ISO 3166-2 codes (``US-CA``; "California" or "CA" with a US country), web sites and
e-mail addresses their registered domain (public-suffix aware, offline), company names a
lower-case token string without legal suffixes or punctuation, phones their last 10 digits.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from worker.routing import _libs

_EXTRA_COUNTRY_ALIASES = {
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u.k.": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "great britain": "GB",
    "deutschland": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "south korea": "KR",
    "korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
    "uae": "AE",
    "czechia": "CZ",
    "türkiye": "TR",
    "turkey": "TR",
}


def _fold(text: str) -> str:
    if text.isascii():
        return text.strip().lower()
    stripped = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in stripped if not unicodedata.combining(ch)).strip().lower()


@lru_cache(maxsize=1)
def _country_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for code, names in _libs.country_rows():
        for name in names:
            table[_fold(name)] = code
    table.update({_fold(k): v for k, v in _EXTRA_COUNTRY_ALIASES.items()})
    return table


@lru_cache(maxsize=1)
def _subdivision_table() -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for country, code, name in _libs.subdivision_rows():
        table[(country, _fold(code))] = code
        table[(country, _fold(code.split("-", 1)[1]))] = code
        table[(country, _fold(name))] = code
    return table


def country_code(value: object) -> str | None:
    """ISO alpha-2 code for a country name/code, or None when unknown, blank or not text."""
    return _country_code(value) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    if not value.strip():
        return None
    return _country_table().get(_fold(value))


def state_code(value: object, country: str | None) -> str | None:
    """ISO 3166-2 code (``US-CA``) of a state name/code within ``country``; a value that
    already is a full code (``US-CA``) is accepted without a country."""
    return _state_code(value, country) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _state_code(value: str, country: str | None) -> str | None:
    if not value.strip():
        return None
    folded = _fold(value)
    if "-" in folded:
        prefix = folded.split("-", 1)[0].upper()
        hit = _subdivision_table().get((prefix, folded))
        if hit:
            return hit
    if country is None:
        return None
    return _subdivision_table().get((country, folded))


def email_address(value: object) -> str:
    """An e-mail field as it is matched: trimmed and lower-cased ("" when not text)."""
    return value.strip().lower() if isinstance(value, str) else ""


def email_domain(email: object) -> str:
    """Registered domain of an e-mail address, "" when malformed."""
    if not isinstance(email, str) or "@" not in email:
        return ""
    host = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return registered_domain(host)


# bounded small: nearly every lead brings a new host, and at 65,536 entries this cache
# alone held ~20 MB after 100,000 leads (the hit that matters is a burst from one domain)
@lru_cache(maxsize=8192)
def registered_domain(host: str) -> str:
    return _libs.registered_domain(host) if host else ""


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")


def website_domain(url: object) -> str:
    """``https://www.Shop.Acme.co.uk/path?x`` -> ``acme.co.uk``; "" when blank/malformed."""
    if not isinstance(url, str) or not url.strip():
        return ""
    text = _SCHEME.sub("", url.strip().lower())
    host = re.split(r"[/?#:]", text, maxsplit=1)[0]
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    return registered_domain(host.rstrip("."))


def is_public_mail_domain(domain: str) -> bool:
    """True for free-mail (gmail.com ...) and disposable domains: never account evidence."""
    return domain in _libs.FREE_MAIL_DOMAINS or domain in _libs.DISPOSABLE_DOMAINS


_LEGAL_SUFFIXES = frozenset(
    """inc incorporated corp corporation co company llc llp lp ltd limited plc gmbh ag kg
    ohg ug mbh sa sas sarl srl spa bv nv oy ab as asa aps pty pte kk ltda sl se
    holding holdings group""".split()
)
_NON_WORD = re.compile(r"[^\w]+")


def company_key(name: object) -> str:
    """Lower-case tokens without punctuation and legal suffixes: "ACME, Inc." -> "acme"."""
    return _company_key(name[:500]) if isinstance(name, str) else ""


@lru_cache(maxsize=8192)  # bounded small, like registered_domain above
def _company_key(name: str) -> str:
    tokens = _NON_WORD.sub(" ", _fold(name).replace("&", " ")).split()
    kept = [t for t in tokens if t not in _LEGAL_SUFFIXES]
    return " ".join(kept or tokens)


_NON_DIGIT = re.compile(r"\D+")


def phone_key(phone: object) -> str:
    """Last 10 digits of a phone number ("" when fewer than 7 digits)."""
    if not isinstance(phone, str | int):
        return ""
    digits = _NON_DIGIT.sub("", str(phone))
    return digits[-10:] if len(digits) >= 7 else ""


def warm_up() -> None:
    """Build the lazily-built lookup tables now (country and subdivision names: ~1 s on
    first use) so that the first routed lead is not slow."""
    _country_table()
    _subdivision_table()
