"""The lead fields a routing config reads, and what reads each: the single answer to
"which fields does a lead need?".

The worker selects exactly these (plus its bookkeeping fields) from Salesforce, the
journal keeps their values with each decision so What-if replays what the worker saw,
and ``simulate`` warns when its input lacks one of them. A field that the config does not
read is never needed; a field it reads and the worker did not select would silently
change decisions (a corroborating phone number that is never there).
"""

from __future__ import annotations

from collections.abc import Iterable

from worker.routing.model import Condition, RoutingConfig

# pseudo fields computed from a lead field
_PSEUDO = {"$email_domain": "Email", "$free_mail": "Email"}
# what account matching reads, per evidence and per corroborating field
_MATCHING = {
    "by_known_email": ("Email",),
    "by_email_domain": ("Email",),
    "by_website": ("Website",),
    "by_name": ("Company",),
}
_CORROBORATION = {"domain": ("Email", "Website"), "country": ("Country",), "phone": ("Phone",)}


def _condition_fields(conditions: Iterable[Condition]) -> Iterable[str]:
    for c in conditions:
        yield _PSEUDO.get(c.field, c.field)
        if c.field in ("State", "StateCode"):
            yield "Country"  # a state name is resolved within the lead's country


def field_uses(config: RoutingConfig) -> dict[str, tuple[str, ...]]:
    """Lead API field name -> what in the config reads it (``rule 'Enterprise'``,
    ``territory dach``, ``account matching``...), in a stable order."""
    uses: dict[str, list[str]] = {}

    def add(fields: Iterable[str], who: str) -> None:
        for f in fields:
            seen = uses.setdefault(f, [])
            if who not in seen:
                seen.append(who)

    m = config.account_matching
    if m.enabled:
        for flag, fields in _MATCHING.items():
            if getattr(m, flag):
                add(fields, "account matching")
        if m.by_name:
            for name in sorted(m.corroborate_with):
                add(_CORROBORATION.get(name, ()), f"account matching ({name} corroboration)")
    for t in config.territories:
        add(_territory_fields(t), f"territory {t.name}")
    for tag in config.lead_tags:
        who = f"lead tag {tag.tag or tag.prefix or tag.field}"
        add(_condition_fields(tag.conditions), who)
        if tag.field:
            add((tag.field,), who)
    for rule in config.rules:
        add(_condition_fields(rule.conditions), f"rule '{rule.name}'")
    return {f: tuple(who) for f, who in uses.items()}


def _territory_fields(t: object) -> Iterable[str]:
    checks = (
        ("countries", "Country"),
        ("states", "State"),
        ("postal_prefixes", "PostalCode"),
        ("postal_ranges", "PostalCode"),
        ("industries", "Industry"),
        ("employees", "NumberOfEmployees"),
        ("revenue", "AnnualRevenue"),
    )
    yield "Country"  # territories are looked up by the lead's country first
    for attr, field in checks:
        if getattr(t, attr):
            yield field


def routing_fields(config: RoutingConfig) -> tuple[str, ...]:
    """The lead fields the config reads, sorted."""
    return tuple(sorted(field_uses(config)))
