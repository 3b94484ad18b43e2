"""Lead-to-account matching.

Evidence, strongest first:

1. an existing Contact (or open Lead) with the same e-mail address;
2. the lead's e-mail domain equal to an account's web-site domain (registered domain,
   public-suffix aware, ``www.``/sub-domains/paths stripped); free-mail and disposable
   domains (gmail.com ...) are never evidence;
3. the lead's web-site domain equal to an account's;
4. the normalised company name (legal suffixes, punctuation, case removed), exact or
   fuzzy above a threshold, accepted only with a corroborating field (domain, country or
   phone).

Several accounts on one piece of evidence are ordered by the tie-breakers: more open
opportunities, then most recent activity, then more employees, then Id.

:class:`AccountIndex` is built once per batch (dicts keyed by domain and name key, plus
name blocks by distinctive token for fuzzy search) so a lookup costs a few dict reads.
It holds either every account (``AccountIndex.build``) or only the accounts a batch of
leads could match, read from the worker's account mirror: :meth:`AccountIndex.of_blocks`
with the org-wide name blocks of the batch's blocking keys, then :func:`name_candidates`
(the names a lead's name evidence will read) and :meth:`AccountIndex.with_accounts`.
Both give the same matches, candidate lists included (accounts are grouped in Id order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from worker.routing import _libs, normalise
from worker.routing.facts import LeadFacts
from worker.routing.model import Account, AccountMatching, KnownEmail


@dataclass(frozen=True)
class AccountIndex:
    by_id: Mapping[str, Account]
    by_domain: Mapping[str, tuple[Account, ...]]
    by_name: Mapping[str, tuple[Account, ...]]
    # fuzzy search: distinctive token -> name keys, and the same names with their tokens
    # sorted (the form the scorer compares, see _libs.best_sorted_matches)
    name_blocks: Mapping[str, list[str]] = field(default_factory=dict)
    sorted_blocks: Mapping[str, list[str]] = field(default_factory=dict)
    # (key, cutoff) -> fuzzy_matches' answer: placeholder companies ("Not provided",
    # "-", a person's surname) recur through a batch; bounded, and an answer depends
    # only on the index, so remembering it changes nothing but the time
    _fuzzy_memo: dict[tuple[str, float], list[tuple[str, float]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def build(cls, accounts: Sequence[Account]) -> AccountIndex:
        """The index of every account given, fuzzy blocks included."""
        by_id, by_domain, by_name = _grouped(accounts)
        name_blocks, sorted_blocks = _fuzzy_blocks(by_name)
        return cls(by_id, by_domain, by_name, name_blocks, sorted_blocks)

    @classmethod
    def of_blocks(cls, blocks: Mapping[str, tuple[list[str], list[str]]]) -> AccountIndex:
        """An index without accounts over fuzzy blocks read elsewhere: blocking key ->
        (name keys, the same names token-sorted), as :func:`_fuzzy_blocks` makes them from
        the whole org (blocks of more than MAX_BLOCK names left out). Ask it for
        :func:`name_candidates`, then add the accounts with :meth:`with_accounts`."""
        return cls({}, {}, {}, {b: n for b, (n, _) in blocks.items()},
                   {b: s for b, (_, s) in blocks.items()})  # fmt: skip

    def with_accounts(
        self, accounts: Sequence[Account], keys: Mapping[str, tuple[str, str]] | None = None
    ) -> AccountIndex:
        """The same fuzzy blocks (and fuzzy answers already found) with ``accounts``.
        ``keys``: Id -> (web-site domain, name key) as :func:`account_keys` gives them,
        when already known (the account mirror stores them)."""
        by_id, by_domain, by_name = _grouped(accounts, keys)
        index = AccountIndex(by_id, by_domain, by_name, self.name_blocks, self.sorted_blocks)
        object.__setattr__(index, "_fuzzy_memo", self._fuzzy_memo)  # depends on blocks only
        return index

    def fuzzy_matches(self, key: str, cutoff: float, limit: int = 5) -> list[tuple[str, float]]:
        """Up to ``limit`` name keys scoring >= ``cutoff`` against ``key``
        (``token_sort_ratio``), best first, equal scores by name; searched among the names
        sharing a distinctive token (or 4-letter token prefix) with ``key``, a block at
        a time, each block scored in one call without building a merged list."""
        if limit > MEMO_LIMIT:
            return self._fuzzy_search(key, cutoff, limit)
        memo = self._fuzzy_memo.get((key, cutoff))
        if memo is not None:
            return memo[:limit]
        found = self._fuzzy_search(key, cutoff, MEMO_LIMIT)
        if len(self._fuzzy_memo) >= MEMO_MAX:
            self._fuzzy_memo.clear()
        self._fuzzy_memo[(key, cutoff)] = found
        return found[:limit]

    def _fuzzy_search(self, key: str, cutoff: float, limit: int) -> list[tuple[str, float]]:
        query = _libs.sorted_tokens(key)
        scores: dict[str, float] = {}
        for block in blocking_keys(key):
            names = self.name_blocks.get(block)
            if names:
                found = _libs.best_sorted_matches(query, self.sorted_blocks[block], cutoff, None)
                scores.update((names[i], score) for _, score, i in found)
        return sorted(scores.items(), key=lambda hit: (-hit[1], hit[0]))[:limit]


MAX_BLOCK = 200  # a token shared by more names is too common to narrow a fuzzy search
MEMO_MAX = 10_000  # fuzzy answers remembered per index
MEMO_LIMIT = 20  # matches remembered per answer (callers ask for five)


def blocking_keys(key: str) -> set[str]:
    """The fuzzy search's blocks a name key belongs to: its tokens and the 4-letter
    prefixes (``~acme``) of its longer tokens."""
    tokens = key.split()
    return set(tokens) | {"~" + t[:4] for t in tokens if len(t) > 4}


def account_keys(account: Account) -> tuple[str, str]:
    """(registered web-site domain, "" for none or free-mail; name key): the keys an
    account is found by."""
    d = normalise.website_domain(account.website)
    return ("" if normalise.is_public_mail_domain(d) else d), normalise.company_key(account.name)


def _grouped(
    accounts: Sequence[Account], keys: Mapping[str, tuple[str, str]] | None = None
) -> tuple[dict[str, Account], dict[str, tuple[Account, ...]], dict[str, tuple[Account, ...]]]:
    """(by Id, by web-site domain, by name key), each group in Id order: the same
    accounts give the same groups (and candidate lists) whatever order they come in."""
    ordered = sorted(accounts, key=_account_id)
    by_domain: dict[str, list[Account]] = {}
    by_name: dict[str, list[Account]] = {}
    for a in ordered:
        d, k = keys[a.id] if keys is not None else account_keys(a)
        if d:
            by_domain.setdefault(d, []).append(a)
        if k:
            by_name.setdefault(k, []).append(a)
    return (
        {a.id: a for a in ordered},
        {d: tuple(v) for d, v in by_domain.items()},
        {k: tuple(v) for k, v in by_name.items()},
    )


def _account_id(a: Account) -> str:
    return a.id


def _fuzzy_blocks(
    by_name: Mapping[str, object],
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Inverted index for fuzzy search: distinctive token -> name keys (and their
    token-sorted forms); tokens shared by more than MAX_BLOCK names are dropped (they
    would make every search slow)."""
    blocks: dict[str, list[str]] = {}
    for k in by_name:
        for b in blocking_keys(k):
            blocks.setdefault(b, []).append(k)
    kept = {b: names for b, names in blocks.items() if len(names) <= MAX_BLOCK}
    ordered: dict[str, str] = {}
    for names in kept.values():
        for k in names:
            if k not in ordered:
                ordered[k] = _libs.sorted_tokens(k)
    return kept, {b: [ordered[k] for k in names] for b, names in kept.items()}


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """The outcome of matching one lead. ``account`` None with ``owner_id`` set: a known
    e-mail owned outside any indexed account."""

    account: Account | None
    owner_id: str | None
    via: str  # known_email | email_domain | website | name
    score: float
    candidates: tuple[dict[str, object], ...]  # for the trace


