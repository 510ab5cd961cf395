"""Which start times can be booked: working hours, time off, notice, horizon, grid and busy time.

Working hours are local wall time in the business's zone; everything returned is aware UTC. The grid is
counted from local midnight, so on a DST change a 09:00 start stays 09:00 on the wall. A wall time that
does not exist (the spring-forward gap) is never offered; one that exists twice (fall-back) is offered
twice, once per real instant.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import accumulate
from uuid import UUID
from zoneinfo import ZoneInfo

from slotguard.domain.catalog import WEEKDAYS, BookingRules, Service, StaffMember
from slotguard.domain.claims import Policy
from slotguard.domain.intervals import Interval


@dataclass(frozen=True, slots=True)
class Opening:
    """A bookable start time and the staff members free for it."""

    start_at: datetime
    end_at: datetime
    staff_ids: tuple[UUID, ...]


def local_instants(day: date, clock: time, zone: ZoneInfo) -> list[datetime]:
    """The real UTC instants at which the wall clock in `zone` shows `clock` on `day`."""
    instants: list[datetime] = []
    for fold in (0, 1):
        local = datetime.combine(day, clock, tzinfo=zone).replace(fold=fold)
        instant = local.astimezone(UTC)
        round_trip = instant.astimezone(zone)
        if round_trip.replace(tzinfo=None) == local.replace(tzinfo=None) and instant not in instants:
            instants.append(instant)
    return instants


def local_day(rules: BookingRules, day: date) -> Interval:
    """The UTC span of a local calendar day (23, 24 or 25 hours long)."""
    zone = rules.zone
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return Interval(start, end)


def local_date_of(rules: BookingRules, instant: datetime) -> date:
    return instant.astimezone(rules.zone).date()


def candidate_starts(
    rules: BookingRules, service: Service, staff: StaffMember, day: date, now: datetime
) -> list[datetime]:
    """Grid starts on `day` inside working hours, clear of time off, within notice and horizon."""
    grid = _day_grid(rules, service, staff, day)
    earliest, latest = _bookable_window(rules, now)
    starts = list(grid[bisect_left(grid, earliest) : bisect_left(grid, latest)])
    if staff.time_off:
        starts = [s for s in starts if _clear_of_time_off(service, staff, s)]
    return starts


def _day_grid(rules: BookingRules, service: Service, staff: StaffMember, day: date) -> tuple[datetime, ...]:
    """The grid starts of `day` inside the staff member's working hours (none on a day off)."""
    windows = staff.working_hours.windows.get(WEEKDAYS[day.weekday()], ())
    if not windows:
        return ()
    return _grid(rules.timezone, rules.slot_interval_minutes, service.duration_minutes, windows, day)


def _bookable_window(rules: BookingRules, now: datetime) -> tuple[datetime, datetime]:
    """From the end of the notice to the horizon: the starts a customer may book now."""
    return now + timedelta(minutes=rules.min_notice_minutes), now + timedelta(days=rules.horizon_days)


def _clear_of_time_off(service: Service, staff: StaffMember, start_at: datetime) -> bool:
    length = timedelta(minutes=service.duration_minutes)
    return not any(start_at < off.end_at and off.start_at < start_at + length for off in staff.time_off)


def allows(
    policy: Policy, rules: BookingRules, service: Service, staff: StaffMember, start_at: datetime, now: datetime
) -> bool:
    """Whether `policy` lets `staff` be booked for `service` at `start_at`, whatever else is booked then.

    A customer gets a grid start inside working hours, clear of time off, within notice and horizon; the
    owner any time clear of time off (the time's other claims are judged by the claim itself).
    """
    clear = _clear_of_time_off(service, staff, start_at)
    if policy is Policy.OWNER or not clear:
        return clear
    # `start_at in candidate_starts(...)`, without building the day's list: every booking asks this.
    grid = _day_grid(rules, service, staff, local_date_of(rules, start_at))
    at = bisect_left(grid, start_at)
    earliest, latest = _bookable_window(rules, now)
    return at < len(grid) and grid[at] == start_at and earliest <= start_at < latest


