"""Normalising lead and account values before comparing them.

Countries become ISO 3166-1 alpha-2 codes ("USA", "United States", "us", "Österreich",
"Suisse", "日本" -> their code), states ISO 3166-2 codes (``US-CA``; "California", "CA" or
"Calif." with a US country; "Bayern" or "Bavaria" with DE), web sites and e-mail addresses
their registered domain (public-suffix aware, offline), company names a lower-case token
string without legal suffixes or punctuation, phones their last 10 digits.

Place names are read in every language the data sets know: ISO 3166 with the translations
pycountry bundles (Debian's iso-codes, ~160 languages for countries, ~70 for states), CLDR's
country names in every babel locale, the AP abbreviations of US states from ``us``, and a
short list of informal names and abbreviations below. Case, accents, spaces and
punctuation are ignored. When two places claim one spelling, :func:`_pick` settles it the
same way every time, the ISO code or English name first. The tables are built once, on
first use or by :func:`warm_up` (~1.2 s of CPU and ~16 MB of objects in all; see
``_country_table``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache
from itertools import chain

from worker.routing import _libs

# Informal, historical and abbreviated names no data set lists (rank ``ALIAS``), and a
# few everyday ones they miss ("Großbritannien", "EE. UU.", "한국"). "Korea" alone means
# South Korea, as it does in most CRMs.
_COUNTRY_ALIASES = {
    "US": ("USA", "America", "United States of America", "EE. UU."),
    "GB": ("UK", "Britain", "Great Britain", "England", "Scotland", "Wales",
           "Northern Ireland", "Großbritannien"),
    "NL": ("Holland", "The Netherlands"),
    "KR": ("Korea", "한국"),
    "AE": ("UAE",),
    "CZ": ("Czech Republic",),
    "TR": ("Turkey",),
    "CI": ("Ivory Coast",),
    "MM": ("Burma",),
    "MK": ("Macedonia",),
    "SZ": ("Swaziland",),
    "TL": ("East Timor",),
    "CV": ("Cape Verde",),
    "VA": ("Vatican",),
    "PS": ("Palestine",),
    "MO": ("Macau",),
}  # fmt: skip

# Traditional abbreviations of US states beyond AP style (which ``us`` brings: "Calif.",
# "Pa."), from the US GPO Style Manual and common use; Canada's provinces in English and
# French, from Natural Resources Canada's recommended abbreviations plus the old postal
# codes; and the English names of German and Austrian states that iso-codes lacks (CLDR).
# Punctuation and spaces are ignored, so "Pa." also covers "PA." and "Pa".
_STATE_ALIASES = {
    "US-PA": ("Penn.", "Penna."), "US-CA": ("Cal.",), "US-TX": ("Tex.",),
    "US-KS": ("Kans.",), "US-NE": ("Nebr.",), "US-OR": ("Oreg.",), "US-NM": ("N. Mex.",),
    "US-ND": ("N. Dak.",), "US-SD": ("S. Dak.",), "US-WI": ("Wisc.",),
    "US-DC": ("Washington, D.C.",),
    "CA-AB": ("Alta.", "Alb."), "CA-BC": ("C.-B.",), "CA-MB": ("Man.",),
    "CA-NL": ("Nfld.", "NF", "T.-N.-L."), "CA-NS": ("N.-É.",), "CA-ON": ("Ont.",),
    "CA-PE": ("P.E.I.", "Î.-P.-É."), "CA-QC": ("Que.", "P.Q.", "PQ"), "CA-SK": ("Sask.",),
    "CA-NT": ("N.W.T.", "T.N.-O."), "CA-YT": ("Y.T.", "Yn"), "CA-NU": ("Nvt.",),
    "DE-NW": ("North Rhine-Westphalia", "NRW"), "DE-NI": ("Lower Saxony",),
    "DE-RP": ("Rhineland-Palatinate",), "DE-SN": ("Saxony",), "DE-ST": ("Saxony-Anhalt",),
    "DE-MV": ("Mecklenburg-Western Pomerania",),
    "AT-3": ("Lower Austria",), "AT-4": ("Upper Austria",),
}  # fmt: skip


def _fold(text: str) -> str:
    if text.isascii():
        return text.strip().lower()
    stripped = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in stripped if not unicodedata.combining(ch)).strip().lower()


_NOT_ALNUM_ASCII = re.compile(r"[^0-9a-z]+")
# the accents NFKD splits off Latin, Greek and Cyrillic letters, and Hebrew and Arabic
# vowel points; other scripts' marks are part of their letters ("टोगो" is not "टोंगा")
_ACCENTS = re.compile("[\u0300-\u036f\u0591-\u05c7\u064b-\u065f]+")
# spaces and punctuation: ASCII, Latin-1, general (’ – “), CJK (、 ・) and fullwidth
_PUNCTUATION = re.compile(
    "[\\s!-/:-@\\[-`{-~\u00a0-\u00bf\u2000-\u206f\u3000-\u303f\u30fb\uff01-\uff0f]+"
)
_VARIED = re.compile("[][(,äöüÄÖÜ]")  # a name with more spellings than one: see _spellings
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _place_key(text: str) -> str:
    """The form place names are compared in: case, accents, spaces and punctuation
    ignored ("Côte d’Ivoire", "COTE D'IVOIRE" -> "cotedivoire"; "U.S.A." -> "usa")."""
    if text.isascii():
        return _NOT_ALNUM_ASCII.sub("", text.lower())
    bare = _ACCENTS.sub("", unicodedata.normalize("NFKD", text))
    return _PUNCTUATION.sub("", unicodedata.normalize("NFC", bare).casefold())


def _spellings(name: str) -> set[str]:
    """The keys of a data set's name, with the forms people type for it: "Korea, Republic
    of" also as "Republic of Korea", "Catalunya [Cataluña]" as either name, "Guyane
    (française)" as "Guyane", "Österreich" as "Oesterreich"."""
    if not _VARIED.search(name):
        return {_place_key(name)} - {""}
    forms = {name}
    if "(" in name:
        forms.add(re.sub(r"\s*\(.*?\)", "", name))
    if "[" in name:
        forms.update(part for part in re.split(r"\s*[\[\]]\s*", name) if part)
    if name.count(",") == 1:
        head, tail = name.split(",")
        forms.add(f"{tail} {head}")
    forms.update([form.translate(_UMLAUTS) for form in forms])
    return {key for key in map(_place_key, forms) if key}


