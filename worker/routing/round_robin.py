"""Distribution within a pool: weighted round-robin, plain round-robin, least-loaded, and
the catch-up ledger.

Weighted round-robin keeps, per member, a *credit*: how many leads the rep is behind its
weighted share (nginx's smooth WRR "current weight" divided by the total weight). On each
pick every eligible rep earns ``p_i = w_i / W`` (``W`` = total weight of the eligible reps)
and the winner pays 1. Instead of nginx's "largest credit wins" (which can lag a rep by
~1.09 leads) we pick by *earliest deadline* among the reps whose credit is positive: the
rep whose credit would reach 1 soonest, ``(1 - credit_i) / p_i``. This is Tijdeman's
chairman-assignment construction: with stable availability every rep stays strictly
within 1 lead of its exact share at every prefix. Ties go to config order, so the result
is deterministic.

Reps who are not eligible keep their credit frozen. That is the *forgive* catch-up
policy: a rep back from a week off resumes at its fair share, without a flood. New reps
start at credit 0, i.e. at their fair share from the moment they join.

Catch-up (*full*, *capped*), defined exactly:

* **Away.** A rep is away while out of office, on a public holiday (an absence like out
  of office), switched off (``enabled: false``) or inactive in Salesforce, and only
  within its working hours. At a cap, outside its working hours, excluded from a lead or
  without a Salesforce user, it is not away and accrues nothing.
* **Share.** Every lead the pool assigns entitles each rep eligible for it or away to
  ``w_i / W``, ``W`` being the weights of the eligible AND the away reps (an away rep
  counts for the leads the pool's tag filter would have offered it).
* **Ledger.** A second, signed ledger per rep, the *debt*, holds what the credits do
  not. A normal pick books ``w_i / W_eligible`` in each eligible rep's credit, as above,
  so the debt books the rest: ``w_i / W - w_i / W_eligible`` for the eligible reps (at
  most 0: covering an absence puts them ahead) and ``w_i / W`` for the away reps (owed).
  A *catch-up pick* gives the lead to the eligible rep owed most, which pays 1 from its
  debt; credits are untouched and every eligible or away rep books its ``w_i / W`` as
  debt, so the catch-up leads count in everyone's share. After every lead, for every
  rep, ``count_i + credit_i + debt_i`` is exactly its share of all the pool's leads so
  far, credits sum to 0 and debts sum to 0 (:func:`recentre` keeps both so).
* **Pace.** A rep is due a catch-up pick while its debt is at least ``(1 - p_i) / 2``
  (``p_i`` its share of the lead; the pick moves the debt by ``p_i - 1``, so the debt is
  rounded to the nearest lead) and, while the rounding has left some rep half a lead or
  more ahead, whenever it is owed anything. Never two catch-up picks in a row: the
  returning rep gets every other lead plus its share of the rest, and gains ``1 - p_i``
  per catch-up pick, even with a share of 1/2 or more. *capped*: at most ``per_day``
  catch-up picks per local day of the rep.
* **Settled.** When nobody is away and every debt lies in ``(-1/2, 1/2)``, the debts
  are folded into the credits (other methods keep no credits: their settled debts are
  dropped). While a debt is outside, someone is due a catch-up pick whenever a rep owed
  is eligible alongside others. At that moment each rep is within one lead and a half of
  its exact share (a credit within one lead while availability is stable, a debt within
  half), and the round-robin, running on the exact ledger from there, absorbs the
  remainder within a round: after as many leads as the pool has members every rep is
  within one lead of its weighted share of ALL the period's leads (property-tested in
  tests/unit/routing/test_catch_up_property.py, not proved).

Catch-up picks never touch the credits, so the normal picks keep the earliest-deadline
bound among themselves while debts are being paid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Candidate:
    key: str
    weight: float
    order: int  # position in the pool's member list (tie-break)


def weighted_pick(cands: Sequence[Candidate], credits: dict[str, float]) -> tuple[Candidate, float]:
    """Earliest-deadline smooth WRR. Mutates ``credits``; returns the winner and its credit
    before paying (leads behind its share)."""
    total = sum(c.weight for c in cands)
    best: Candidate | None = None
    best_deadline = 0.0
    fallback: Candidate | None = None
    fallback_credit = 0.0
    for c in cands:
        share = c.weight / total
        credit = credits.get(c.key, 0.0) + share
        credits[c.key] = credit
        if credit > EPS:
            deadline = (1.0 - credit) / share
            if best is None or deadline < best_deadline - EPS:
                best, best_deadline = c, deadline
        if fallback is None or credit > fallback_credit + EPS:
            fallback, fallback_credit = c, credit
    winner = best or fallback
    assert winner is not None
    behind = credits[winner.key]
    credits[winner.key] = behind - 1.0
    return winner, behind


def recentre(ledger: dict[str, float], members: Sequence[tuple[str, float]]) -> None:
    """Keep a ledger (credits or debts) summing to 0 over the members (drift appears when
    reps leave the pool, or from a state saved before debts were signed) by spreading the
    excess in proportion to weight; drop non-members."""
    keys = {k for k, _ in members}
    for k in [k for k in ledger if k not in keys]:
        del ledger[k]
    excess = sum(ledger.get(k, 0.0) for k in keys)
    if abs(excess) > 1e-6:
        total = sum(w for _, w in members) or 1.0
        for k, w in members:
            ledger[k] = ledger.get(k, 0.0) - excess * w / total


def catch_up_due(debt: float, share: float, someone_ahead: bool) -> bool:
    """Whether a rep owed ``debt`` leads, with ``share`` of this lead, is due a catch-up
    pick. The pick moves its debt by ``share - 1``: it is due while that rounds the debt
    to the nearest lead, ``debt >= (1 - share) / 2``, and, while ``someone_ahead`` (a
    debt at or below -1/2: the rounding left a rep that covered absences that far ahead),
    whenever it is owed anything, as every catch-up pick lets the others gain. Never when
    its share is the whole lead: the lead is its own anyway, and the pick would pay
    nothing back (nor use up a capped day's allowance)."""
    if share >= 1.0 - EPS:
        return False
    return debt >= (1.0 - share) / 2 - EPS or (someone_ahead and debt > EPS)


def ahead(debts: Mapping[str, float]) -> bool:
    """Whether some rep is half a lead or more ahead in the debt ledger."""
    return min(debts.values(), default=0.0) <= -0.5 + EPS


def book_lead(
    debts: dict[str, float],
    eligible: Mapping[str, float],
    away: Mapping[str, float],
    catch_up: str | None,
) -> None:
    """Book one lead in the debt ledger (see the module docstring).

    Args:
        eligible: weights of the reps eligible for this lead.
        away: weights of the reps away for it.
        catch_up: the winner of a catch-up pick (pays 1 from its debt), or None for a
            normal pick (the eligible reps' credits booked ``w / W_eligible`` each).
    """
    total = sum(eligible.values()) + sum(away.values())
    if catch_up is None:
        if not away:
            return  # the credits booked the whole entitlement
        present = total - sum(away.values())
        for k, w in eligible.items():
            debts[k] = debts.get(k, 0.0) + w / total - w / present
    else:
        for k, w in eligible.items():
            debts[k] = debts.get(k, 0.0) + w / total
        debts[catch_up] -= 1.0
    for k, w in away.items():
        debts[k] = debts.get(k, 0.0) + w / total


def settled(debts: Mapping[str, float]) -> bool:
    """Whether every debt lies within half a lead of 0, so the debts can be folded into
    the credits: a last rounding pick may still be due, but the fold's bound (a debt
    within half a lead) already holds."""
    return all(-0.5 + EPS < d < 0.5 - EPS for d in debts.values())


def fold(credits: dict[str, float], debts: dict[str, float]) -> None:
    """Move the debts into the credits: ``credit + debt`` per rep is unchanged."""
    for k, d in debts.items():
        credits[k] = credits.get(k, 0.0) + d
    debts.clear()


def round_robin_pick(
    cands: Sequence[Candidate], members: Sequence[str], last: str | None
) -> Candidate:
    """The first eligible member after ``last`` in member order (wrapping)."""
    by_key = {c.key: c for c in cands}
    start = members.index(last) + 1 if last in members else 0
    for i in range(len(members)):
        hit = by_key.get(members[(start + i) % len(members)])
        if hit is not None:
            return hit
    return cands[0]


def least_loaded_pick(
    cands: Sequence[Candidate],
    weighted: bool,
    open_leads: Callable[[str], int],
    today: Callable[[str], int],
) -> Candidate:
    """Fewest open leads (divided by weight when ``weighted``); ties: fewer assigned
    today, then member order."""

    def key(c: Candidate) -> tuple[float, int, int]:
        load = open_leads(c.key)
        return (load / c.weight if weighted else float(load), today(c.key), c.order)

    return min(cands, key=key)
