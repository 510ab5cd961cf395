from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from slotguard.domain import availability
from slotguard.domain.claims import Policy
from slotguard.domain.intervals import Interval
from tests.unit.builders import rules, service, staff, utc

MONDAY = date(2026, 6, 1)
NOW = utc("2026-05-01T00:00:00")


def test_grid_starts_fill_working_hours_and_the_service_fits_before_closing() -> None:
    starts = availability.candidate_starts(rules(), service(60), staff(), MONDAY, NOW)
    # Berlin is UTC+2 in June: 09:00 local = 07:00Z; the last 60-minute start is 16:00 local.
    assert starts[0] == utc("2026-06-01T07:00:00")
    assert starts[-1] == utc("2026-06-01T14:00:00")
    assert len(starts) == 29  # 09:00 .. 16:00 every 15 minutes


def test_a_closed_day_offers_nothing() -> None:
    assert availability.candidate_starts(rules(), service(), staff({"tue": [["09:00", "17:00"]]}), MONDAY, NOW) == []


def test_minimum_notice_and_horizon_cut_the_day() -> None:
    now = utc("2026-06-01T09:00:00")  # 11:00 in Berlin
    starts = availability.candidate_starts(rules(min_notice_minutes=120), service(), staff(), MONDAY, now)
    assert starts[0] == utc("2026-06-01T11:00:00")  # 13:00 local, two hours from now
    assert availability.candidate_starts(rules(horizon_days=10), service(), staff(), MONDAY, NOW) == []


def test_time_off_removes_the_starts_it_touches() -> None:
    off = (Interval(utc("2026-06-01T08:00:00"), utc("2026-06-01T09:00:00")),)
    starts = availability.candidate_starts(rules(), service(30), staff(time_off=off), MONDAY, NOW)
    assert utc("2026-06-01T07:30:00") in starts  # ends exactly when time off starts
    assert utc("2026-06-01T07:45:00") not in starts
    assert utc("2026-06-01T08:30:00") not in starts
    assert utc("2026-06-01T09:00:00") in starts


def test_buffers_keep_a_gap_after_an_existing_booking() -> None:
    cut = service(30, after=15)
    busy = [cut.block_for(Interval.of_minutes(utc("2026-06-01T08:00:00"), 30))]  # 10:00-10:45 local with buffer
    free = availability.free_starts(rules(), cut, staff(), busy, MONDAY, NOW)
    assert utc("2026-06-01T07:15:00") in free  # 09:15-09:45 + buffer to 10:00: back to back
    assert utc("2026-06-01T07:30:00") not in free  # its buffer would run into 10:00
    assert utc("2026-06-01T08:30:00") not in free  # inside the other's buffer
    assert utc("2026-06-01T08:45:00") in free


def test_spring_forward_keeps_wall_clock_hours() -> None:
    # Europe/Berlin jumps from 02:00 to 03:00 on 2026-03-29: 09:00 local is 07:00Z that day, 08:00Z the day before.
    before = availability.candidate_starts(rules(), service(), staff(), date(2026, 3, 28), utc("2026-03-01T00:00:00"))
    after = availability.candidate_starts(rules(), service(), staff(), date(2026, 3, 29), utc("2026-03-01T00:00:00"))
    assert before[0] == utc("2026-03-28T08:00:00")
    assert after[0] == utc("2026-03-29T07:00:00")


def test_a_wall_time_skipped_by_dst_is_never_offered_and_a_repeated_one_is_offered_twice() -> None:
    night = staff({"sun": [["00:00", "24:00"]]})
    spring = availability.candidate_starts(rules(), service(15), night, date(2026, 3, 29), utc("2026-03-01T00:00:00"))
    local = [s.astimezone(rules().zone).strftime("%H:%M") for s in spring]
    assert "02:30" not in local
    assert len(spring) == 23 * 4
    autumn = availability.candidate_starts(rules(), service(15), night, date(2026, 10, 25), utc("2026-10-01T00:00:00"))
    assert [s.astimezone(rules().zone).strftime("%H:%M") for s in autumn].count("02:30") == 2
    assert len(autumn) == 25 * 4


def test_nearest_openings_come_nearest_first_and_skip_the_taken_time() -> None:
    member = staff()
    taken = utc("2026-06-01T08:00:00")
    busy = {member.id: [Interval.of_minutes(taken, 30)]}
    days = availability.days_around(MONDAY, 1)
    found = availability.nearest_openings(rules(), service(30), [member], busy, taken, NOW, days, limit=5)
    assert [o.start_at for o in found] == [
        utc("2026-06-01T07:30:00"),
        utc("2026-06-01T08:30:00"),
        utc("2026-06-01T07:15:00"),
        utc("2026-06-01T08:45:00"),
        utc("2026-06-01T07:00:00"),
    ]


