"""Territories: named sets of countries, states, postal-code prefixes or ranges,
industries and employee/revenue bands, each mapped to a pool.

A lead is in a territory when every criterion the territory sets matches (criteria left
empty are ignored). When several territories match, the highest ``priority`` wins; the
config loader reports overlaps of equal priority so that resolution is always explicit.
"""

from __future__ import annotations

from worker.routing.facts import LeadFacts
from worker.routing.model import Band, Territory


def in_band(value: float | None, band: Band | None) -> bool:
    if band is None:
        return True
    if value is None:
        return False
    return (band.low is None or value >= band.low) and (band.high is None or value <= band.high)


def _postal_in_range(postal: str, low: str, high: str) -> bool:
    if postal[: len(low)].isdigit() and low.isdigit() and high.isdigit():
        width = max(len(low), len(high))
        head = postal[:width]
        return head.isdigit() and int(low) <= int(head) <= int(high)
    return low <= postal[: len(low)] <= high


def postal_matches(t: Territory, postal: str) -> bool:
    if not t.postal_prefixes and not t.postal_ranges:
        return True
    if not postal:
        return False
    if any(postal.startswith(p) for p in t.postal_prefixes):
        return True
    return any(_postal_in_range(postal, lo, hi) for lo, hi in t.postal_ranges)


def territory_misses(t: Territory, facts: LeadFacts) -> str | None:
    """Why the lead is not in ``t`` (first failing criterion), or None when it is."""
    if t.countries and facts.country not in t.countries:
        return f"country {facts.country or '(blank)'} not in {', '.join(sorted(t.countries))}"
    if t.states and facts.state not in t.states:
        return f"state {facts.state or '(blank)'} not in {', '.join(sorted(t.states))}"
    if (t.postal_prefixes or t.postal_ranges) and not postal_matches(t, facts.postal):
        return f"postal code {facts.postal or '(blank)'} outside territory"
    if t.industries and facts.industry not in t.industries:
        return f"industry {facts.industry or '(blank)'} not in territory"
    if t.employees is not None and not in_band(facts.employees, t.employees):
        return "employees outside band"
    if t.revenue is not None and not in_band(facts.revenue, t.revenue):
        return "revenue outside band"
    return None


def by_country(territories: tuple[Territory, ...]) -> dict[str | None, tuple[Territory, ...]]:
    """For each country code (and None for "no country"), the territories that can
    contain a lead from it, keeping the priority order: territories without a country
    criterion are candidates for every country."""
    codes = {c for t in territories for c in t.countries}
    index: dict[str | None, tuple[Territory, ...]] = {}
    for code in [*codes, None]:
        index[code] = tuple(t for t in territories if not t.countries or code in t.countries)
    return index


def resolve_territory(
    territories: tuple[Territory, ...],
    facts: LeadFacts,
    index: dict[str | None, tuple[Territory, ...]] | None = None,
) -> tuple[Territory | None, list[str]]:
    """The winning territory (``territories`` is sorted by priority, highest first) and the
    names of the other territories that also matched (lost on priority). ``index``
    (from :func:`by_country`) narrows the candidates to the lead's country."""
    if index is not None:
        territories = index.get(facts.country, index.get(None, ()))
    winner: Territory | None = None
    also: list[str] = []
    for t in territories:
        if territory_misses(t, facts) is None:
            if winner is None:
                winner = t
            else:
                also.append(t.name)
    return winner, also
