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
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from worker.routing import _libs, api, matching
from worker.routing.facts import LeadFacts, lead_facts
from worker.routing.matching import (
    AccountIndex,
    account_keys,
    blocking_keys,
    decided_before_names,
    name_candidates,
)
from worker.routing.model import (
    Account,
    AccountMatching,
    KnownEmail,
    Lead,
    RepStatus,
    RoutingConfig,
    RoutingContext,
)
from worker.store.models.accounts import AccountSyncRow, MirroredAccount, MirrorSyncColumns

MAX_IN = 500  # values per IN list (bound parameters stay far below every driver's limit)
# The stored keys (``domain``, ``name_key``, the blocks) are matching.account_keys and
# matching.blocking_keys of the account's fields. When either changes what it returns,
# bump this: the worker then re-reads every account (tests/unit/test_account_mirror_keys.py
# pins their answers to this number).
KEYS_VERSION = 1
SEP = "\n"  # between the names of a block (a name key is words and single spaces)

_ACCOUNTS = MirroredAccount.__table__  # type: ignore[attr-defined]


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
    rows: dict[str, tuple[Any, ...]] = {}
    for account, modstamp in upserts:
        old = current.get(account.id)
        stamp = _utc(modstamp)
        if old is not None and _older(stamp, old[1]):
            continue
        row = _row(account, stamp, generation)
        if old is not None:
            names[old[0]] -= 1
        names[row[KEY_AT]] += 1
        rows[account.id] = row
        current[account.id] = (row[KEY_AT], stamp)
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
    rows = _rows_in(session, "id, name_key, system_modstamp", "account_mirror", "id", ids)
    return {i: (key, _stamp(stamp)) for i, key, stamp in rows}


def _stamp(value: object) -> datetime | None:
    if isinstance(value, str):  # SQLite, read past SQLAlchemy
        value = datetime.fromisoformat(value)
    return _utc(value) if isinstance(value, datetime) else None


def _row(account: Account, modstamp: datetime | None, generation: int) -> tuple[Any, ...]:
    """The row's values in :data:`_UPSERT_ACCOUNT`'s order."""
    domain, key = account_keys(account)
    return (
        account.id, account.name, account.website, account.owner_id, account.owner_active,
        account.employees, (account.country or None) and account.country[:80],
        (account.phone or None) and account.phone[:40], account.last_activity,
        account.open_opportunities, modstamp, domain[:255] if domain else None, key, generation,
    )  # fmt: skip


_ACCOUNT_COLUMNS = (
    "id", "name", "website", "owner_id", "owner_active", "employees", "country", "phone",
    "last_activity", "open_opportunities", "system_modstamp", "domain", "name_key", "generation",
)  # fmt: skip
KEY_AT = _ACCOUNT_COLUMNS.index("name_key")
_DATES = (_ACCOUNT_COLUMNS.index("last_activity"), _ACCOUNT_COLUMNS.index("system_modstamp"))
# Writes go straight to the driver (executemany): a full pass writes a million accounts,
# and SQLAlchemy's per-row parameter handling cost as much as the database's own work.
# The same text runs on SQLite (3.24+) and PostgreSQL (placeholders adapted).
_UPSERT_ACCOUNT = (
    f"INSERT INTO account_mirror ({', '.join(_ACCOUNT_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_ACCOUNT_COLUMNS))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _ACCOUNT_COLUMNS[1:])
)
_UPSERT_SIZE = (
    "INSERT INTO account_block_size (block, names, members, sorted_members) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (block) DO UPDATE SET names = excluded.names, members = excluded.members, "
    "sorted_members = excluded.sorted_members"
)


def _write_rows(session: Session, rows: list[tuple[Any, ...]], gone: list[str]) -> None:
    _many(session, _UPSERT_ACCOUNT, rows, dates=_DATES)
    _delete_in(session, "account_mirror", "id", gone)


def _many(
    session: Session, sql: str, rows: Sequence[tuple[Any, ...]], dates: tuple[int, ...] = ()
) -> None:
    """Run ``sql`` (``?`` placeholders) once per row, by the driver. ``dates``: positions
    of dates and timestamps (SQLite stores them as text)."""
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(sql.replace("?", "%s"), list(rows))
        return
    if dates:
        rows = [_sqlite_dates(row, dates) for row in rows]
    conn.exec_driver_sql(sql, list(rows))


def _sqlite_dates(row: tuple[Any, ...], positions: tuple[int, ...]) -> tuple[Any, ...]:
    """Dates and timestamps as SQLAlchemy stores them in SQLite (UTC, without the zone)."""
    values = list(row)
    for i in positions:
        value = values[i]
        if isinstance(value, datetime):
            values[i] = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        elif isinstance(value, date):
            values[i] = value.isoformat()
    return tuple(values)