# The grid depends only on these arguments and is asked for again by every request, for every staff
# member with the same hours: it is worked out once per process (a few KiB a day and set of hours).
@lru_cache(maxsize=2048)
def _grid(
    timezone: str, slot_interval_minutes: int, duration_minutes: int, windows: tuple[tuple[time, time], ...], day: date
) -> tuple[datetime, ...]:
    """Sorted starts on the local grid of `day` whose appointment fits inside one of `windows`."""
    zone = ZoneInfo(timezone)
    length = timedelta(minutes=duration_minutes)
    starts: set[datetime] = set()
    for window_start, window_end in windows:
        window = _window_in_utc(day, window_start, window_end, zone)
        first_minute = _minutes(window_start)
        first_minute += -first_minute % slot_interval_minutes
        last_minute = _minutes(window_end) or 24 * 60
        for minute in range(first_minute, last_minute, slot_interval_minutes):
            for start_at in local_instants(day, time(minute // 60, minute % 60), zone):
                if window.start_at <= start_at and start_at + length <= window.end_at:
                    starts.add(start_at)
    return tuple(sorted(starts))


def _window_in_utc(day: date, start: time, end: time, zone: ZoneInfo) -> Interval:
    start_at = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
    end_day = day + timedelta(days=1) if end == time(0) else day
    end_at = datetime.combine(end_day, end, tzinfo=zone).astimezone(UTC)
    return Interval(start_at, end_at)


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def free_starts(
    rules: BookingRules,
    service: Service,
    staff: StaffMember,
    busy: Iterable[Interval],
    day: date,
    now: datetime,
) -> list[datetime]:
    """Candidate starts on `day` whose buffered block is clear of every busy block."""
    starts = candidate_starts(rules, service, staff, day, now)
    busy_sorted = sorted(busy, key=lambda b: b.start_at)
    if not busy_sorted:
        return starts
    busy_starts = [b.start_at for b in busy_sorted]
    latest_ends = list(accumulate((b.end_at for b in busy_sorted), max))  # of the blocks up to each one
    before = timedelta(minutes=service.buffer_before_minutes)
    reach = timedelta(minutes=service.duration_minutes + service.buffer_after_minutes)
    free = []
    for start_at in starts:
        # Only blocks starting before this block ends can overlap it; of those, the latest end decides.
        stop = bisect_left(busy_starts, start_at + reach)
        if stop == 0 or latest_ends[stop - 1] <= start_at - before:
            free.append(start_at)
    return free


def openings(
    rules: BookingRules,
    service: Service,
    staff: Sequence[StaffMember],
    busy_by_staff: Mapping[UUID, Sequence[Interval]],
    day: date,
    now: datetime,
) -> list[Opening]:
    """Every bookable start on `day`, each with the staff members free for it; for a service that needs a
    resource, only starts when one of its resources is free too (their busy blocks are in `busy_by_staff`,
    by resource id)."""
    free_by_start: dict[datetime, list[UUID]] = {}
    for member in staff:
        for start_at in free_starts(rules, service, member, busy_by_staff.get(member.id, ()), day, now):
            free_by_start.setdefault(start_at, []).append(member.id)
    length = timedelta(minutes=service.duration_minutes)
    return [
        Opening(start_at, start_at + length, tuple(ids))
        for start_at, ids in sorted(free_by_start.items())
        if resource_free(service, busy_by_staff, start_at)
    ]


def resource_free(service: Service, busy_by_unit: Mapping[UUID, Sequence[Interval]], start_at: datetime) -> bool:
    """Whether a resource of the service's set is free for its buffered block at `start_at` (always true
    for a service that needs none)."""
    if not service.resource_ids:
        return True
    block = service.block_for(Interval(start_at, start_at + timedelta(minutes=service.duration_minutes)))
    return any(
        not any(b.overlaps(block) for b in busy_by_unit.get(resource_id, ())) for resource_id in service.resource_ids
    )


def nearest_openings(
    rules: BookingRules,
    service: Service,
    staff: Sequence[StaffMember],
    busy_by_staff: Mapping[UUID, Sequence[Interval]],
    requested_at: datetime,
    now: datetime,
    days: Iterable[date],
    limit: int = 5,
) -> list[Opening]:
    """Up to `limit` openings on `days`, nearest to `requested_at` first (earlier wins a tie).

    Days are searched nearest first; the search stops at a day that cannot hold a start nearer than the
    `limit` found so far, so a wide window costs no more than the days it needs.
    """
    spans = sorted(((local_day(rules, day), day) for day in days), key=lambda s: _gap(s[0], requested_at))
    found: list[Opening] = []
    for span, day in spans:
        if len(found) == limit and _gap(span, requested_at) > abs(found[-1].start_at - requested_at):
            break
        found += openings(rules, service, staff, busy_by_staff, day, now)
        found.sort(key=lambda o: (abs(o.start_at - requested_at), o.start_at))
        del found[limit:]
    return found


def _gap(span: Interval, instant: datetime) -> timedelta:
    """How far `instant` is from the nearest moment of `span` (zero inside it)."""
    return max(span.start_at - instant, instant - span.end_at, timedelta(0))


def days_around(center: date, radius_days: int) -> list[date]:
    return [center + timedelta(days=offset) for offset in range(-radius_days, radius_days + 1)]


def bookable_days(rules: BookingRules, days: Iterable[date], now: datetime) -> list[date]:
    """The `days` that can hold a start: not wholly before the minimum notice nor after the horizon."""
    earliest = now + timedelta(minutes=rules.min_notice_minutes)
    latest = now + timedelta(days=rules.horizon_days)
    return [day for day in days if (span := local_day(rules, day)).end_at > earliest and span.start_at < latest]
