"""Versions of the routing section: rows of ``config_version`` <-> domain values.

- **Published versions** are numbered 1, 2, 3... At most one is ``published`` (the one the
  worker routes by, see :mod:`worker.config_source`); publishing another archives it.
  A rollback publishes a copy of an older version as a new number, so the history keeps
  who did what and when.
- **The draft** is one shared row that every editor saves into. Each save names the
  ``revision`` it was based on; a save against a stale revision is refused with
  :class:`StaleDraft`, which carries the current draft, so the editor can be told what
  the other save changed and nothing is lost (the refused text stays with the caller).

Every write takes the signed-in :class:`Actor` and refuses anyone who is not an admin
(:func:`worker.store.team_repo.require_admin`). Validation of the YAML is the caller's
(:mod:`worker.config_source` owns the checks of ``config check``): the store keeps text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from worker.store.db import session_scope
from worker.store.models.config_version import ConfigVersionRow
from worker.store.team_repo import Actor, require_admin

R: Any = ConfigVersionRow
DRAFT, PUBLISHED, ARCHIVED = "draft", "published", "archived"
MAX_BODY_CHARS = 2_000_000  # the loader's own limit for a routing config


@dataclass(frozen=True)
class ConfigVersion:
    """A published (or formerly published) version of the routing section."""

    number: int
    status: str  # published | archived
    body: str  # YAML
    author: str
    created_at: datetime
    message: str
    base_number: int | None  # the version it was edited from, or rolled back to


@dataclass(frozen=True)
class Draft:
    """The shared draft: its text, its save counter, who saved it last and when."""

    body: str
    revision: int
    base_number: int | None  # the published version it started from
    updated_by: str
    updated_at: datetime


class StaleDraft(RuntimeError):
    """Someone saved (or published) the draft since this editor loaded it."""

    def __init__(self, current: Draft | None, based_on: int) -> None:
        who = f" by {current.updated_by}" if current else ""
        now = current.revision if current else 0
        super().__init__(
            f"the draft was saved{who} since you loaded it (revision {based_on} -> {now})"
        )
        self.current = current
        self.based_on = based_on


class PublishConflict(RuntimeError):
    """Another version was published at the same moment: nothing was published."""


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _version(row: ConfigVersionRow) -> ConfigVersion:
    assert row.number is not None
    return ConfigVersion(
        number=row.number,
        status=row.status,
        body=row.body,
        author=row.author,
        created_at=_utc(row.created_at),
        message=row.message or "",
        base_number=row.base_number,
    )


def _draft(row: ConfigVersionRow) -> Draft:
    return Draft(row.body, row.revision, row.base_number, row.author, _utc(row.created_at))


def _check_body(body: str) -> None:
    if not body.strip():
        raise ValueError("the routing config is empty")
    if len(body) > MAX_BODY_CHARS:
        raise ValueError(f"larger than {MAX_BODY_CHARS:,} characters: not a routing config")


# -- reads -------------------------------------------------------------------------------


def published_number(session: Session) -> int | None:
    """The number of the published version, or None: one indexed lookup, cheap enough for
    every worker cycle."""
    return session.exec(select(R.number).where(R.status == PUBLISHED)).first()


def version_body(session: Session, number: int) -> str | None:
    return session.exec(select(R.body).where(R.number == number)).first()


def published(engine: Engine) -> ConfigVersion | None:
    with Session(engine) as s:
        row = s.exec(select(R).where(R.status == PUBLISHED)).first()
        return _version(row) if row is not None else None


def get_version(engine: Engine, number: int) -> ConfigVersion | None:
    with Session(engine) as s:
        row = s.exec(select(R).where(R.number == number)).first()
        return _version(row) if row is not None else None


def versions(engine: Engine, limit: int = 500) -> list[ConfigVersion]:
    """The history, newest first."""
    with Session(engine) as s:
        rows = s.exec(
            select(R).where(R.number.is_not(None)).order_by(R.number.desc()).limit(limit)
        ).all()
        return [_version(r) for r in rows]


def load_draft(engine: Engine) -> Draft | None:
    with Session(engine) as s:
        row = s.exec(select(R).where(R.draft_slot == 1)).first()
        return _draft(row) if row is not None else None


# -- writes ------------------------------------------------------------------------------


def save_draft(
    engine: Engine,
    *,
    actor: Actor | None,
    body: str,
    based_on: int,
    base_number: int | None = None,
    now: datetime | None = None,
) -> Draft:
    """Save ``body`` as the draft if its revision is still ``based_on`` (0: there was no
    draft yet); returns the saved draft (revision ``based_on + 1``).

    Raises :class:`StaleDraft` (carrying the current draft) when another save came first,
    ``PermissionDenied`` for a non-admin, ``ValueError`` for an empty body."""
    who = require_admin(actor)
    _check_body(body)
    at = now or datetime.now(UTC)
    try:
        with session_scope(engine) as s:
            if based_on == 0:
                s.add(
                    ConfigVersionRow(
                        status=DRAFT,
                        draft_slot=1,
                        body=body,
                        author=who.username,
                        created_at=at,
                        base_number=base_number,
                        revision=1,
                    )  # fmt: skip
                )
                s.flush()
            else:
                values: dict[str, Any] = {
                    "body": body, "author": who.username, "created_at": at,
                    "revision": based_on + 1,
                }  # fmt: skip
                if base_number is not None:
                    values["base_number"] = base_number
                done = s.exec(  # type: ignore[call-overload]
                    update(R).where(R.draft_slot == 1, R.revision == based_on).values(**values)
                )
                if done.rowcount != 1:
                    raise StaleDraft(None, based_on)
    except (IntegrityError, StaleDraft):
        raise StaleDraft(load_draft(engine), based_on) from None
    saved = load_draft(engine)
    assert saved is not None
    return saved


def publish(
    engine: Engine,
    *,
    actor: Actor | None,
    body: str,
    message: str = "",
    base_number: int | None = None,
    draft_revision: int | None = None,
    now: datetime | None = None,
) -> ConfigVersion:
    """Publish ``body`` as the next version number (the published one is archived).

    ``draft_revision``: the draft revision this body is (publishing from the editor); a
    stale one raises :class:`StaleDraft` and nothing is published. The draft then follows
    the new version when it is the one published or had no edits of its own (it equalled
    the version that was published); pending edits of someone else stay in the draft.
    Raises :class:`PublishConflict` when another publish won the race."""
    who = require_admin(actor)
    _check_body(body)
    at = now or datetime.now(UTC)
    try:
        with session_scope(engine) as s:
            draft = s.exec(select(R).where(R.draft_slot == 1)).first()
            if draft_revision is not None and (draft is None or draft.revision != draft_revision):
                raise StaleDraft(_draft(draft) if draft else None, draft_revision)
            current = s.exec(select(R).where(R.status == PUBLISHED)).first()
            last = s.exec(select(func.max(R.number))).one()
            number = int(last or 0) + 1
            if current is not None:
                current.status = ARCHIVED
                s.add(current)
            row = ConfigVersionRow(
                number=number, status=PUBLISHED, body=body, author=who.username,
                created_at=at, message=message.strip()[:2000] or None,
                base_number=base_number if base_number is not None else
                (current.number if current is not None else None),
            )  # fmt: skip
            s.add(row)
            unchanged = draft is not None and current is not None and draft.body == current.body
            if draft is not None and (draft_revision is not None or unchanged):
                draft.body, draft.base_number = body, number
                draft.revision += 1
                draft.author, draft.created_at = who.username, at
                s.add(draft)
            s.flush()
            return _version(row)
    except IntegrityError:
        raise PublishConflict(
            "another version was published at the same moment: nothing was published, "
            "look at the history and try again"
        ) from None


def rollback(
    engine: Engine,
    *,
    actor: Actor | None,
    number: int,
    message: str = "",
    now: datetime | None = None,
) -> ConfigVersion:
    """Publish version ``number`` again, as a new version (the history keeps both)."""
    require_admin(actor)
    target = get_version(engine, number)
    if target is None:
        raise LookupError(f"no version {number}")
    why = f"roll back to version {number}" + (f": {message.strip()}" if message.strip() else "")
    return publish(engine, actor=actor, body=target.body, message=why, base_number=number, now=now)