def _tiebreak_key(a: Account) -> tuple[int, date, int, str]:
    return (-a.open_opportunities, _neg_date(a.last_activity), -(a.employees or 0), a.id)


def _neg_date(d: date | None) -> date:
    # later dates sort first: map to a date mirrored around date.max
    return date.fromordinal(date.max.toordinal() - (d or date.min).toordinal() + 1)


def _pick(accounts: Sequence[Account]) -> Account:
    return min(accounts, key=_tiebreak_key) if len(accounts) > 1 else accounts[0]


def _cand(a: Account, score: float, verdict: str) -> dict[str, object]:
    return {"account_id": a.id, "name": a.name, "score": round(score, 1), "verdict": verdict}


def _corroboration(a: Account, facts: LeadFacts, fields: frozenset[str]) -> str | None:
    if "domain" in fields:
        d = normalise.website_domain(a.website)
        if d and d in (facts.website_domain, "" if facts.email_is_public else facts.email_domain):
            return "domain"
    if "country" in fields and facts.country and normalise.country_code(a.country) == facts.country:
        return "country"
    if "phone" in fields and facts.phone_key and normalise.phone_key(a.phone) == facts.phone_key:
        return "phone"
    return None


def _known_hits(
    facts: LeadFacts, known: Mapping[str, Sequence[KnownEmail]]
) -> Sequence[KnownEmail] | None:
    return known.get(facts.email) if facts.email else None


