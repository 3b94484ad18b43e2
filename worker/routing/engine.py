"""The router behind ``route_lead``/``route_batch`` (:mod:`worker.routing.api`): account
matching, then the ordered rules (with territories and tags), then the chosen pool, its
overflow chain, or hold.

Pure: the clock (``now``), the org facts (:class:`RoutingContext`) and the state are
passed in; the new state is returned. Same inputs, same decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from worker.routing.compiled import compiled, context_cache
from worker.routing.conditions import scan_rules
from worker.routing.facts import LeadFacts, lead_facts
from worker.routing.matching import AccountMatch, match_account
from worker.routing.model import Decision, Lead, RoutingConfig, RoutingContext, Rule, TraceStep
from worker.routing.overflow import Hop, nobody_why, overflow_order
from worker.routing.pools import METHOD_WORDS, Pick, PoolRouter
from worker.routing.state import RoutingState
from worker.routing.steps import hold_decision, trace_rules, trace_territory
from worker.routing.tags import lead_tags
from worker.routing.territories import resolve_territory
from worker.routing.working import WorkingState

_VIA = {
    "known_email": "an existing record with the same e-mail",
    "email_domain": "e-mail domain",
    "website": "web-site domain",
    "name": "company name",
}


_NO_MATCH = TraceStep("match", "No matching account", {})  # immutable: shared by decisions


class Router:
    """Routes leads one after another against a working copy of the state.

    One router per batch (one ``now``): eligibility that cannot change within the batch
    is evaluated once, and assignments count towards the caps and open load of the next
    leads. ``new_state()`` returns the resulting immutable state.
    """

    def __init__(
        self, config: RoutingConfig, context: RoutingContext, state: RoutingState, now: datetime
    ) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.config, self.context = config, context
        self.compiled = compiled(config)
        self.cache = context_cache(context)
        self.work = WorkingState(state)
        self.pools = PoolRouter(config, context, self.work, now)
        self.hops: dict[str, tuple[Hop, ...]] = {}  # pool -> its overflow order
        # (pool, lead tags, the ids of the skip steps) -> why nobody, its trace step, and
        # the steps themselves (kept alive, so their ids stay theirs). The steps are the
        # pool router's per-batch ones: with caps filling or everyone off-hours, each
        # lead of a batch overflows past the same skips.
        self.nobody: dict[tuple[str, frozenset[str], tuple[int, ...]], _Nobody] = {}

    def new_state(self) -> RoutingState:
        return self.work.freeze({k: c.day_key for k, c in self.pools.clocks.items()})

    def route(
        self, lead: Lead, exclude: frozenset[str] = frozenset(), only_pool: str | None = None
    ) -> Decision:
        """Decide one lead.

        Args:
            exclude: rep keys that must not get it (SLA: everyone who already had it).
            only_pool: skip matching and rules; pick in this pool (SLA re-assignment).
        """
        trace: list[TraceStep] = []
        facts = lead_facts(lead)
        tags = lead_tags(self.compiled.tag_rules, facts) if self.compiled.tag_rules else frozenset()
        if tags:
            trace.append(
                TraceStep("tags", f"Lead tags: {', '.join(sorted(tags))}", {"tags": sorted(tags)})
            )
        if only_pool is not None:
            if only_pool not in self.config.pools:  # the config changed since assignment
                reason = f"Pool {only_pool} is no longer in the routing config: held"
                return hold_decision(lead, "SLA re-assignment", reason, trace)
            return self._route_pool(only_pool, lead, tags, trace, "SLA re-assignment", exclude)
        match = self._match(facts, trace)
        if match is not None and self.config.account_matching.route_to_owner:
            decided = self._to_owner(lead, match, None, exclude, trace)
            if decided is not None:
                return decided
        return self._apply_rules(lead, facts, tags, match, exclude, trace)

    # -- account matching ------------------------------------------------------------
    def _match(self, facts: LeadFacts, trace: list[TraceStep]) -> AccountMatch | None:
        if not self.config.account_matching.enabled:
            return None
        m = match_account(
            facts, self.context.known_emails, self.cache.index, self.config.account_matching
        )
        if facts.email_is_public:
            trace.append(
                TraceStep(
                    "match",
                    f"E-mail domain {facts.email_domain} is free/disposable mail: "
                    "not used for account matching",
                    {"domain": facts.email_domain},
                )
            )
        if m is None:
            trace.append(_NO_MATCH)
            self._note_accounts(trace)
            return None
        data: dict[str, object] = {
            "via": m.via, "score": round(m.score, 4), "candidates": list(m.candidates)
        }  # fmt: skip
        if m.owner_id is None:
            trace.append(
                TraceStep(
                    "match", "No account accepted: name candidates lacked corroboration", data
                )
            )
            self._note_accounts(trace)
            return None
        name = m.account.name if m.account else "existing record"
        trace.append(
            TraceStep("match", f"Matched {name} by {_VIA[m.via]} (score {m.score:.0f})", data)
        )
        return m

    def _note_accounts(self, trace: list[TraceStep]) -> None:
        if self.context.account_note:
            trace.append(TraceStep("match", self.context.account_note, {"accounts": "incomplete"}))

    def _to_owner(
        self,
        lead: Lead,
        m: AccountMatch,
        rule: str | None,
        exclude: frozenset[str],
        trace: list[TraceStep],
    ) -> Decision | None:
        owner = m.owner_id
        assert owner is not None
        rep_key = self.cache.rep_of_user.get(owner)
        why = self._owner_problem(m, owner, rep_key, exclude)
        if why is not None:
            trace.append(
                TraceStep(
                    "match",
                    f"Account owner not used: {why}; falling through to the rules",
                    {"owner_id": owner, "why": why},
                )
            )
            return None
        rep = self.config.reps.get(rep_key) if rep_key else None
        who = rep.name if rep else "the account owner"
        if rep is not None:
            clock = self.pools.clock(rep)
            self.work.record(rep.key, None, clock.day_key, clock.hour_key)
        name = m.account.name if m.account else "an existing record"
        reason = f"Matched {name} by {_VIA[m.via]}: routed to its owner {who}"
        trace.append(TraceStep("decision", reason, {"owner_id": owner}))
        return Decision(
            lead.id,
            "assign",
            owner,
            rep_key,
            None,
            rule,
            "account_owner",
            reason,
            tuple(trace),
            {},
            m.account.id if m.account else None,
        )

    def _owner_problem(
        self, m: AccountMatch, owner: str, rep_key: str | None, exclude: frozenset[str]
    ) -> str | None:
        if not owner.startswith("005"):
            return "owned by a queue, not a user"
        default = m.account.owner_active if m.account else True
        if not self.context.users_active.get(owner, default):
            return "owner is inactive in Salesforce"
        if rep_key is not None:
            if rep_key in exclude:
                return "the owner already had this lead"
            status = self.context.reps.get(rep_key)
            if status is not None and not status.sf_active:
                return "owner is inactive in Salesforce"
            rep = self.config.reps.get(rep_key)
            if rep is not None and not rep.enabled:
                return f"owner is turned off ({rep.disabled_reason or 'no reason given'})"
        return None

    # -- rules -----------------------------------------------------------------------
    def _apply_rules(
        self,
        lead: Lead,
        facts: LeadFacts,
        tags: frozenset[str],
        match: AccountMatch | None,
        exclude: frozenset[str],
        trace: list[TraceStep],
    ) -> Decision:
        failed: list[tuple[str, str]] = []
        territory_done = False
        territory = None
        rules, fast_rules = self.compiled.rules, self.compiled.fast_rules
        i = -1
        while True:
            i = scan_rules(fast_rules, i + 1, facts, failed)
            if i >= len(rules):
                break
            rule, conds = rules[i]
            if rule.territory is not None or rule.action == "territory":
                if not territory_done:
                    territory, also = resolve_territory(
                        self.config.territories, facts, self.compiled.territories_by_country
                    )
                    territory_done = True
                    trace_territory(territory, also, trace)
                if territory is None or (rule.territory and territory.name != rule.territory):
                    failed.append((rule.name, f"not in territory {rule.territory or '(any)'}"))
                    continue
            if rule.action == "account_owner":
                if match is None or match.owner_id is None:
                    failed.append((rule.name, "no matched account"))
                    continue
            trace_rules(failed, rule, conds, facts, trace)
            failed = []
            decided = self._act(lead, rule, facts, tags, match, territory, exclude, trace)
            if decided is not None:
                return decided
        trace_rules(failed, None, (), facts, trace)
        return hold_decision(lead, None, "No rule matched: held in the intake queue", trace)

    def _act(
        self,
        lead: Lead,
        rule: Rule,
        facts: LeadFacts,
        tags: frozenset[str],
        match: AccountMatch | None,
        territory: object,
        exclude: frozenset[str],
        trace: list[TraceStep],
    ) -> Decision | None:
        if rule.action == "hold":
            return hold_decision(
                lead,
                rule.name,
                f"Rule '{rule.name}' holds the lead: {rule.reason or 'held'}",
                trace,
            )
        if rule.action == "stop":
            reason = f"Rule '{rule.name}' stops routing: {rule.reason or 'not routed'}"
            trace.append(TraceStep("decision", reason, {}))
            return Decision(
                lead.id, "stop", None, None, None, rule.name, "stop", reason, tuple(trace)
            )
        if rule.action == "account_owner":
            assert match is not None
            return self._to_owner(lead, match, rule.name, exclude, trace)
        pool = rule.pool if rule.action == "pool" else getattr(territory, "pool", None)
        assert pool is not None
        return self._route_pool(pool, lead, tags, trace, rule.name, exclude)

    # -- pools and overflow ------------------------------------------------------------
    def _route_pool(
        self,
        pool_name: str,
        lead: Lead,
        tags: frozenset[str],
        trace: list[TraceStep],
        rule: str | None,
        exclude: frozenset[str],
    ) -> Decision:
        """Pick in the pool, else overflow in :func:`overflow_order`, else hold (never
        drop). Each pool or rep tried without success is kept with why, for the reason."""
        picked, why = self._try_pool(pool_name, exclude, tags, trace)
        if picked is not None:
            return self._assigned(lead, pool_name, rule, picked, trace, [])
        tried = [(pool_name, why)]
        for hop in self._hops(pool_name):
            if hop.target.kind == "hold":
                msg = f"Pool {hop.source}'s fallback says hold: nothing after it is tried"
                trace.append(TraceStep("fallback", msg, {"pool": hop.source}))
                break
            picked, where, label, why = self._try_hop(hop, pool_name, exclude, tags, trace)
            if picked is not None:
                return self._assigned(lead, where, rule, picked, trace, tried)
            tried.append((label, why))
        reason = "Held in the intake queue: " + "; ".join(f"{n}: {w}" for n, w in tried)
        return hold_decision(lead, rule, reason, trace, pool_name, {"tried": tried})

    def _hops(self, pool_name: str) -> tuple[Hop, ...]:
        hops = self.hops.get(pool_name)
        if hops is None:
            hops = self.hops[pool_name] = tuple(overflow_order(self.config.pools, pool_name))
        return hops

    def _try_hop(
        self,
        hop: Hop,
        start: str,
        exclude: frozenset[str],
        tags: frozenset[str],
        trace: list[TraceStep],
    ) -> tuple[Pick | None, str, str, str]:
        """A pool or rep of the overflow order: the pick, the pool it counts for, how the
        reason names the target, and why it had nobody."""
        name = hop.target.name
        assert name is not None  # overflow_order yields named pools and reps only
        if hop.target.kind == "pool":
            trace.append(_overflow_step(name, hop.source, start))
            picked, why = self._try_pool(name, exclude, tags, trace)
            return picked, name, name, why
        picked, why = self._fallback_rep(name, exclude, trace)
        return picked, hop.source, self.config.reps[name].name, why

    def _try_pool(
        self, name: str, exclude: frozenset[str], tags: frozenset[str], trace: list[TraceStep]
    ) -> tuple[Pick | None, str]:
        """The pick in pool ``name``, or None and why nobody was eligible (only then
        summarised: from the candidate steps the pick traced)."""
        start = len(trace)
        picked = self.pools.pick(self.config.pools[name], exclude, tags, trace)
        if picked is not None:
            return picked, ""
        steps = tuple(trace[start:])
        key = (name, tags, tuple(map(id, steps)))
        hit = self.nobody.get(key)
        if hit is None:
            why = nobody_why(steps, tags)
            msg = f"Nobody eligible in pool {name}: {why}"
            step = TraceStep("fallback", msg, {"pool": name, "why": why})
            hit = self.nobody[key] = _Nobody(why, step, steps)
        trace.append(hit.step)
        return None, hit.why

    def _fallback_rep(
        self, key: str, exclude: frozenset[str], trace: list[TraceStep]
    ) -> tuple[Pick | None, str]:
        rep = self.config.reps[key]
        why = self.pools.skip_reason(rep, exclude)
        if why is not None:
            trace.append(
                TraceStep(
                    "fallback",
                    f"Fallback rep {rep.name} skipped ({why})",
                    {"rep": key, "skip": why},
                )
            )
            return None, why
        clock = self.pools.clock(rep)
        self.work.record(key, None, clock.day_key, clock.hour_key)
        user_id = self.context.reps[key].user_id
        assert user_id is not None
        return Pick(rep, user_id, "fallback_rep", "", {}), ""

    def _assigned(
        self,
        lead: Lead,
        pool: str,
        rule: str | None,
        p: Pick,
        trace: list[TraceStep],
        tried: list[tuple[str, str]],
    ) -> Decision:
        """The assignment; its reason names each pool or rep tried before, with why."""
        how = METHOD_WORDS.get(p.method, p.method) + (f", {p.note}" if p.note else "")
        msg = f"{p.rep.name} chosen ({how})"
        data: dict[str, object] = {"rep": p.rep.key, "method": p.method, "pool": pool}
        if tried:
            data["tried"] = tried
            last = msg if p.method == "fallback_rep" else f"{pool}: {msg}"
            path = " → ".join([*(f"{n}: {w}" for n, w in tried), last])
            reason = f"Rule '{rule}' → {path}" if rule else path
        else:
            reason = f"Rule '{rule}' → pool {pool}: {msg}" if rule else f"Pool {pool}: {msg}"
        trace.append(TraceStep("pick", msg, data))
        return Decision(
            lead.id,
            "assign",
            p.user_id,
            p.rep.key,
            pool,
            rule,
            p.method,
            reason,
            tuple(trace),
            p.eligible_weights,
        )


class _Nobody(NamedTuple):
    why: str
    step: TraceStep
    steps: tuple[TraceStep, ...]


def _overflow_step(name: str, source: str, start: str) -> TraceStep:
    """ "Overflow to pool X", saying whose list named X when it is not the first pool's."""
    via = "" if source == start else f" (from {source}'s fallback)"
    return TraceStep("fallback", f"Overflow to pool {name}{via}", {"pool": name, "from": source})
