"""The demo org's people: the single source for ``leadrouter sandbox seed`` (which creates
these Users) and for ``config/routing.yaml`` (which routes to them by e-mail).

Reps are referenced by e-mail in the routing config, never by Salesforce Id: Ids differ
between orgs, e-mails are what RevOps knows.
"""

from __future__ import annotations

from dataclasses import dataclass

DEMO_DOMAIN = "acme-sales.example"
INTAKE_QUEUE = "Lead_Intake"  # Group.DeveloperName of the queue new leads land in
INTAKE_QUEUE_NAME = "Lead Intake"


@dataclass(frozen=True)
class Person:
    first: str
    last: str
    team: str  # na | emea | apac
    tz: str  # IANA time zone (User.TimeZoneSidKey)
    role: str = "ae"  # ae | sdr | manager
    active: bool = True
    languages: tuple[str, ...] = ("en",)
    manager: str | None = None  # e-mail of the manager

    @property
    def email(self) -> str:
        return f"{self.first.lower()}.{self.last.lower()}@{DEMO_DOMAIN}".replace(" ", "")

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


_NA_MGR = f"maria.gonzalez@{DEMO_DOMAIN}"
_EMEA_MGR = f"thomas.muller@{DEMO_DOMAIN}"
_APAC_MGR = f"kenji.watanabe@{DEMO_DOMAIN}"

ROSTER: tuple[Person, ...] = (
    # managers
    Person("Maria", "Gonzalez", "na", "America/New_York", "manager", languages=("en", "es")),
    Person("Thomas", "Muller", "emea", "Europe/Berlin", "manager", languages=("en", "de")),
    Person("Kenji", "Watanabe", "apac", "Asia/Tokyo", "manager", languages=("en", "ja")),
    # North America
    Person("Sarah", "Johnson", "na", "America/New_York", manager=_NA_MGR),
    Person("Michael", "Brown", "na", "America/New_York", manager=_NA_MGR),
    Person("Emily", "Davis", "na", "America/Chicago", manager=_NA_MGR),
    Person("James", "Wilson", "na", "America/Chicago", manager=_NA_MGR),
    Person("Jessica", "Martinez", "na", "America/Denver", languages=("en", "es"), manager=_NA_MGR),
    Person("David", "Anderson", "na", "America/Los_Angeles", manager=_NA_MGR),
    Person("Ashley", "Taylor", "na", "America/Los_Angeles", manager=_NA_MGR),
    Person("Daniel", "Thomas", "na", "America/Los_Angeles", "sdr", manager=_NA_MGR),
    Person("Olivia", "Moore", "na", "America/New_York", "sdr", manager=_NA_MGR),
    Person("Ryan", "Jackson", "na", "America/Toronto", languages=("en", "fr"), manager=_NA_MGR),
    Person("Megan", "White", "na", "America/Chicago", "sdr", manager=_NA_MGR),
    Person("Kevin", "Harris", "na", "America/New_York", active=False, manager=_NA_MGR),
    Person("Laura", "Clark", "na", "America/Phoenix", manager=_NA_MGR),
    # EMEA
    Person("Anna", "Schmidt", "emea", "Europe/Berlin", languages=("en", "de"), manager=_EMEA_MGR),
    Person("Ben", "Carter", "emea", "Europe/London", manager=_EMEA_MGR),
    Person("Chloe", "Dubois", "emea", "Europe/Paris", languages=("en", "fr"), manager=_EMEA_MGR),
    Person("Lukas", "Weber", "emea", "Europe/Berlin", languages=("en", "de"), manager=_EMEA_MGR),
    Person("Sofia", "Rossi", "emea", "Europe/Rome", languages=("en", "it"), manager=_EMEA_MGR),
    Person("Javier", "Garcia", "emea", "Europe/Madrid", languages=("en", "es"), manager=_EMEA_MGR),
    Person(
        "Emma", "Lindqvist", "emea", "Europe/Stockholm", languages=("en", "sv"), manager=_EMEA_MGR
    ),
    Person(
        "Pieter", "Jansen", "emea", "Europe/Amsterdam", languages=("en", "nl"), manager=_EMEA_MGR
    ),
    Person("Oliver", "Smith", "emea", "Europe/London", "sdr", manager=_EMEA_MGR),
    Person("Amira", "Haddad", "emea", "Asia/Dubai", languages=("en", "ar"), manager=_EMEA_MGR),
    Person(
        "Hannah",
        "Fischer",
        "emea",
        "Europe/Berlin",
        "sdr",
        languages=("en", "de"),
        manager=_EMEA_MGR,
    ),
    Person(
        "Marc",
        "Lefevre",
        "emea",
        "Europe/Paris",
        active=False,
        languages=("en", "fr"),
        manager=_EMEA_MGR,
    ),
    Person("Zanele", "Dlamini", "emea", "Africa/Johannesburg", manager=_EMEA_MGR),
    # APAC
    Person("Yuki", "Tanaka", "apac", "Asia/Tokyo", languages=("en", "ja"), manager=_APAC_MGR),
    Person("Wei", "Chen", "apac", "Asia/Singapore", languages=("en", "zh"), manager=_APAC_MGR),
    Person("Priya", "Sharma", "apac", "Asia/Kolkata", languages=("en", "hi"), manager=_APAC_MGR),
    Person("Jack", "Thompson", "apac", "Australia/Sydney", manager=_APAC_MGR),
    Person("Mei", "Lin", "apac", "Asia/Shanghai", languages=("en", "zh"), manager=_APAC_MGR),
    Person(
        "Arjun", "Patel", "apac", "Asia/Kolkata", "sdr", languages=("en", "hi"), manager=_APAC_MGR
    ),
    Person("Chloe", "Nguyen", "apac", "Australia/Melbourne", manager=_APAC_MGR),
    Person("Minjun", "Kim", "apac", "Asia/Seoul", languages=("en", "ko"), manager=_APAC_MGR),
    Person("Liam", "Walker", "apac", "Pacific/Auckland", manager=_APAC_MGR),
    Person(
        "Siti",
        "Rahman",
        "apac",
        "Asia/Singapore",
        active=False,
        languages=("en", "ms"),
        manager=_APAC_MGR,
    ),
    # integration user the worker runs as
    Person("Leadrouter", "Integration", "ops", "UTC", "integration"),
)
