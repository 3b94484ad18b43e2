"""The simulated reps: they work their leads, except the pairs they neglect and every
lead of an idle rep (so the demo's SLA re-assigns some)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_an_idle_rep_works_none_of_their_leads_and_the_others_work_theirs(sandbox) -> None:  # type: ignore[no-untyped-def]
    admin = sandbox.admin()
    users = admin.user_ids()
    idle, busy = "daniel.thomas@acme-sales.example", "olivia.moore@acme-sales.example"
    ids = admin.create_leads(count=20)
    for n, lead_id in enumerate(ids):
        admin.change_owner(lead_id, users[idle if n % 2 else busy])
    touched = admin.simulate_activity(fraction=1.0, seed=1, idle=[idle.upper()])
    statuses = {lead_id: admin.get_lead(lead_id)["Status"] for lead_id in ids}
    assert touched["calls"] == 10
    assert all(statuses[i] == "Open - Not Contacted" for n, i in enumerate(ids) if n % 2)
