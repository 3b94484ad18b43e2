"""The routing section's versions in the store, on SQLite and PostgreSQL: publishing,
history, rollback, the shared draft and its optimistic revision check."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from worker.store import config_versions_repo as repo
from worker.store.db import make_engine, upgrade
from worker.store.team_repo import Actor, PermissionDenied

pytestmark = pytest.mark.integration

RITA, MO = Actor("rita", "admin"), Actor("mo", "admin")
V1 = "version: 1\nreps: []\npools: {}\nrules: []\n"
V2 = "version: 1\nreps: []\npools: {}\nrules: [{name: All, action: hold}]\n"


@pytest.fixture
def engine(store_url: str):  # type: ignore[no-untyped-def]
    upgrade(store_url)
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


def _published_number(engine) -> int | None:  # type: ignore[no-untyped-def]
    with Session(engine) as s:
        return repo.published_number(s)


def test_publish_numbers_versions_and_archives_the_previous_one(engine) -> None:  # type: ignore[no-untyped-def]
    assert repo.published(engine) is None and _published_number(engine) is None
    first = repo.publish(engine, actor=RITA, body=V1, message="bootstrap")
    second = repo.publish(engine, actor=MO, body=V2, message="  hold all  ")
    assert (first.number, second.number) == (1, 2)
    assert _published_number(engine) == 2
    history = repo.versions(engine)
    assert [(v.number, v.status, v.author, v.message, v.base_number) for v in history] == [
        (2, "published", "mo", "hold all", 1),
        (1, "archived", "rita", "bootstrap", None),
    ]
    assert history[0].created_at.tzinfo is not None
    with Session(engine) as s:
        assert repo.version_body(s, 1) == V1


def test_rollback_publishes_a_copy_and_keeps_the_history(engine) -> None:  # type: ignore[no-untyped-def]
    repo.publish(engine, actor=RITA, body=V1)
    repo.publish(engine, actor=RITA, body=V2)
    back = repo.rollback(engine, actor=MO, number=1, message="too strict")
    assert (back.number, back.body, back.base_number) == (3, V1, 1)
    assert back.message == "roll back to version 1: too strict"
    assert [v.status for v in repo.versions(engine)] == ["published", "archived", "archived"]
    with pytest.raises(LookupError):
        repo.rollback(engine, actor=MO, number=9)


@pytest.mark.parametrize("actor", [None, Actor("v", "viewer"), Actor("", "admin")])
def test_only_an_admin_may_write(engine, actor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        repo.publish(engine, actor=actor, body=V1)
    with pytest.raises(PermissionDenied):
        repo.save_draft(engine, actor=actor, body=V1, based_on=0)
    assert repo.versions(engine) == [] and repo.load_draft(engine) is None


def test_a_save_against_a_stale_revision_is_refused_with_the_current_draft(engine) -> None:  # type: ignore[no-untyped-def]
    first = repo.save_draft(engine, actor=RITA, body=V1, based_on=0)
    assert (first.revision, first.updated_by) == (1, "rita")
    mine = repo.save_draft(engine, actor=MO, body=V2, based_on=1)
    assert mine.revision == 2
    with pytest.raises(repo.StaleDraft) as refused:  # rita still has revision 1 on screen
        repo.save_draft(engine, actor=RITA, body=V1 + "# mine\n", based_on=1)
    assert refused.value.current is not None
    assert (refused.value.current.body, refused.value.current.updated_by) == (V2, "mo")
    assert "mo" in str(refused.value)
    with pytest.raises(repo.StaleDraft):  # a second "first" draft is refused too
        repo.save_draft(engine, actor=RITA, body=V1, based_on=0)
    draft = repo.load_draft(engine)
    assert draft is not None and (draft.body, draft.revision) == (V2, 2)


def test_publishing_the_draft_moves_it_on_and_a_stale_publish_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    repo.publish(engine, actor=RITA, body=V1)
    repo.save_draft(engine, actor=RITA, body=V2, based_on=0, base_number=1)
    with pytest.raises(repo.StaleDraft):
        repo.publish(engine, actor=MO, body=V2, draft_revision=7)
    assert _published_number(engine) == 1
    version = repo.publish(engine, actor=MO, body=V2, draft_revision=1)
    draft = repo.load_draft(engine)
    assert draft is not None and (draft.body, draft.revision, draft.base_number) == (
        V2, 2, version.number,
    )  # fmt: skip


def test_a_publish_from_elsewhere_keeps_pending_draft_edits(engine) -> None:  # type: ignore[no-untyped-def]
    repo.publish(engine, actor=RITA, body=V1)
    repo.save_draft(engine, actor=RITA, body=V2, based_on=0)  # an unpublished edit
    repo.publish(engine, actor=MO, body=V1 + "# from git\n")  # e.g. `config import`
    draft = repo.load_draft(engine)
    assert draft is not None and draft.body == V2  # nothing lost
    repo.save_draft(engine, actor=RITA, body=V1 + "# from git\n", based_on=1)
    repo.publish(engine, actor=MO, body=V1)  # the draft had no edits of its own: it follows
    draft = repo.load_draft(engine)
    assert draft is not None and draft.body == V1


def test_empty_body_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="empty"):
        repo.publish(engine, actor=RITA, body="  \n")
