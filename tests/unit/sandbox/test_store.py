"""The sandbox org's store: rows in memory, written through to SQLite."""

from __future__ import annotations

import threading
from pathlib import Path

from devkit.sandbox.store import OrgStore
from worker.sfdc.ids import make_id


def lead(seq: int, **values: object) -> dict[str, object]:
    return {"Id": make_id("Lead", seq), "LastName": "L", **values}


def test_deferred_saves_are_visible_at_once_and_written_once_the_block_ends(tmp_path: Path) -> None:
    """A Composite call's subrequests are applied one by one (each visible to the next
    request at once) and reach the file in one transaction at the end."""
    path = tmp_path / "org.sqlite"
    store = OrgStore(path)
    with store.deferred():
        store.save([lead(1, Status="a")])
        assert store.get_row(make_id("Lead", 1))["Status"] == "a"  # type: ignore[index]
        assert OrgStore(path).get_row(make_id("Lead", 1)) is None  # not on file yet
        store.save([lead(2)])
    reopened = OrgStore(path)
    assert reopened.get_row(make_id("Lead", 1))["Status"] == "a"  # type: ignore[index]
    assert reopened.get_row(make_id("Lead", 2)) is not None


def test_a_deferred_write_never_undoes_a_later_save_by_another_thread(tmp_path: Path) -> None:
    path = tmp_path / "org.sqlite"
    store = OrgStore(path)
    with store.deferred():
        store.save([lead(1, Status="ours")])
        other = threading.Thread(target=store.save, args=([lead(1, Status="theirs")],))
        other.start()
        other.join()  # not deferred: on file now
    assert OrgStore(path).get_row(make_id("Lead", 1))["Status"] == "theirs"  # type: ignore[index]
