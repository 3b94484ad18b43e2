"""Realistic fake data for the demo org: accounts, contacts and a messy lead mix.

The mix is what routing has to cope with: free-mail addresses, addresses at the domains
of existing accounts, countries written many ways, missing fields, duplicates and
non-Latin names. Everything is drawn from one seeded RNG, so a seed reproduces the data.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from faker import Faker

from devkit.sandbox.schema import INDUSTRIES, LEAD_SOURCES

FREE_MAIL = (
    "gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "aol.com", "gmx.de",
    "web.de", "yahoo.co.jp", "qq.com", "163.com", "proton.me", "yahoo.fr", "libero.it", "hotmail.co.uk",
)  # fmt: skip


@dataclass(frozen=True)
class Region:
    locale: str
    team: str
    weight: int
    countries: tuple[str, ...]  # the ways people write this country (first = canonical)
    tld: str = "com"


REGIONS = (
    Region("en_US", "na", 35, ("United States", "USA", "US", "U.S.", "united states of america", "United States of America", "America")),
    Region("en_US", "na", 4, ("Canada", "CA", "canada"), "ca"),
    Region("en_GB", "emea", 8, ("United Kingdom", "UK", "GB", "Great Britain", "England"), "co.uk"),
    Region("de_DE", "emea", 8, ("Germany", "Deutschland", "DE", "germany"), "de"),
    Region("fr_FR", "emea", 5, ("France", "FR", "france", "République française"), "fr"),
    Region("es_ES", "emea", 3, ("Spain", "España", "ES", "Espana"), "es"),
    Region("it_IT", "emea", 3, ("Italy", "Italia", "IT"), "it"),
    Region("nl_NL", "emea", 3, ("Netherlands", "The Netherlands", "Holland", "NL", "Nederland"), "nl"),
    Region("sv_SE", "emea", 2, ("Sweden", "Sverige", "SE"), "se"),
    Region("ja_JP", "apac", 6, ("Japan", "日本", "JP", "japan"), "jp"),
    Region("zh_CN", "apac", 3, ("China", "中国", "CN", "PRC"), "cn"),
    Region("hi_IN", "apac", 5, ("India", "IN", "Bharat"), "in"),
    Region("en_AU", "apac", 5, ("Australia", "AU", "Aus"), "com.au"),
    Region("ko_KR", "apac", 2, ("South Korea", "Korea", "KR", "대한민국"), "kr"),
    Region("pt_BR", "na", 3, ("Brazil", "Brasil", "BR"), "com.br"),
)  # fmt: skip
LOCALES = sorted({r.locale for r in REGIONS})


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "", ascii_text.lower())[:24]


class DataFactory:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fake = Faker(LOCALES)
        self.fake.seed_instance(seed)
        self._domains: set[str] = set()
        self._recent: list[dict[str, Any]] = []

    def region(self) -> Region:
        return self.rng.choices(REGIONS, weights=[r.weight for r in REGIONS])[0]

    def _unique_domain(self, base: str, tld: str) -> str:
        stem = slug(base) or f"company{self.rng.randrange(10**6)}"
        domain = f"{stem}.{tld}"
        n = 2
        while domain in self._domains:
            domain = f"{stem}{n}.{tld}"
            n += 1
        self._domains.add(domain)
        return domain

    # --- accounts and contacts ---------------------------------------------------------
    def account(self) -> tuple[Region, dict[str, Any], str]:
        region = self.region()
        fk = self.fake[region.locale]
        name = fk.company()
        base = name if slug(name) else self.fake["en_US"].company()
        domain = self._unique_domain(base, region.tld)
        website = self.rng.choice(
            [
                f"www.{domain}",
                f"https://www.{domain}",
                f"http://{domain}",
                domain,
                f"https://{domain}/",
            ]
        )
        values = {
            "Name": name,
            "Website": website,
            "Industry": self.rng.choice(INDUSTRIES),
            "NumberOfEmployees": self.rng.choice(
                [
                    None,
                    self.rng.randint(5, 200),
                    self.rng.randint(200, 5000),
                    self.rng.randint(5000, 100000),
                ]
            ),
            "AnnualRevenue": float(self.rng.randint(1, 5000)) * 100000
            if self.rng.random() < 0.7
            else None,
            "BillingCountry": self.rng.choice(region.countries),
            "BillingCity": fk.city(),
            "Phone": fk.phone_number()[:40],
            "Type": self.rng.choice(
                ["Prospect", "Customer - Direct", "Customer - Channel", "Partner"]
            ),
        }
        return region, values, domain

    def contact(self, region: Region, domain: str) -> dict[str, Any]:
        fk = self.fake[region.locale]
        first, last = fk.first_name(), fk.last_name()
        local = slug(first) or "contact"
        return {
            "FirstName": first,
            "LastName": last,
            "Email": f"{local}.{slug(last) or self.rng.randrange(999)}@{domain}",
            "Title": self.fake["en_US"].job()[:128],
            "MailingCountry": self.rng.choice(region.countries),
        }

    # --- leads -------------------------------------------------------------------------
    def lead(self, accounts: list[tuple[str, str]]) -> dict[str, Any]:
        """One lead. ``accounts`` are (name, domain) pairs of existing accounts."""
        rng = self.rng
        if self._recent and rng.random() < 0.05:
            return self._duplicate(rng.choice(self._recent))
        region = self.region()
        fk = self.fake[region.locale]
        first, last = fk.first_name(), fk.last_name()
        company, domain = self._company(fk, region, accounts)
        email = self._email(first, last, domain)
        values: dict[str, Any] = {
            "FirstName": first if rng.random() > 0.03 else None,
            "LastName": last,
            "Company": company,
            "Email": email,
            "Title": self.fake["en_US"].job()[:128] if rng.random() < 0.8 else None,
            "Phone": fk.phone_number()[:40] if rng.random() < 0.7 else None,
            "Country": rng.choice(region.countries) if rng.random() < 0.9 else None,
            "City": fk.city()[:40] if rng.random() < 0.6 else None,
            "Website": (f"www.{domain}" if domain and rng.random() < 0.4 else None),
            "Industry": rng.choice(INDUSTRIES) if rng.random() < 0.7 else None,
            "NumberOfEmployees": rng.choice([5, 20, 50, 120, 400, 1500, 8000, 25000])
            if rng.random() < 0.6
            else None,
            "AnnualRevenue": float(rng.randint(1, 2000) * 50000) if rng.random() < 0.4 else None,
            "LeadSource": rng.choices(LEAD_SOURCES, weights=[40, 10, 10, 5, 10, 15, 10])[0],
            "Rating": rng.choice(["Hot", "Warm", "Cold", None]),
        }
        if (
            region.locale == "en_US"
            and region.countries[0] == "United States"
            and rng.random() < 0.8
        ):
            values["State"] = rng.choice([fk.state_abbr(), fk.state()])
            values["PostalCode"] = fk.postcode()
        self._recent = (self._recent + [values])[-200:]
        return values

    def _company(
        self, fk: Faker, region: Region, accounts: list[tuple[str, str]]
    ) -> tuple[str, str | None]:
        roll = self.rng.random()
        if accounts and roll < 0.35:
            name, domain = self.rng.choice(accounts)
            variant = self.rng.choice(
                [
                    name,
                    name.upper(),
                    name.lower(),
                    re.sub(r",? (Inc\.?|LLC|Ltd\.?|GmbH|AG|Group)$", "", name),
                ]
            )
            return variant, domain
        if roll < 0.65:
            # Free-mail lead; web-to-lead fills a missing company with "[not provided]".
            name = fk.company() if self.rng.random() < 0.6 else "[not provided]"
            return name, None
        name = fk.company()
        return name, self._unique_domain(name, region.tld)

    def _email(self, first: str, last: str, domain: str | None) -> str | None:
        rng = self.rng
        if rng.random() < 0.05:
            return None
        local = ".".join(p for p in (slug(first), slug(last)) if p) or f"user{rng.randrange(10**5)}"
        if domain is None:
            return f"{local}{rng.choice(['', str(rng.randrange(100))])}@{rng.choice(FREE_MAIL)}"
        email = f"{local}@{domain}"
        return email.upper() if rng.random() < 0.03 else email

    def _duplicate(self, original: dict[str, Any]) -> dict[str, Any]:
        copy = dict(original)
        if self.rng.random() < 0.5 and copy.get("Company"):
            copy["Company"] = str(copy["Company"]).upper()
        return copy
