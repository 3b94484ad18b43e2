"""Skills: tags a lead gets from its fields, matched against reps' tags."""

from __future__ import annotations

from worker.routing.conditions import CompiledCondition, evaluate
from worker.routing.facts import LeadFacts
from worker.routing.model import TagRule


def lead_tags(
    rules: tuple[tuple[TagRule, tuple[CompiledCondition, ...]], ...], facts: LeadFacts
) -> frozenset[str]:
    """Tags from compiled tag rules: a fixed tag when the conditions match, or
    ``prefix + value`` of a field (lower-cased, spaces to dashes)."""
    tags: set[str] = set()
    for rule, conds in rules:
        if rule.field is not None:
            value = facts.lead.fields.get(rule.field)
            if isinstance(value, str) and value.strip():
                for part in value.split(";"):  # multi-select picklists
                    if part.strip():
                        tags.add(rule.prefix + part.strip().lower().replace(" ", "-"))
            continue
        if rule.tag and evaluate(conds, rule.match, facts) is None:
            tags.add(rule.tag)
    return frozenset(tags)
