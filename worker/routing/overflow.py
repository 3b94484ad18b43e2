"""Overflow: the order in which a pool's fallback targets are tried, and why a pool had
nobody, in plain words.

The order is breadth-first, so a pool's list is tried in the order written:

1. the pool itself;
2. each target of its ``fallback`` list in order: a pool is picked in (its own list is
   NOT followed yet), a rep gets the lead if eligible, ``hold`` stops here and holds;
3. when the list is exhausted, the lists of the pools it named, in the order they were
   named, and so on (a queue of pools);
4. every pool and rep is tried at most once per lead (later mentions are skipped), and
   the end of the queue holds too.

So ``enterprise: [na-east, emea, apac, sdr-24x7]`` tries all four before anything in
``na-east``'s own list. The engine, ``config check`` and the docs share this one order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

from worker.routing.model import Pool, Target, TraceStep


class Hop(NamedTuple):
    """One fallback target to try: ``target`` is entry ``position`` of ``source``'s list."""

    source: str
    position: int
    target: Target


def overflow_order(
    pools: Mapping[str, Pool], start: str, *, past_hold: bool = False
) -> Iterator[Hop]:
    """The fallback targets tried after ``start`` had nobody, in order (see the module).

    A ``hold`` hop is the last one, unless ``past_hold``: then the walk goes on as if it
    were not there (``config check`` uses that to name what a hold cuts off). Pools not
    in ``pools`` are skipped (the config check reports them).
    """
    queue, pools_seen, reps_seen = deque([start]), {start}, set[str]()
    while queue:
        source = queue.popleft()
        for i, t in enumerate(pools[source].fallback):
            if t.kind == "pool":
                if t.name is None or t.name in pools_seen or t.name not in pools:
                    continue
                pools_seen.add(t.name)
                queue.append(t.name)
            elif t.kind == "rep":
                if t.name is None or t.name in reps_seen:
                    continue
                reps_seen.add(t.name)
            yield Hop(source, i, t)
            if t.kind == "hold" and not past_hold:
                return


# A skip reason (as made by availability.rep_clock, caps and pools) -> its kind, by the
# words it starts with; checked in this order.
_KIND_OF = (
    ("already had this lead", "had"),
    ("turned off", "off"),
    ("out of office", "ooo"),
    ("public holiday", "holiday"),
    ("outside working hours", "hours"),
    ("inactive in Salesforce", "inactive"),
    ("no Salesforce user", "no_user"),
    ("lacks tags", "tags"),
    ("daily cap", "capped"),
    ("hourly cap", "capped"),
    ("pool daily cap", "capped"),
    ("pool hourly cap", "capped"),
    ("open-lead cap", "capped"),
)
# kind -> (everyone had it, "N ..." in a mix)
_WORDS = {
    "capped": ("everyone capped", "capped"),
    "hours": ("nobody within working hours", "outside working hours"),
    "ooo": ("everyone out of office", "out of office"),
    "holiday": ("everyone on a public holiday", "on a public holiday"),
    "off": ("everyone turned off", "turned off"),
    "inactive": ("everyone inactive in Salesforce", "inactive in Salesforce"),
    "no_user": ("nobody with a Salesforce user", "without a Salesforce user"),
    "had": ("everyone already had this lead", "already had this lead"),
    "tags": ("nobody with tags {tags}", "lacking tags {tags}"),
    "other": ("nobody available", "unavailable"),
}


def skip_kind(why: str) -> str:
    """The kind of a rep's skip reason (``capped``, ``hours``, ...; ``other`` if unknown)."""
    for prefix, kind in _KIND_OF:
        if why.startswith(prefix):
            return kind
    return "other"


def nobody_why(steps: Sequence[TraceStep], tags: frozenset[str]) -> str:
    """Why a pool had nobody, from the candidate steps its pick traced: one kind for
    everyone ("everyone capped"), else counts ("2 capped, 3 outside working hours")."""
    counts: dict[str, int] = {}
    for s in steps:
        if s.kind == "candidate":
            kind = skip_kind(str(s.data.get("skip", "")))
            counts[kind] = counts.get(kind, 0) + 1
    if not counts:
        return "no members"
    shown = ", ".join(sorted(tags))
    if len(counts) == 1:
        return _WORDS[next(iter(counts))][0].format(tags=shown)
    ranked = sorted(counts.items(), key=lambda kv: -kv[1])  # stable: ties in trace order
    return ", ".join(f"{n} {_WORDS[k][1].format(tags=shown)}" for k, n in ranked)