def _votes(rows: Iterable[tuple[int, str, str]]) -> Counter[tuple[str, int, str]]:
    """How many sources give each (key, rank, code), from (rank, code, name) rows. A
    one-character spelling counts only as a code (``AT-9``): as a name (Vietnamese "Ý"
    for Italy) it would make a stray "Y" a place."""
    votes: Counter[tuple[str, int, str]] = Counter()
    for (rank, code, name), count in Counter(rows).items():  # many sources agree: key once
        for key in _spellings(name) if _VARIED.search(name) else (_place_key(name),):
            if len(key) > 1 or rank == _libs.CODE:
                votes[(key, rank, code)] += count
    return votes


def _pick(
    rows: Iterable[tuple[int, str, str]],
    scope: Callable[[str], str] = lambda code: "",
    inner: frozenset[str] = frozenset(),
) -> dict[str, dict[str, str]]:
    """{scope: {key: code}} from (rank, code, name) rows: one code per key, chosen
    deterministically. The lowest rank wins (ISO code, then ISO or English name, then
    alias, then other languages); within a rank, the code most sources give; then a
    top-level subdivision over one ``inner`` to another ("Cantabria" is the community,
    not its province); then the alphabetically first. ``scope(code)`` groups the keys (a
    subdivision's country)."""
    best: dict[tuple[str, str], tuple[int, int, bool, str]] = {}
    for (key, rank, code), count in _votes(rows).items():
        slot, candidate = (scope(code), key), (rank, -count, code in inner, code)
        if slot not in best or candidate < best[slot]:
            best[slot] = candidate
    table: dict[str, dict[str, str]] = {}
    for (where, key), (*_, code) in best.items():
        table.setdefault(where, {})[key] = code
    return table


