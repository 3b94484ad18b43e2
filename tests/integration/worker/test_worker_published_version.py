"""A routing change published the way the dashboard's routing editor publishes it (a form
edit saved to the draft, then :func:`worker.config_source.publish_routing`) is what the
worker's next cycle routes by, against the sandbox org, without a restart; a rollback
likewise."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from dashboard.shape import routing_edits
from devkit.sandbox.harness import SandboxHandle
from tests.integration.worker.conftest import REPS, check_invariants, journal
from worker.bootstrap import App
from worker.config_source import publish_routing
from worker.jobs.intake import run_cycle
from worker.store import config_versions_repo as repo
from worker.store.team_repo import Actor

pytestmark = pytest.mark.integration

RITA = Actor("rita", "admin")
OLIVIA = "olivia.moore@acme-sales.example"


def test_the_next_cycle_routes_by_a_published_version_then_by_a_rollback(
    sandbox: SandboxHandle, make_app: Callable[[], App]
) -> None:
    admin = sandbox.admin()
    app = make_app()
    engine = app.deps.engine
    admin.create_leads(12)
    assert run_cycle(app.deps).applied == 12
    assert len({r.rep_key for r in journal(app)}) == len(REPS)  # round robin over everyone
    # the editor: a new pool in the YAML, then the "Add a rule" form at position 1
    text = app.deps.config.file().path.read_text()
    text = text.replace("rules:", f"  solo:\n    members: [{OLIVIA}]\n    fallback: [hold]\nrules:")
    repo.save_draft(engine, actor=RITA, body=text, based_on=0)
    edit = routing_edits.add_rule(
        "All to Olivia", [("LastName", "not_blank", "")], "pool", "solo", position=1
    )
    draft = repo.load_draft(engine)
    assert draft is not None
    body = routing_edits.dump(edit.apply(routing_edits.load(draft.body)))
    repo.save_draft(engine, actor=RITA, body=body, based_on=draft.revision)
    version = publish_routing(
        engine, app.deps.config, actor=RITA, body=body, message="all to Olivia",
        draft_revision=draft.revision + 1,
    )  # fmt: skip
    seen = len(journal(app))
    admin.create_leads(5)
    assert run_cycle(app.deps).applied == 5  # the same worker, its next cycle
    new = journal(app)[seen:]
    assert {(r.rep_key, r.pool) for r in new} == {(OLIVIA, "solo")}
    assert {r.owner_id for r in new} == {admin.user_ids()[OLIVIA]}
    assert version.number == 1
    publish_routing(engine, app.deps.config, actor=RITA, body=text, message="back to all")
    seen = len(journal(app))
    admin.create_leads(6)
    assert run_cycle(app.deps).applied == 6
    assert {r.pool for r in journal(app)[seen:]} == {"sales"}
    repo.rollback(engine, actor=RITA, number=1)  # Olivia's version again, as version 3
    seen = len(journal(app))
    admin.create_leads(3)
    assert run_cycle(app.deps).applied == 3
    assert {r.rep_key for r in journal(app)[seen:]} == {OLIVIA}
    assert check_invariants(app, sandbox) == {"applied": 26}