def _delete_in(session: Session, table: str, column: str, values: Sequence[str]) -> None:
    for chunk in _chunks(values):
        marks = ", ".join("?" * len(chunk))
        _many(session, f"DELETE FROM {table} WHERE {column} IN ({marks})", [tuple(chunk)])


class _Names:
    """Accounts per name key, and the fuzzy blocks of the names that have accounts."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def change(self, deltas: Mapping[str, int]) -> None:
        deltas = {k: d for k, d in deltas.items() if d}
        if not deltas:
            return
        s = self.session
        rows = _rows_in(s, "name_key, accounts", "account_name", "name_key", deltas)
        before = {k: int(n) for k, n in rows}
        after = {k: before.get(k, 0) + d for k, d in deltas.items()}
        if min(after.values()) < 0:
            raise RuntimeError("account mirror: a name key's account count went below zero")
        added = sorted(k for k, n in after.items() if n and not before.get(k))
        removed = sorted(k for k, n in after.items() if not n and before.get(k))
        kept = [(n, k) for k, n in after.items() if n and before.get(k)]
        _many(s, "INSERT INTO account_name (name_key, accounts) VALUES (?, ?)",
              [(k, after[k]) for k in added])  # fmt: skip
        _many(s, "UPDATE account_name SET accounts = ? WHERE name_key = ?", kept)
        _delete_in(s, "account_name", "name_key", removed)
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
        _many(s, "INSERT INTO account_block (block, name_key) VALUES (?, ?)",
              [(b, n) for b, ns in plus.items() for n in ns])  # fmt: skip
        _many(s, "DELETE FROM account_block WHERE block = ? AND name_key = ?",
              [(b, n) for b, ns in minus.items() for n in ns])  # fmt: skip
        self._resize(plus, minus)

    def _resize(self, plus: Mapping[str, set[str]], minus: Mapping[str, set[str]]) -> None:
        s = self.session
        touched = sorted(plus.keys() | minus.keys())
        rows = _rows_in(s, "block, names, members", "account_block_size", "block", touched)
        before: dict[str, tuple[int, str | None]] = {b: (int(n), m) for b, n, m in rows}
        sizes: list[tuple[Any, ...]] = []
        dropped, rebuild = [], []
        limit = matching.MAX_BLOCK
        for b in touched:
            count, members = before.get(b, (0, ""))
            new = count + len(plus.get(b, ())) - len(minus.get(b, ()))
            if new <= 0:
                dropped.append(b)
            elif new > limit:
                sizes.append((b, new, None, None))
            elif members is None:  # was too big to keep its names: read them again
                rebuild.append((b, new))
            else:
                names = (set(members.split(SEP)) - {""} - minus.get(b, set())) | plus.get(b, set())
                sizes.append(_size_row(b, new, names))
        sizes += [_size_row(b, n, names) for (b, n), names in self._names_of(rebuild)]
        _many(s, _UPSERT_SIZE, sizes)
        _delete_in(s, "account_block_size", "block", dropped)

    def _names_of(
        self, blocks: Sequence[tuple[str, int]]
    ) -> Iterator[tuple[tuple[str, int], set[str]]]:
        found: dict[str, set[str]] = {}
        wanted = [b for b, _ in blocks]
        for b, name in _rows_in(self.session, "block, name_key", "account_block", "block", wanted):
            found.setdefault(b, set()).add(name)
        for b, n in blocks:
            names = found.get(b, set())
            if len(names) != n:
                raise RuntimeError(f"account mirror: block size {n} but {len(names)} names")
            yield (b, n), names


def _size_row(block: str, count: int, names: set[str]) -> tuple[Any, ...]:
    ordered = sorted(names)
    return (
        block, count, SEP.join(ordered), SEP.join(_libs.sorted_tokens(n) for n in ordered)
    )  # fmt: skip


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
def sync_state(session: Session, *, lock: bool = False) -> AccountSyncRow:
    """The sync's row (a fresh one, not yet added, when there is none). ``lock``: held
    until the transaction ends (PostgreSQL), so two writers take turns."""
    return sync_row(session, AccountSyncRow, lock=lock)


SyncRowT = TypeVar("SyncRowT", bound=MirrorSyncColumns)


def sync_row(session: Session, model: type[SyncRowT], *, lock: bool = False) -> SyncRowT:
    """A mirror's sync row (``model``, id 1; a fresh one when there is none), its
    timestamps in UTC; ``lock``: held until the transaction ends (PostgreSQL)."""
    query = select(model).where(model.id == 1)  # type: ignore[arg-type]
    if lock:
        query = query.with_for_update()
    row: SyncRowT | None = session.execute(query).scalars().first()
    if row is None:
        return model(id=1)
    for name, value in vars(row).items():
        if isinstance(value, datetime) and name != "updated_at":
            setattr(row, name, _utc(value))
    return row


def save_sync(session: Session, row: AccountSyncRow) -> None:
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
    sql = "SELECT complete, full_loaded, full_expected FROM account_sync WHERE id = 1"
    row = session.connection().exec_driver_sql(sql).first()  # each batch asks: no ORM
    if row is None:
        return MirrorStatus(False, 0, None)
    return MirrorStatus(bool(row[0]), int(row[1] or 0), row[2])


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
    "open_opportunities, domain, name_key"
)
Found = dict[str, tuple[Account, tuple[str, str]]]  # Id -> (account, (domain, name key))


def accounts_where(
    session: Session,
    *,
    ids: Iterable[str] = (),
    name_keys: Iterable[str] = (),
    domains: Iterable[str] = (),
) -> list[Account]:
    """Mirrored accounts with one of these Ids, name keys or web-site domains."""
    return [a for a, _ in _fetch(session, ids=ids, name_keys=name_keys, domains=domains).values()]


def _fetch(
    session: Session,
    *,
    ids: Iterable[str] = (),
    name_keys: Iterable[str] = (),
    domains: Iterable[str] = (),
    found: Found | None = None,
) -> Found:
    """Accounts (with their stored keys) by Id, name key or domain, added to ``found``."""
    out: Found = {} if found is None else found
    for column, values in (("id", ids), ("name_key", name_keys), ("domain", domains)):
        for row in _rows_in(session, _COLUMNS, "account_mirror", column, values):
            if row[0] not in out:
                out[row[0]] = (_account(row[:10]), (row[10] or "", row[11]))
    return out


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
    known_emails: Mapping[str, Sequence[KnownEmail]] | None = None,
) -> AccountIndex:
    """The index to match ``leads`` with (their ``known_emails`` as the context will hold
    them): every mirrored account any of them could match under ``settings``.

    First the accounts of the leads' domains and known e-mails; then, for the leads those
    do not decide (:func:`~worker.routing.matching.decided_before_names`), the fuzzy blocks
    of their company names and the accounts of the names the search finds."""
    if not settings.enabled or not leads:
        return AccountIndex.build(())
    known = known_emails or {}
    ids = {k.account_id for hits in known.values() for k in hits if k.account_id}
    facts = [lead_facts(lead) for lead in leads]
    with _session(bind) as s:
        found = _fetch(s, ids=ids, domains=_domains(facts, settings))
        first = _with(AccountIndex.of_blocks({}), found)
        keys = {
            f.company_key for f in facts
            if settings.by_name and f.company_key
            and not decided_before_names(f, known, first, settings)
        }  # fmt: skip
        probe = AccountIndex.of_blocks(name_blocks(s, _blocks_of(keys)))
        names: set[str] = set()
        for key in keys:
            names |= name_candidates(key, probe, settings)
        _fetch(s, name_keys=names, found=found)
    return _with(probe, found)


def _with(index: AccountIndex, found: Found) -> AccountIndex:
    accounts = [a for a, _ in found.values()]
    return index.with_accounts(accounts, {i: k for i, (_, k) in found.items()})


def candidates(
    bind: Engine | Session,
    leads: Sequence[Lead],
    settings: AccountMatching,
    known_emails: Mapping[str, Sequence[KnownEmail]] | None = None,
) -> list[Account]:
    """The accounts :func:`account_index` holds (for callers that want the list)."""
    return list(account_index(bind, leads, settings, known_emails).by_id.values())


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
    index = account_index(bind, leads, config.account_matching, known)
    note = ""
    if config.account_matching.enabled and leads:
        with _session(bind) as s:
            note = status(s).note()
    return api.routing_context(
        reps or {}, accounts=index, known_emails=known, users_active=users_active,
        account_note=note,
    )  # fmt: skip


def _domains(facts: Sequence[LeadFacts], s: AccountMatching) -> set[str]:
    """The e-mail and web-site domains the leads' domain evidence reads."""
    out: set[str] = set()
    for f in facts:
        if s.by_email_domain and f.email_domain and not f.email_is_public:
            out.add(f.email_domain)
        if s.by_website and f.website_domain:
            out.add(f.website_domain)
    return out


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
