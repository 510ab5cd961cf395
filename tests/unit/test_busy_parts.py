"""How a calendar's busy times are cut into the claims that store them: joined, cut where time is already
claimed, no part longer than a claim may be."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from slotguard.domain.calendars import busy_parts, merged
from slotguard.domain.intervals import Interval

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)
DAY = timedelta(days=1)


def span(start: int, end: int) -> Interval:
    """Minutes from T0."""
    return Interval(T0 + timedelta(minutes=start), T0 + timedelta(minutes=end))


def test_overlapping_and_touching_busy_times_are_joined() -> None:
    assert merged([span(60, 120), span(0, 30), span(20, 60), span(200, 210)]) == [span(0, 120), span(200, 210)]


def test_the_part_over_a_claim_is_kept_apart_and_the_rest_blocks() -> None:
    parts = busy_parts([span(0, 180)], [span(60, 90), span(170, 240), span(300, 330)], DAY)
    assert parts.blocking == [span(0, 60), span(90, 170)]
    assert parts.over_claims == [span(60, 90), span(170, 180)]


def test_a_claim_reaching_over_two_busy_times_is_under_both() -> None:
    parts = busy_parts([span(0, 60), span(90, 150)], [span(30, 120)], DAY)
    assert parts.blocking == [span(0, 30), span(120, 150)]
    assert parts.over_claims == [span(30, 60), span(90, 120)]


def test_a_long_busy_time_is_cut_into_parts_of_a_day_at_most() -> None:
    week = Interval(T0, T0 + 7 * DAY + timedelta(hours=1))
    parts = busy_parts([week], [], DAY)
    assert len(parts.blocking) == 8 and all(p.end_at - p.start_at <= DAY for p in parts.blocking)
    assert merged(parts.blocking) == [week]


minutes = st.integers(min_value=0, max_value=5000)
intervals = st.lists(st.tuples(minutes, st.integers(min_value=1, max_value=3000)), max_size=12).map(
    lambda pairs: [span(start, start + length) for start, length in pairs]
)


@given(intervals, intervals)
def test_the_parts_cover_the_busy_times_exactly_and_only_the_flagged_ones_meet_a_claim(
    busy: list[Interval], claimed: list[Interval]
) -> None:
    parts = busy_parts(busy, claimed, DAY)
    every = parts.blocking + parts.over_claims
    assert merged(every) == merged(busy)
    assert all(not a.overlaps(b) for i, a in enumerate(every) for b in every[i + 1 :])
    assert all(p.end_at - p.start_at <= DAY for p in every)
    assert not any(p.overlaps(c) for p in parts.blocking for c in claimed)
    assert all(any(c.contains(p) for c in merged(claimed)) for p in parts.over_claims)
