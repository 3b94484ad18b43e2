"""The write-back's groups overlap (:func:`worker.jobs.send_owners.send_all`): the next
group's owner re-read goes out while the group before is still writing, no more than
``GROUPS_IN_FLIGHT`` groups at once, and every guarantee holds as in turn."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import pytest

from tests.unit.jobs.fakes import QUEUE_ID, T0, FakeGateway
from worker.jobs.deps import Deps
from worker.jobs.send_owners import GROUPS_IN_FLIGHT, send_all
from worker.jobs.write_items import WriteItem, merged
from worker.sfdc.mapping import OwnerRow, OwnerUpdate, WriteResult

REP = "005ann000000000000"
PERSON_REP = "005person000000000"
GUARD = 5.0  # seconds: a guard against a hang, never a measurement


class GatedOrg(FakeGateway):
    """A fake org whose PATCHes of each group wait for that group's gate, and which logs
    the re-reads and the PATCHes done, in the order they happen."""

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.group_of: dict[str, int] = {}
        self.gates: dict[int, threading.Event] = {}
        self.log: list[str] = []
        self.seen: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def event(self, name: str) -> threading.Event:
        with self._lock:
            return self.seen.setdefault(name, threading.Event())

    def _note(self, name: str) -> None:
        with self._lock:
            self.log.append(name)
        self.event(name).set()

    def current_owners(self, lead_ids: Sequence[str]) -> dict[str, OwnerRow]:
        self._note(f"read {self.group_of[lead_ids[0]]}")
        return super().current_owners(lead_ids)

    def update_owners(
        self,
        updates: Sequence[OwnerUpdate],
        *,
        unmodified_since: Mapping[str, datetime] | None = None,
    ) -> list[WriteResult]:
        group = self.group_of[updates[0].lead_id]
        self._note(f"patch {group}")
        assert self.gates[group].wait(GUARD), f"group {group}'s gate never opened"
        with self._lock:
            results = super().update_owners(updates, unmodified_since=unmodified_since)
        self._note(f"written {group}")
        return results


@pytest.fixture
def gated() -> GatedOrg:
    return GatedOrg()


def _items(org: GatedOrg, groups: int, per_group: int) -> list[WriteItem]:
    items = []
    for g in range(groups):
        org.gates[g] = threading.Event()
        for n in range(per_group):
            lead = f"00Q{g:03d}{n:012d}"
            # changed well before the re-read: its precondition is settled at once
            org.add_lead(lead, at=T0 - timedelta(seconds=10))
            org.group_of[lead] = g
            items.append(WriteItem(len(items) + 1, lead, REP, frozenset({QUEUE_ID}), None, None))
    return items


def _deps(make_deps: Callable[..., Deps], org: GatedOrg) -> Deps:
    deps = make_deps()
    deps.gateway = org
    deps.write_concurrency = 1  # a group of 200 leads
    deps.conditional_concurrency = 2  # Composite calls of 25 in flight per group
    return deps


def _in_thread(fn: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_the_next_groups_owners_are_re_read_while_the_group_before_is_still_writing(
    make_deps: Callable[..., Deps], gated: GatedOrg
) -> None:
    deps = _deps(make_deps, gated)
    items = _items(gated, groups=2, per_group=200)
    thread, out = _in_thread(lambda: send_all(deps, items))
    # group 0's PATCHes are held at their gate: group 1 is read (and sent) all the same
    assert gated.event("read 1").wait(GUARD)
    assert gated.event("patch 1").wait(GUARD)
    assert "written 0" not in gated.log
    gated.gates[0].set()
    gated.gates[1].set()
    thread.join(GUARD)
    assert not thread.is_alive()
    (rounds,) = out
    assert isinstance(rounds, list)
    done = merged(rounds)
    assert sorted(i.lead_id for i in done.applied) == sorted(i.lead_id for i in items)
    assert all(gated.owner(i.lead_id) == REP for i in items)
    # the rounds come back in group order, whatever order their answers came in
    assert [r.applied[0].lead_id for r in rounds] == [items[0].lead_id, items[200].lead_id]
    # each group re-read its own owners before its own PATCHes
    assert gated.log.index("read 0") < gated.log.index("patch 0")
    assert gated.log.index("read 1") < gated.log.index("patch 1")


def test_no_more_than_groups_in_flight_groups_at_once(
    make_deps: Callable[..., Deps], gated: GatedOrg
) -> None:
    assert GROUPS_IN_FLIGHT == 2
    deps = _deps(make_deps, gated)
    items = _items(gated, groups=3, per_group=200)
    thread, _ = _in_thread(lambda: send_all(deps, items))
    assert gated.event("patch 1").wait(GUARD)  # groups 0 and 1 in flight
    assert "read 2" not in gated.log
    gated.gates[0].set()  # group 0 done: now there is room for group 2
    assert gated.event("read 2").wait(GUARD)
    assert gated.log.index("read 2") > max(
        i for i, name in enumerate(gated.log) if name == "written 0"
    )
    gated.gates[1].set()
    gated.gates[2].set()
    thread.join(GUARD)
    assert not thread.is_alive()
    assert all(gated.owner(i.lead_id) == REP for i in items)


def test_a_person_who_takes_a_lead_while_the_group_before_writes_keeps_it(
    make_deps: Callable[..., Deps], gated: GatedOrg
) -> None:
    """The overlap re-reads group 1 while group 0 writes; a person's change after that
    re-read is refused by the precondition and re-judged: never overwritten."""
    deps = _deps(make_deps, gated)
    items = _items(gated, groups=2, per_group=200)
    taken = items[250].lead_id
    thread, out = _in_thread(lambda: send_all(deps, items))
    assert gated.event("read 1").wait(GUARD)
    gated.tick(2)  # a later second than the re-read
    with gated._lock:
        gated.set_owner(taken, PERSON_REP)
    gated.gates[0].set()
    gated.gates[1].set()
    thread.join(GUARD)
    assert not thread.is_alive()
    (rounds,) = out
    assert isinstance(rounds, list)
    done = merged(rounds)
    assert gated.owner(taken) == PERSON_REP
    assert taken not in {i.lead_id for i in done.applied}
    assert len(done.applied) == len(items) - 1


def test_a_group_that_fails_stops_the_groups_not_yet_started(
    make_deps: Callable[..., Deps], gated: GatedOrg
) -> None:
    deps = _deps(make_deps, gated)
    items = _items(gated, groups=4, per_group=200)
    broken = items[0].lead_id

    def fail_group_0(updates: Sequence[OwnerUpdate], **kw: object) -> list[WriteResult]:
        if updates[0].lead_id == broken:
            raise RuntimeError("a bug in group 0")
        return GatedOrg.update_owners(gated, updates, **kw)  # type: ignore[arg-type]

    gated.update_owners = fail_group_0  # type: ignore[method-assign]
    for gate in gated.gates.values():
        gate.set()
    with pytest.raises(RuntimeError, match="group 0"):
        send_all(deps, items)
    # group 1 may have started beside it; groups 2 and 3 never did: their decisions stay
    # pending in the journal, for reconcile
    assert all(gated.owner(i.lead_id) == QUEUE_ID for i in items[400:])
