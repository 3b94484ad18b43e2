"""The account mirror in the store (:mod:`worker.store.models.accounts`).

Writing: :func:`apply_changes` writes a page of Salesforce's account changes (upserts and
deletions) with everything derived from them (accounts per name key, fuzzy blocks and
their sizes) in the caller's transaction, so the sync's watermark can be committed with
the rows it covers.

Reading: :func:`account_index` gives the :class:`~worker.routing.matching.AccountIndex`
for a batch of leads: every account any of them could match, found with a handful of
indexed ``IN`` queries (e-mail and web-site domains, name keys, the fuzzy blocks of the
leads' company names, Ids of known e-mails' accounts). Matching against it gives exactly
what matching against an index of every account would: the blocks come from the whole
org (a block shared by more than ``MAX_BLOCK`` names is left out as there) and the
names read are the fuzzy search's own answers (:func:`~worker.routing.matching.name_candidates`).
:func:`routing_context` wraps it in the :class:`RoutingContext` the worker, ``simulate``
and What-if route with.

No function here holds more than a page (or a batch's candidates) in memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.routing import _libs, matching, normalise
from worker.routing.facts import lead_facts
from worker.routing.matching import AccountIndex, blocking_keys, name_candidates
from worker.routing.model import (
    Account,
    AccountMatching,
    KnownEmail,
    Lead,
    RepStatus,
    RoutingConfig,
    RoutingContext,
)
from worker.store.models.accounts import (
    AccountBlock,
    AccountBlockSize,
    AccountName,
    AccountSync,
    MirroredAccount,
)

MAX_IN = 500  # values per IN list (bound parameters stay far below every driver's limit)
# The stored keys (``domain``, ``name_key``, the blocks) are normalise.website_domain,
# normalise.company_key and matching.blocking_keys of the account's fields. When one of
# those functions changes what it returns, bump this: the worker then re-syncs the mirror
# (tests/unit/store/test_accounts_keys.py pins their answers to this number).
KEYS_VERSION = 1
SEP = "\n"  # between the names of a block (a name key is words and single spaces)

_ACCOUNTS = MirroredAccount.__table__  # type: ignore[attr-defined]
_NAMES = AccountName.__table__  # type: ignore[attr-defined]
_BLOCKS = AccountBlock.__table__  # type: ignore[attr-defined]
_SIZES = AccountBlockSize.__table__  # type: ignore[attr-defined]
_READ = (
    _ACCOUNTS.c.id, _ACCOUNTS.c.name, _ACCOUNTS.c.website, _ACCOUNTS.c.owner_id,
    _ACCOUNTS.c.owner_active, _ACCOUNTS.c.employees, _ACCOUNTS.c.country, _ACCOUNTS.c.phone,
    _ACCOUNTS.c.last_activity, _ACCOUNTS.c.open_opportunities,
)  # fmt: skip


def _chunks(values: Iterable[str], size: int = MAX_IN) -> Iterator[list[str]]:
    chunk: list[str] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _utc(value: datetime | None) -> datetime | None:
    """SQLite gives timestamps back without a zone: they are UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def account_keys(account: Account) -> tuple[str | None, str]:
    """(registered web-site domain or None, name key): what the mirror is indexed on."""
    domain = normalise.website_domain(account.website)
    if domain and normalise.is_public_mail_domain(domain):
        domain = ""
    return domain or None, normalise.company_key(account.name)