@settings(max_examples=60, deadline=None)
@given(
    busy_starts=st.lists(st.integers(0, 40), max_size=8),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    after=st.sampled_from([0, 5, 15]),
)
def test_no_offered_time_overlaps_a_busy_block(busy_starts: list[int], duration: int, after: int) -> None:
    cut = service(duration, after=after)
    member = staff()
    day_start = utc("2026-06-01T07:00:00")
    busy = [cut.block_for(Interval.of_minutes(day_start + timedelta(minutes=15 * n), duration)) for n in busy_starts]
    for start in availability.free_starts(rules(), cut, member, busy, MONDAY, NOW):
        block = cut.block_for(Interval.of_minutes(start, duration))
        assert not any(block.overlaps(b) for b in busy)


@settings(max_examples=60, deadline=None)
@given(
    busy_hours=st.lists(st.integers(0, 24 * 9), max_size=60),
    requested_hour=st.integers(0, 24 * 9),
    limit=st.integers(1, 6),
)
def test_nearest_first_search_finds_what_searching_every_day_finds(
    busy_hours: list[int], requested_hour: int, limit: int
) -> None:
    cut = service(60)
    member = staff({"mon": [["09:00", "11:00"]], "wed": [["13:00", "17:00"]], "sat": [["00:00", "24:00"]]})
    start = utc("2026-05-31T22:00:00")  # local midnight before MONDAY
    busy = {member.id: [Interval.of_minutes(start + timedelta(hours=h), 60) for h in busy_hours]}
    requested = start + timedelta(hours=requested_hour, minutes=15)
    days = availability.days_around(MONDAY + timedelta(days=4), 7)
    everything = [o for day in days for o in availability.openings(rules(), cut, [member], busy, day, NOW)]
    everything.sort(key=lambda o: (abs(o.start_at - requested), o.start_at))
    found = availability.nearest_openings(rules(), cut, [member], busy, requested, NOW, days, limit)
    assert found == everything[:limit]


def test_only_days_between_notice_and_horizon_are_searched() -> None:
    now = utc("2026-06-01T10:00:00")  # 12:00 in Berlin
    days = availability.days_around(MONDAY, 3)
    kept = availability.bookable_days(rules(min_notice_minutes=24 * 60, horizon_days=2), days, now)
    assert kept == [MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)]


@settings(max_examples=80, deadline=None)
@given(
    busy=st.lists(st.tuples(st.integers(0, 26 * 60), st.integers(1, 300)), max_size=10),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    before=st.sampled_from([0, 10, 15]),
    after=st.sampled_from([0, 5, 15]),
)
def test_free_starts_are_the_candidates_whose_whole_block_is_clear(
    busy: list[tuple[int, int]], duration: int, before: int, after: int
) -> None:
    cut = service(duration, before=before, after=after)
    member = staff({"mon": [["08:00", "12:00"], ["13:00", "19:00"]]})
    local_midnight = utc("2026-05-31T22:00:00")
    blocks = [Interval.of_minutes(local_midnight + timedelta(minutes=m), length) for m, length in busy]
    expected = [
        start
        for start in availability.candidate_starts(rules(), cut, member, MONDAY, NOW)
        if not any(cut.block_for(Interval.of_minutes(start, duration)).overlaps(b) for b in blocks)
    ]
    assert availability.free_starts(rules(), cut, member, blocks, MONDAY, NOW) == expected


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(min_value=-3 * 24 * 60, max_value=40 * 24 * 60),
    notice=st.integers(min_value=0, max_value=3 * 24 * 60),
    horizon=st.integers(min_value=1, max_value=30),
    duration=st.sampled_from([15, 30, 45, 60, 90]),
    off_start=st.integers(min_value=0, max_value=30 * 24 * 60),
    off_minutes=st.integers(min_value=0, max_value=600),
    interval=st.sampled_from([5, 15, 30]),
    timezone=st.sampled_from(["Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata"]),
)
def test_a_customer_may_book_exactly_the_candidate_starts(
    minutes: int,
    notice: int,
    horizon: int,
    duration: int,
    off_start: int,
    off_minutes: int,
    interval: int,
    timezone: str,
) -> None:
    """`allows` answers for one start what `candidate_starts` lists for the whole day (it no longer builds the
    list), across notice, horizon, time off, grids, time zones and their clock changes."""
    now = utc("2026-03-25T10:00:00")  # the days after it cross Europe's and America's clock changes
    start = now + timedelta(minutes=minutes - minutes % interval)  # on the grid, mostly: 10:00 is on all
    off = (Interval.of_minutes(now + timedelta(minutes=off_start), off_minutes),) if off_minutes else ()
    the_rules = rules(timezone, min_notice_minutes=notice, horizon_days=horizon, slot_interval_minutes=interval)
    the_service, member = service(duration), staff(time_off=off)
    day = availability.local_date_of(the_rules, start)
    listed = start in availability.candidate_starts(the_rules, the_service, member, day, now)
    assert availability.allows(Policy.CUSTOMER, the_rules, the_service, member, start, now) == listed
