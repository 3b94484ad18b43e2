"""The account mirror stores keys computed by the routing core (registered domain, name
key, fuzzy blocks). When what those functions return changes, the stored keys are stale
and the mirror must be rebuilt: ``accounts_repo.KEYS_VERSION`` says so. This test pins
their answers per version, so a change to them cannot go unnoticed."""

from __future__ import annotations

from worker.routing.matching import account_keys, blocking_keys
from worker.routing.model import Account
from worker.store import accounts_repo

SAMPLES = [
    ("ACME, Inc.", "https://www.Shop.Acme.co.uk/path?x"),
    ("Müller & Söhne GmbH", "mueller.de"),
    ("The Globex Corporation Holdings", "http://gmail.com"),
    ("  ", None),
    ("Northern Peaks Ltd.", "north-peaks.io:8080"),
    ("ÄCME Co", "user@acme.com"),
]
ANSWERS = {
    1: [
        ("acme.co.uk", "acme", ["acme"]),
        ("mueller.de", "muller sohne", ["muller", "sohne", "~mull", "~sohn"]),
        ("", "the globex", ["globex", "the", "~glob"]),
        ("", "", []),
        ("north-peaks.io", "northern peaks", ["northern", "peaks", "~nort", "~peak"]),
        ("acme.com", "acme", ["acme"]),
    ],
}


def test_the_stored_keys_are_what_this_keys_version_pinned() -> None:
    got = []
    for name, website in SAMPLES:
        domain, key = account_keys(Account("001A", name, website=website))
        got.append((domain, key, sorted(blocking_keys(key))))
    assert got == ANSWERS.get(accounts_repo.KEYS_VERSION), (
        "the account mirror's keys changed: bump accounts_repo.KEYS_VERSION (the worker then "
        "re-reads every account) and pin the new answers under the new version"
    )