# Two tables of each kind: codes, ISO and English names and aliases (quick to build), and
# the same with every other language (~0.7 s of CPU for countries, ~0.5 s for states),
# built the first time a value is none of the former: a command that reads a config
# written in codes and English never pays for them. Every key of the first has the same
# code in the second (other languages rank last), so the order of lookups is safe.
@lru_cache(maxsize=2)
def _country_table(every_language: bool) -> dict[str, str]:
    aliases = [(_libs.ALIAS, code, alias)
               for code, names in _COUNTRY_ALIASES.items() for alias in names]  # fmt: skip
    return _pick(chain(_libs.country_names(every_language), aliases))[""]


@lru_cache(maxsize=2)
def _subdivision_table(every_language: bool) -> dict[str, dict[str, str]]:
    """{country: {key: ISO 3166-2 code}}."""
    aliases = [(_libs.ALIAS, code, alias)
               for code, names in _STATE_ALIASES.items() for alias in names]  # fmt: skip
    rows = chain(_libs.subdivision_names(every_language), aliases)
    return _pick(rows, lambda code: code[:2], _libs.inner_subdivisions())


def _find_country(key: str) -> str | None:
    if not key:
        return None
    return _country_table(False).get(key) or _country_table(True).get(key)


def _find_subdivision(country: str, key: str) -> str | None:
    if not key:
        return None
    found = _subdivision_table(False).get(country, {}).get(key)
    return found or _subdivision_table(True).get(country, {}).get(key)


# "N/A" and "n.a." mean "not available", not Namibia (NA) or Navarre (ES-NA)
_NOT_AVAILABLE = re.compile(r"\s*n\s*[/.]\s*a\s*\.?\s*", re.IGNORECASE)


def country_code(value: object) -> str | None:
    """ISO alpha-2 code of a country's code or name in any language pycountry or CLDR
    knows ("Österreich", "Suisse", "日本", "U.K."), or None when unknown, blank or not
    text. A name two countries share is settled by :func:`_pick`."""
    return _country_code(value) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _country_code(value: str) -> str | None:
    if _NOT_AVAILABLE.fullmatch(value):
        return None
    return _find_country(_place_key(value))


_FULL_CODE = re.compile(r"\s*([A-Za-z]{2})-[A-Za-z0-9]{1,3}\s*")


def state_code(value: object, country: str | None) -> str | None:
    """ISO 3166-2 code (``US-CA``) of a state's name, code or abbreviation within
    ``country`` ("California", "CA", "Calif." with US; "Bavaria", "Bayern" with DE); a value
    that already is a full code (``US-CA``) is accepted without a country. "CA" is
    California only for a US lead: a state is always read relative to its country."""
    return _state_code(value, country) if isinstance(value, str) else None


@lru_cache(maxsize=4096)
def _state_code(value: str, country: str | None) -> str | None:
    if _NOT_AVAILABLE.fullmatch(value):
        return None
    full = _FULL_CODE.fullmatch(value)
    if full:
        hit = _find_subdivision(full.group(1).upper(), _place_key(value))
        if hit:
            return hit
    if country is None:
        return None
    return _find_subdivision(country, _place_key(value))


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
    """Build the lazily-built lookup tables now (place names in every language: ~1.2 s of
    CPU) so that no routed lead waits for them: even one odd state ("Illinois" on a
    Canadian lead) needs the every-language table of states."""
    _country_table(False)
    _country_table(True)
    _subdivision_table(False)
    _subdivision_table(True)
