"""The guard before an owner write: the owners as just re-read, judged against what each
decision may replace. A lead whose owner is no longer what we expected (the intake queue
for a first routing, the previous rep for an SLA hop) is skipped as "owner changed by
someone else" (adding "our write may have landed first" when a PATCH of it may already
have been sent); a deleted or converted lead is closed out; a lead already owned by the
decided rep is applied when our PATCH may have landed (a crash, a lost answer) and the
lead was last modified by us or by that rep, and skipped otherwise (a person chose that
rep)."""

from __future__ import annotations

from worker.jobs.write_items import OWNER_CHANGED, OWNER_CHANGED_AFTER_SEND, Outcomes, WriteItem
from worker.sfdc.ids import is_user_id
from worker.sfdc.mapping import OwnerRow


def judge(owners: dict[str, OwnerRow], items: list[WriteItem], out: Outcomes) -> list[WriteItem]:
    """Sort ``items`` by their re-read ``owners`` into ``out``; return those to write."""
    ready = []
    for item in items:
        row = owners.get(item.lead_id)
        if row is None:
            out.skip("lead deleted", item)
        elif row.owner_id == item.owner_id:
            # our earlier PATCH landed (its answer was lost, or we died before journaling
            # it) when we made the last change, or the rep we wrote has worked the lead
            # since (their own edit, e.g. a status), or the rep we moved it FROM has (an
            # edit racing our SLA move: they did not pick our rep, our write did); else a
            # person chose this rep, or someone else made the last change: not ours
            if item.sent and _ours(row, item):
                out.applied.append(item)
            else:
                out.skip(_changed(item), item)
        elif row.is_converted:
            out.skip("lead converted", item)
        elif row.owner_id not in item.expected:
            out.skip(_changed(item), item)
        else:
            ready.append(item)
    return ready


def _changed(item: WriteItem) -> str:
    """Why a lead whose owner someone else changed is skipped: a decision that may have
    been sent says our write may have landed before that change."""
    return OWNER_CHANGED_AFTER_SEND if item.sent else OWNER_CHANGED


def _ours(row: OwnerRow, item: WriteItem) -> bool:
    """Whether a lead already owned by ``item``'s rep got that owner from our write."""
    if row.modified_by_us is not False or row.modified_by_owner:
        return True
    previous = {owner[:15] for owner in item.expected if is_user_id(owner)}
    return row.modified_by is not None and row.modified_by in previous
