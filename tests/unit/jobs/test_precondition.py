"""When a re-read gives a precondition that sees every later change, and how long a lead
re-read too early waits (If-Unmodified-Since has whole seconds)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from worker.jobs.precondition import (
    CLOCK_SKEW,
    LONGEST_WAIT,
    preconditions,
    split_settled,
    unsettled_seconds,
)
from worker.sfdc.mapping import OwnerRow

S = datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC)  # the second of the lead's last change
SKEW = CLOCK_SKEW.total_seconds()


def row(
    changed: datetime | None = S,
    read: datetime | None = S,
    modstamp: datetime | None = None,
    lead: str = "00QA",
) -> OwnerRow:
    return OwnerRow(lead, "00GQUEUE", False, modified_at=changed, read_at=read, modstamp=modstamp)


@dataclass(frozen=True)
class Item:
    lead_id: str


def test_a_lead_read_within_the_second_of_its_last_change_waits_out_the_rest_of_it() -> None:
    """Read 0.3 s into the second it was created in: a person's change later in that
    second would keep its stamp, so it waits 0.7 s (and the clock margin), not 1 s."""
    assert unsettled_seconds(row(read=S + timedelta(milliseconds=300))) == pytest.approx(0.7 + SKEW)


def test_a_lead_read_in_a_later_second_is_written_at_once() -> None:
    assert unsettled_seconds(row(read=S + timedelta(seconds=1) + CLOCK_SKEW)) == 0.0
    assert unsettled_seconds(row(read=S + timedelta(minutes=5))) == 0.0


def test_just_past_the_second_still_waits_for_the_clock_margin() -> None:
    assert unsettled_seconds(row(read=S + timedelta(seconds=1))) == pytest.approx(SKEW)


def test_the_later_of_the_two_stamps_counts() -> None:
    """An automated change (SystemModstamp) after a person's (LastModifiedDate): if that
    is the stamp Salesforce compares, a read in its second is just as blind."""
    late = S + timedelta(seconds=3)
    assert row(modstamp=late).changed_at == late
    assert unsettled_seconds(row(modstamp=late, read=late + timedelta(milliseconds=500))) > 0
    assert row(changed=late, modstamp=S).changed_at == late  # whichever is later
    assert row(changed=None, modstamp=None).changed_at is None


def test_without_a_clock_or_a_stamp_nothing_waits() -> None:
    assert unsettled_seconds(row(read=None)) == 0.0
    assert unsettled_seconds(row(changed=None)) == 0.0


def test_a_stamp_from_the_future_is_not_waited_for() -> None:
    """Salesforce stamps its own system fields: a stamp far ahead of its clock is broken
    data; waiting would not make the lead safe and would hold every later write."""
    assert unsettled_seconds(row(read=S - timedelta(hours=1))) == 0.0
    early = S + timedelta(seconds=1) + CLOCK_SKEW - timedelta(seconds=LONGEST_WAIT)
    assert unsettled_seconds(row(read=early)) == pytest.approx(LONGEST_WAIT)


def test_split_holds_back_only_the_unsettled_and_says_for_how_long() -> None:
    owners = {
        "00QA": row(read=S + timedelta(milliseconds=100), lead="00QA"),
        "00QB": row(changed=S - timedelta(seconds=30), read=S + timedelta(milliseconds=100),
                    lead="00QB"),
        "00QC": row(read=S + timedelta(milliseconds=600), lead="00QC"),
    }  # fmt: skip
    now, later, wait = split_settled(owners, [Item("00QA"), Item("00QB"), Item("00QC")])
    assert now == [Item("00QB")]
    assert later == [Item("00QA"), Item("00QC")]
    assert wait == pytest.approx(0.9 + SKEW)  # the longest of the two
    assert preconditions(owners, now) == {"00QB": S - timedelta(seconds=30)}


@settings(max_examples=500, deadline=None)
@given(
    changed=st.floats(0, 100, allow_nan=False),  # the last change, Salesforce's true time
    read_after=st.floats(0, 3, allow_nan=False),  # the re-read, that long after it
    slack=st.floats(0, 1.2, allow_nan=False),  # how far below the truth read_at may be
    change_after=st.floats(1e-6, 5, allow_nan=False),  # a person's change after the read
    truncate=st.booleans(),  # Salesforce's stamps truncate, or round, to the second
)
def test_a_change_after_a_settled_read_is_always_stamped_later_than_the_precondition(
    changed: float, read_after: float, slack: float, change_after: float, truncate: bool
) -> None:
    """The argument in worker.jobs.precondition, checked: whenever the re-read is judged
    settled (or the lead waits as told and is read again), any change made after that
    read carries a stamp later than the precondition, so If-Unmodified-Since refuses our
    write. read_at is a bound from below (up to ``slack`` under the truth)."""
    base = S.timestamp()

    def stamp(t: float) -> float:
        return float(math.floor(t) if truncate else round(t))

    precondition = stamp(base + changed)
    read = base + changed + read_after
    known = row(
        changed=datetime.fromtimestamp(precondition, UTC),
        read=datetime.fromtimestamp(read - slack, UTC),
    )
    wait = unsettled_seconds(known)
    if wait:  # held back: re-read that long after (its bound moves on with the clock)
        read += wait
        known = row(changed=known.changed_at, read=datetime.fromtimestamp(read - slack, UTC))
        assert unsettled_seconds(known) < 1e-5  # settled (a microsecond of float rounding)
    assert stamp(read + change_after) > precondition
