from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotguard.domain.intervals import Interval

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_back_to_back_intervals_do_not_overlap() -> None:
    assert not Interval(at(0), at(30)).overlaps(Interval(at(30), at(60)))


def test_intervals_sharing_a_minute_overlap() -> None:
    assert Interval(at(0), at(31)).overlaps(Interval(at(30), at(60)))


def test_buffers_widen_both_ends() -> None:
    assert Interval(at(0), at(30)).widened(10, 5) == Interval(at(-10), at(35))


def test_naive_or_empty_intervals_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        Interval(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="after"):
        Interval(at(30), at(30))


spans = st.tuples(st.integers(0, 500), st.integers(1, 200)).map(lambda p: Interval(at(p[0]), at(p[0] + p[1])))


@given(spans, spans)
def test_overlap_is_symmetric_and_matches_shared_minutes(a: Interval, b: Interval) -> None:
    shared = min(a.end_at, b.end_at) > max(a.start_at, b.start_at)
    assert a.overlaps(b) == b.overlaps(a) == shared