# --- writing ---------------------------------------------------------------------------
def apply_changes(
    session: Session,
    upserts: Sequence[tuple[Account, datetime | None]] = (),
    deletions: Mapping[str, datetime | None] | None = None,
    *,
    generation: int = 0,
) -> int:
    """Write accounts as read from Salesforce (with their ``SystemModstamp``) and remove
    deleted ones (Id -> when deleted), in the caller's transaction; returns how many rows
    changed. A version older than the stored one is ignored, and so is a deletion older
    than the stored version (the account was undeleted and changed since)."""
    deletions = deletions or {}
    before = _stored(session, [a.id for a, _ in upserts] + list(deletions))
    current = dict(before)
    names: Counter[str] = Counter()
    rows: dict[str, dict[str, Any]] = {}
    for account, modstamp in upserts:
        old = current.get(account.id)
        stamp = _utc(modstamp)
        if old is not None and _older(stamp, old[1]):
            continue
        row = _row(account, stamp, generation)
        if old is not None:
            names[old[0]] -= 1
        names[row["name_key"]] += 1
        rows[account.id] = row
        current[account.id] = (row["name_key"], stamp)
    gone = []
    for account_id, deleted_at in deletions.items():
        old = current.get(account_id)
        if old is None or _older(_utc(deleted_at), old[1]):
            continue
        names[old[0]] -= 1
        del current[account_id]
        rows.pop(account_id, None)
        if account_id in before:
            gone.append(account_id)
    _write_rows(session, list(rows.values()), gone)
    _Names(session).change(names)
    return len(rows) + len(gone)


def _older(stamp: datetime | None, than: datetime | None) -> bool:
    return stamp is not None and than is not None and stamp < than


def _stored(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, datetime | None]]:
    out: dict[str, tuple[str, datetime | None]] = {}
    cols = (_ACCOUNTS.c.id, _ACCOUNTS.c.name_key, _ACCOUNTS.c.system_modstamp)
    for chunk in _chunks(dict.fromkeys(ids)):
        for i, key, stamp in session.execute(select(*cols).where(_ACCOUNTS.c.id.in_(chunk))):
            out[i] = (key, _utc(stamp))
    return out


def _row(account: Account, modstamp: datetime | None, generation: int) -> dict[str, Any]:
    domain, key = account_keys(account)
    return {
        "id": account.id, "name": account.name, "website": account.website,
        "owner_id": account.owner_id, "owner_active": account.owner_active,
        "employees": account.employees, "country": (account.country or None) and account.country[:80],
        "phone": (account.phone or None) and account.phone[:40], "last_activity": account.last_activity,
        "open_opportunities": account.open_opportunities, "system_modstamp": modstamp,
        "domain": domain[:255] if domain else None, "name_key": key, "generation": generation,
    }  # fmt: skip


def _write_rows(session: Session, rows: list[dict[str, Any]], gone: list[str]) -> None:
    if rows:
        columns = [c for c in rows[0] if c != "id"]
        _upsert(session, _ACCOUNTS, rows, ["id"], columns)
    for chunk in _chunks(gone):
        session.execute(delete(_ACCOUNTS).where(_ACCOUNTS.c.id.in_(chunk)))


def _upsert(
    session: Session, table: Any, rows: list[dict[str, Any]], keys: list[str], columns: list[str]
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE, on SQLite and PostgreSQL alike."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt: Any = dialect.insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
    )
    session.execute(stmt, rows)