def _by_known_email(
    facts: LeadFacts, known: Mapping[str, Sequence[KnownEmail]], index: AccountIndex
) -> AccountMatch | None:
    hits = _known_hits(facts, known)
    if not hits:
        return None
    best = sorted(hits, key=lambda k: (k.kind != "contact", k.record_id))[0]
    account = index.by_id.get(best.account_id) if best.account_id else None
    if account is not None:
        cand = _cand(account, 100, f"existing {best.kind} with the same e-mail")
        return AccountMatch(account, account.owner_id, "known_email", 100.0, (cand,))
    cand = {
        "record_id": best.record_id,
        "kind": best.kind,
        "score": 100.0,
        "verdict": "same e-mail",
    }
    return AccountMatch(None, best.owner_id, "known_email", 100.0, (cand,))


def _domain_hit(
    facts: LeadFacts, index: AccountIndex, s: AccountMatching
) -> tuple[str, tuple[Account, ...]] | None:
    """(via, the accounts of the first domain with any), e-mail domain first."""
    for via, domain, enabled in (
        ("email_domain", "" if facts.email_is_public else facts.email_domain, s.by_email_domain),
        ("website", facts.website_domain, s.by_website),
    ):
        accounts = index.by_domain.get(domain) if enabled and domain else None
        if accounts:
            return via, accounts
    return None


def _by_domain(facts: LeadFacts, index: AccountIndex, s: AccountMatching) -> AccountMatch | None:
    hit = _domain_hit(facts, index, s)
    if hit is None:
        return None
    via, accounts = hit
    chosen = _pick(accounts)
    cands = tuple(
        _cand(a, 100, "chosen" if a is chosen else "lost tie-break") for a in accounts[:5]
    )
    return AccountMatch(chosen, chosen.owner_id, via, 100.0, cands)


def _fuzzy(key: str, index: AccountIndex, s: AccountMatching) -> list[tuple[str, float]]:
    return index.fuzzy_matches(key, s.fuzzy_threshold)


def name_candidates(key: str, index: AccountIndex, s: AccountMatching) -> set[str]:
    """The name keys whose accounts the name evidence may read for a lead whose company
    key is ``key``: the key itself and its fuzzy matches (the same search as
    :func:`match_account`'s, so an index holding these names' accounts answers alike)."""
    if not (s.enabled and s.by_name and key):
        return set()
    return {key} | {choice for choice, _ in _fuzzy(key, index, s)}


def _by_name(facts: LeadFacts, index: AccountIndex, s: AccountMatching) -> AccountMatch | None:
    key = facts.company_key
    if not key:
        return None
    scored: list[tuple[str, float]] = []
    if key in index.by_name:
        scored.append((key, 100.0))
    for choice, score in _fuzzy(key, index, s):
        if choice != key:
            scored.append((choice, score))
    cands: list[dict[str, object]] = []
    for name_key, score in scored:
        named = index.by_name.get(name_key, ())  # empty: its accounts left since the search
        accepted = [
            (a, why)
            for a in named
            if (why := _corroboration(a, facts, s.corroborate_with)) is not None
        ]
        for a in named[:3]:
            if not any(a is b for b, _ in accepted):
                cands.append(_cand(a, score, "rejected: no corroborating domain, country or phone"))
        if accepted:
            chosen = _pick([a for a, _ in accepted])
            why = next(w for a, w in accepted if a is chosen)
            cands.append(_cand(chosen, score, f"accepted: name {score:.0f}% + same {why}"))
            return AccountMatch(chosen, chosen.owner_id, "name", score, tuple(cands))
    if cands:
        return AccountMatch(None, None, "name", 0.0, tuple(cands))
    return None


def decided_before_names(
    facts: LeadFacts,
    known_emails: Mapping[str, Sequence[KnownEmail]],
    index: AccountIndex,
    settings: AccountMatching,
) -> bool:
    """Whether :func:`match_account` answers for this lead without its name evidence
    (a known e-mail, or a domain match), given an index holding at least every account of
    the lead's domains: the name lookups can then be skipped for it."""
    if not settings.enabled or (settings.by_known_email and _known_hits(facts, known_emails)):
        return True
    return _domain_hit(facts, index, settings) is not None


def match_account(
    facts: LeadFacts,
    known_emails: Mapping[str, Sequence[KnownEmail]],
    index: AccountIndex,
    settings: AccountMatching,
) -> AccountMatch | None:
    """Best account (or known-email owner) for the lead, or None.

    A result with ``account`` and ``owner_id`` both None carries only rejected candidates
    for the trace.
    """
    if not settings.enabled:
        return None
    if settings.by_known_email:
        hit = _by_known_email(facts, known_emails, index)
        if hit:
            return hit
    hit = _by_domain(facts, index, settings)
    if hit:
        return hit
    return _by_name(facts, index, settings) if settings.by_name else None