class _Names:
    """Accounts per name key, and the fuzzy blocks of the names that have accounts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def change(self, deltas: Mapping[str, int]) -> None:
        deltas = {k: d for k, d in deltas.items() if d}
        if not deltas:
            return
        s = self.session
        before: dict[str, int] = {}
        for chunk in _chunks(deltas):
            query = select(_NAMES.c.name_key, _NAMES.c.accounts).where(_NAMES.c.name_key.in_(chunk))
            before.update((k, int(n)) for k, n in s.execute(query))
        after = {k: before.get(k, 0) + d for k, d in deltas.items()}
        if min(after.values()) < 0:
            raise RuntimeError("account mirror: a name key's account count went below zero")
        added = sorted(k for k, n in after.items() if n and not before.get(k))
        removed = sorted(k for k, n in after.items() if not n and before.get(k))
        kept = [{"k": k, "n": n} for k, n in after.items() if n and before.get(k)]
        if added:
            s.execute(_NAMES.insert(), [{"name_key": k, "accounts": after[k]} for k in added])
        if kept:
            s.execute(
                update(_NAMES).where(_NAMES.c.name_key == bindparam("k")).values(accounts=bindparam("n")),
                kept,
            )  # fmt: skip
        for chunk in _chunks(removed):
            s.execute(delete(_NAMES).where(_NAMES.c.name_key.in_(chunk)))
        _Blocks(s).change(added, removed)


class _Blocks:
    """Block -> names rows, and per block its size and (while small) its names."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def change(self, added: Sequence[str], removed: Sequence[str]) -> None:
        plus: dict[str, set[str]] = {}
        minus: dict[str, set[str]] = {}
        for name in added:
            for b in blocking_keys(name):
                plus.setdefault(b, set()).add(name)
        for name in removed:
            for b in blocking_keys(name):
                minus.setdefault(b, set()).add(name)
        s = self.session
        pairs = [{"block": b, "name_key": n} for b, ns in plus.items() for n in ns]
        if pairs:
            s.execute(_BLOCKS.insert(), pairs)
        gone = [{"b": b, "n": n} for b, ns in minus.items() for n in ns]
        if gone:
            s.execute(
                delete(_BLOCKS).where(_BLOCKS.c.block == bindparam("b"), _BLOCKS.c.name_key == bindparam("n")),
                gone,
            )  # fmt: skip
        self._resize(plus, minus)

    def _resize(self, plus: Mapping[str, set[str]], minus: Mapping[str, set[str]]) -> None:
        s = self.session
        touched = sorted(plus.keys() | minus.keys())
        before: dict[str, tuple[int, str | None]] = {}
        cols = (_SIZES.c.block, _SIZES.c.names, _SIZES.c.members)
        for chunk in _chunks(touched):
            for b, n, members in s.execute(select(*cols).where(_SIZES.c.block.in_(chunk))):
                before[b] = (int(n), members)
        rows, dropped, rebuild = [], [], []
        limit = matching.MAX_BLOCK
        for b in touched:
            count, members = before.get(b, (0, ""))
            new = count + len(plus.get(b, ())) - len(minus.get(b, ()))
            if new <= 0:
                dropped.append(b)
            elif new > limit:
                rows.append({"block": b, "names": new, "members": None, "sorted_members": None})
            elif members is None:  # was too big to keep its names: read them again
                rebuild.append((b, new))
            else:
                names = (set(members.split(SEP)) - {""} - minus.get(b, set())) | plus.get(b, set())
                rows.append(_size_row(b, new, names))
        rows += [_size_row(b, n, names) for (b, n), names in self._names_of(rebuild)]
        if rows:
            _upsert(s, _SIZES, rows, ["block"], ["names", "members", "sorted_members"])
        for chunk in _chunks(dropped):
            s.execute(delete(_SIZES).where(_SIZES.c.block.in_(chunk)))

    def _names_of(
        self, blocks: Sequence[tuple[str, int]]
    ) -> Iterator[tuple[tuple[str, int], set[str]]]:
        found: dict[str, set[str]] = {}
        for chunk in _chunks([b for b, _ in blocks]):
            query = select(_BLOCKS.c.block, _BLOCKS.c.name_key).where(_BLOCKS.c.block.in_(chunk))
            for b, name in self.session.execute(query):
                found.setdefault(b, set()).add(name)
        for b, n in blocks:
            names = found.get(b, set())
            if len(names) != n:
                raise RuntimeError(f"account mirror: block size {n} but {len(names)} names")
            yield (b, n), names


def _size_row(block: str, count: int, names: set[str]) -> dict[str, Any]:
    ordered = sorted(names)
    return {
        "block": block, "names": count, "members": SEP.join(ordered),
        "sorted_members": SEP.join(_libs.sorted_tokens(n) for n in ordered),
    }  # fmt: skip


def stale_ids(session: Session, generation: int, limit: int) -> list[str]:
    """Up to ``limit`` rows not written by full pass ``generation`` (after a full pass:
    accounts deleted while the mirror was not following, to be removed)."""
    query = (
        select(_ACCOUNTS.c.id).where(_ACCOUNTS.c.generation != generation).order_by(_ACCOUNTS.c.id)
    )
    return [str(i) for i in session.execute(query.limit(limit)).scalars()]


def set_owner_active(session: Session, active: Mapping[str, bool]) -> int:
    """``IsActive`` of users, onto the accounts they own; returns rows changed."""
    changed = 0
    for value in (True, False):
        owners = [u for u, a in active.items() if a is value]
        for chunk in _chunks(owners):
            result = session.execute(
                update(_ACCOUNTS)
                .where(_ACCOUNTS.c.owner_id.in_(chunk), _ACCOUNTS.c.owner_active.is_not(value))
                .values(owner_active=value)
            )
            changed += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return changed


# --- sync state ------------------------------------------------------------------------
def sync_state(session: Session, *, lock: bool = False) -> AccountSync:
    """The sync's row (a fresh one, not yet added, when there is none). ``lock``: held
    until the transaction ends (PostgreSQL), so two writers take turns."""
    query = select(AccountSync).where(AccountSync.id == 1)  # type: ignore[arg-type]
    if lock:
        query = query.with_for_update()
    row: AccountSync | None = session.execute(query).scalars().first()
    if row is None:
        return AccountSync(id=1)
    for name in ("full_started_at", "delta_at", "deleted_since", "users_since"):
        setattr(row, name, _utc(getattr(row, name)))
    return row


def save_sync(session: Session, row: AccountSync) -> None:
    row.updated_at = datetime.now(UTC)
    session.add(row)


@dataclass(frozen=True, slots=True)
class MirrorStatus:
    """How complete the mirror is: ``complete`` once a full pass has finished."""

    complete: bool
    loaded: int  # accounts read by the full pass under way (or the last one)
    expected: int | None  # the org's account count when that pass began

    def note(self) -> str:
        """What a decision's trace says while the mirror is incomplete ("" when complete)."""
        if self.complete:
            return ""
        of = f" of about {self.expected:,}" if self.expected is not None else ""
        return (
            f"The account mirror is still loading ({self.loaded:,}{of} accounts): "
            "an account not loaded yet cannot be matched"
        )


def status(session: Session) -> MirrorStatus:
    row = sync_state(session)
    return MirrorStatus(bool(row.complete), int(row.full_loaded or 0), row.full_expected)


def count(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(_ACCOUNTS)).scalar_one())


# --- reading ---------------------------------------------------------------------------
def name_blocks(session: Session, blocks: Iterable[str]) -> dict[str, tuple[list[str], list[str]]]:
    """The stored names (and their token-sorted forms) of those of ``blocks`` small enough
    to search; blocks unknown or too common are absent."""
    rows = _rows_in(
        session, "block, members, sorted_members", "account_block_size", "block", blocks,
        " AND members IS NOT NULL",
    )  # fmt: skip
    return {b: (members.split(SEP), ordered.split(SEP)) for b, members, ordered in rows}


_COLUMNS = (
    "id, name, website, owner_id, owner_active, employees, country, phone, last_activity, "
    "open_opportunities"
)


def accounts_where(
    session: Session,
    *,
    ids: Iterable[str] = (),
    name_keys: Iterable[str] = (),
    domains: Iterable[str] = (),
) -> list[Account]:
    """Mirrored accounts with one of these Ids, name keys or web-site domains."""
    found: dict[str, Account] = {}
    for column, values in (("id", ids), ("name_key", name_keys), ("domain", domains)):
        for row in _rows_in(session, _COLUMNS, "account_mirror", column, values):
            if row[0] not in found:
                found[row[0]] = _account(row)
    return list(found.values())


def _rows_in(
    session: Session, columns: str, table: str, column: str, values: Iterable[str], more: str = ""
) -> list[Any]:
    """``SELECT columns FROM table WHERE column IN values`` straight to the driver (a
    batch asks for thousands of values, and building them into a statement cost more than
    the database's work): one array parameter on PostgreSQL, IN lists on SQLite."""
    wanted = sorted(set(values))
    if not wanted:
        return []
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        sql = f"SELECT {columns} FROM {table} WHERE {column} = ANY(%s){more}"
        return list(conn.exec_driver_sql(sql, (wanted,)).fetchall())
    out: list[Any] = []
    for chunk in _chunks(wanted):
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT {columns} FROM {table} WHERE {column} IN ({marks}){more}"
        out += conn.exec_driver_sql(sql, tuple(chunk)).fetchall()
    return out


def _account(row: Any) -> Account:
    i, name, website, owner, active, employees, country, phone, last, opps = row
    if isinstance(last, str):  # SQLite hands dates back as text
        last = date.fromisoformat(last)
    return Account(
        id=i, name=name, website=website, owner_id=owner, owner_active=bool(active),
        employees=employees, country=country, phone=phone, last_activity=last,
        open_opportunities=int(opps or 0),
    )  # fmt: skip


def account_index(
    bind: Engine | Session,
    leads: Sequence[Lead],
    settings: AccountMatching,
    account_ids: Iterable[str] = (),
) -> AccountIndex:
    """The index to match ``leads`` with: every mirrored account any of them could match
    under ``settings`` (plus ``account_ids``, e.g. the accounts of known e-mails)."""
    if not settings.enabled:
        return AccountIndex.build(())
    keys, domains = _lookup_keys(leads, settings)
    with _session(bind) as s:
        probe = AccountIndex.of_blocks(name_blocks(s, _blocks_of(keys)))
        names: set[str] = set()
        for key in keys:
            names |= name_candidates(key, probe, settings)
        found = accounts_where(s, ids=account_ids, name_keys=names, domains=domains)
    return probe.with_accounts(found)


def candidates(
    bind: Engine | Session,
    leads: Sequence[Lead],
    settings: AccountMatching,
    account_ids: Iterable[str] = (),
) -> list[Account]:
    """The accounts :func:`account_index` holds (for callers that want the list)."""
    return list(account_index(bind, leads, settings, account_ids).by_id.values())


def routing_context(
    bind: Engine | Session,
    leads: Sequence[Lead],
    config: RoutingConfig,
    *,
    reps: Mapping[str, RepStatus] | None = None,
    users_active: Mapping[str, bool] | None = None,
    known_emails: Mapping[str, Sequence[KnownEmail]] | None = None,
) -> RoutingContext:
    """The :class:`RoutingContext` to route ``leads`` with, accounts from the mirror (the
    one way the worker, ``simulate`` and What-if build it)."""
    known = dict(known_emails or {})
    ids = {k.account_id for hits in known.values() for k in hits if k.account_id}
    index = account_index(bind, leads, config.account_matching, ids)
    note = ""
    if config.account_matching.enabled and leads:
        with _session(bind) as s:
            note = status(s).note()
    return RoutingContext(
        accounts=tuple(index.by_id.values()), known_emails=known, reps=dict(reps or {}),
        users_active=dict(users_active or {}), account_index=index, account_note=note,
    )  # fmt: skip


def _lookup_keys(leads: Sequence[Lead], s: AccountMatching) -> tuple[set[str], set[str]]:
    """The leads' company keys and the domains (e-mail, web site) their evidence reads."""
    keys: set[str] = set()
    domains: set[str] = set()
    for lead in leads:
        facts = lead_facts(lead)
        if s.by_name and facts.company_key:
            keys.add(facts.company_key)
        if s.by_email_domain and facts.email_domain and not facts.email_is_public:
            domains.add(facts.email_domain)
        if s.by_website and facts.website_domain:
            domains.add(facts.website_domain)
    return keys, domains


def _blocks_of(keys: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for key in keys:
        out |= blocking_keys(key)
    return out


class _session:  # noqa: N801 - used like a function: ``with _session(bind) as s``
    """A read session on an engine, or the caller's session as it is."""

    def __init__(self, bind: Engine | Session) -> None:
        self.bind = bind
        self.own: Session | None = None

    def __enter__(self) -> Session:
        if isinstance(self.bind, Session):
            return self.bind
        self.own = Session(self.bind)
        return self.own

    def __exit__(self, *exc: object) -> None:
        if self.own is not None:
            self.own.close()
