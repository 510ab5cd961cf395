"""Staff members' own calendars: connect one, sync it (on demand and periodically), disconnect it.

Busy times read from a calendar are stored in the database as claims of the staff member's time, held
to the same no-overlap rule as bookings (storage/claims.py). A sync that cannot read the calendar keeps
the last busy times, records the reason, and is retried with backoff. A busy time that arrives over an
active booking cannot refuse it after the fact: the booking is flagged to the owner (`conflicts` in the
calendar's reply, and a `booking.calendar_conflict` webhook event), once per booking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from slotguard.domain.calendars import (
    BusyTime,
    CalendarAccess,
    CalendarKind,
    CalendarStatus,
    CalendarUnreadable,
    CalendarVersion,
    ConnectedCalendar,
    FetchedCalendar,
    next_attempt_after,
)
from slotguard.domain.catalog import Business
from slotguard.domain.errors import NotFound, ValidationFailed
from slotguard.domain.intervals import Interval
from slotguard.domain.messages import calendar_conflict_webhook
from slotguard.services.calendar_writes import queue_existing_bookings
from slotguard.services.periodic import claim_batch
from slotguard.services.ports import (
    Clock,
    PasswordSeal,
    RemoteCalendars,
    UnitOfWork,
    UnitOfWorkFactory,
    UrlGuard,
)
from slotguard.services.retry import with_retries

log = logging.getLogger("slotguard.calendars")

# Busy times are kept from a day back (so one in progress still blocks) to the business's horizon.
KEPT_BEFORE = timedelta(days=1)
CLAIM_BATCH = 10
# The longest window the owner's calendar asks busy times for (a week view asks for 7 days).
MAX_BUSY_WINDOW = timedelta(days=62)
# How often each worker looks for calendars due (each is synced every `every`, by whichever claims it).
POLL_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class CalendarView:
    calendar: ConnectedCalendar
    conflicts: list[tuple[UUID, Interval]]  # active bookings a busy time arrived over, with that busy time


class StaffCalendars:
    """Built once in `create_app`: what connecting and syncing calendars needs, passed to the routes."""

    def __init__(
        self,
        uows: UnitOfWorkFactory,
        clock: Clock,
        remote: RemoteCalendars,
        guard: UrlGuard,
        every: timedelta,
        seal: PasswordSeal,
    ) -> None:
        self.uows = uows
        self.clock = clock
        self.remote = remote
        self.guard = guard
        self.every = every
        self.seal = seal

    async def connect(self, business: Business, staff_id: UUID, access: CalendarAccess) -> CalendarView:
        """Read the calendar once (422 with the reason if it cannot be read), then store it and its busy times."""
        await self.guard.check_url(access.url)
        await _staff_member(self.uows, business, staff_id)
        now = self.clock()
        try:
            fetched = await self.remote.read(access, sync_window(business, now), business.rules.zone, CalendarVersion())
        except CalendarUnreadable as exc:
            raise ValidationFailed("The calendar could not be read", [{"field": "url", "message": str(exc)}]) from exc
        calendar = ConnectedCalendar(
            staff_id,
            business.id,
            access.kind,
            access.url,
            access.username,
            CalendarStatus.OK,
            now,
            None,
            0,
            fetched.version,
        )

        async def attempt(_number: int) -> None:
            async with self.uows(write=True) as uow:
                await uow.calendars.put(calendar, self.seal.seal(access.password), now + self.every)
                await self._store(uow, business, calendar, fetched, now)
                if access.kind is CalendarKind.CALDAV:
                    await queue_existing_bookings(uow, business.id, staff_id, now)
                await uow.commit()

        await with_retries(attempt)
        return await self.view(business, staff_id)

    async def view(self, business: Business, staff_id: UUID) -> CalendarView:
        async with self.uows(write=False) as uow:
            calendar = await uow.calendars.get(staff_id)
            if calendar is None or calendar.business_id != business.id:
                raise NotFound("calendar")
            return CalendarView(calendar, await uow.calendars.busy_over_bookings(staff_id, self.clock()))

    async def busy_times(self, business: Business, window: Interval) -> list[tuple[UUID, Interval]]:
        """The synced busy times of the business's staff that meet `window` (the owner's calendar draws them)."""
        if window.end_at - window.start_at > MAX_BUSY_WINDOW:
            raise ValidationFailed("The window is too long", [{"field": "to", "message": "at most 62 days after from"}])
        async with self.uows(write=False) as uow:
            return await uow.calendars.busy_times(business.id, window)

    async def disconnect(self, business: Business, staff_id: UUID) -> None:
        """Forget the calendar and its busy times: they stop blocking at once."""
        await self.view(business, staff_id)

        async def attempt(_number: int) -> None:
            async with self.uows(write=True) as uow:
                await uow.calendars.remove(staff_id)
                await uow.commit()

        await with_retries(attempt)

    async def sync_now(self, business: Business, staff_id: UUID) -> CalendarView:
        await self.view(business, staff_id)
        await self.sync(staff_id)
        return await self.view(business, staff_id)

    async def sync(self, staff_id: UUID) -> None:
        """Read the calendar again and store what it says; on failure keep the busy times and back off."""
        async with self.uows(write=False) as uow:
            calendar = await uow.calendars.get(staff_id)
            stored_password = await uow.calendars.password(staff_id)
            business = await uow.catalog.business_by_id(calendar.business_id) if calendar else None
        if calendar is None or business is None:
            return
        now = self.clock()
        try:
            access = CalendarAccess(calendar.kind, calendar.url, calendar.username, self.seal.open(stored_password))
            fetched = await self.remote.read(access, sync_window(business, now), business.rules.zone, calendar.version)
        except CalendarUnreadable as exc:
            await self._record_failure(calendar, str(exc), now)
            return
        await self._record_success(business, calendar, fetched, now, self._sealed_now(stored_password, access))

    def _sealed_now(self, stored: str | None, access: CalendarAccess) -> tuple[str, str] | None:
        """(stored, sealed) for a password stored unsealed before this server had a key: it is sealed now."""
        sealed = self.seal.seal(access.password)
        if stored is None or access.password != stored or sealed is None or sealed == stored:
            return None  # none, already sealed, or no key to seal it with
        return stored, sealed

    async def _record_success(
        self,
        business: Business,
        calendar: ConnectedCalendar,
        fetched: FetchedCalendar,
        now: datetime,
        reseal: tuple[str, str] | None = None,
    ) -> None:
        async def attempt(_number: int) -> None:
            async with self.uows(write=True) as uow:
                current = await uow.calendars.get(calendar.staff_id)
                if current is None or (current.url, current.kind) != (calendar.url, calendar.kind):
                    return  # disconnected or replaced while this sync read the old one
                await self._store(uow, business, current, fetched, now)
                if reseal is not None:
                    await uow.calendars.replace_password(calendar.staff_id, *reseal)
                await uow.commit()

        await with_retries(attempt)

    async def _store(
        self, uow: UnitOfWork, business: Business, calendar: ConnectedCalendar, fetched: FetchedCalendar, now: datetime
    ) -> None:
        """Replace the busy times (unless unchanged), flag new conflicts, record the sync as ok."""
        busy_count = calendar.busy_count
        if fetched.objects is not None:
            await uow.calendars.take_turn(calendar.staff_id)
            busy = await uow.calendars.busy_of(calendar.staff_id, fetched)
            busy_count = await _replace_busy(uow, business, calendar, busy, now)
        synced = replace(
            calendar,
            status=CalendarStatus.OK,
            error=None,
            last_synced_at=now,
            busy_count=busy_count,
            version=fetched.version,
            failures=0,
        )
        await uow.calendars.record_sync(synced, now + self.every)

    async def _record_failure(self, calendar: ConnectedCalendar, reason: str, now: datetime) -> None:
        failures = calendar.failures + 1
        failed = replace(calendar, status=CalendarStatus.ERROR, error=reason, failures=failures)
        log.warning("calendar sync of staff %s failed (%d in a row)", calendar.staff_id, failures)

        async def attempt(_number: int) -> None:
            async with self.uows(write=True) as uow:
                if await uow.calendars.get(calendar.staff_id) is not None:
                    await uow.calendars.record_sync(failed, now + next_attempt_after(failures, self.every))
                    await uow.commit()

        await with_retries(attempt)

    async def sync_due(self, lease: timedelta = timedelta(minutes=2)) -> int:
        """One pass of the periodic job: claim the calendars due for a sync (no other worker or host gets
        them) and sync each; how many were synced."""
        now = self.clock()
        claimed = await claim_batch(
            self.uows,
            lambda uow: uow.calendars.claim_due(now, lease, CLAIM_BATCH),
            any_due=lambda uow: uow.calendars.any_due(now),
        )
        for staff_id in claimed:
            await self.sync(staff_id)
        return len(claimed)


def sync_window(business: Business, now: datetime) -> Interval:
    return Interval(now - KEPT_BEFORE, now + timedelta(days=business.rules.horizon_days + 1))


async def _staff_member(uows: UnitOfWorkFactory, business: Business, staff_id: UUID) -> None:
    async with uows(write=False) as uow:
        if not await uow.catalog.staff(business.id, staff_id=staff_id):
            raise NotFound("staff member")


async def _replace_busy(
    uow: UnitOfWork, business: Business, calendar: ConnectedCalendar, busy: list[BusyTime], now: datetime
) -> int:
    """Store `busy` (in the calendar's turn); queue a webhook for each booking newly under a busy time.
    Returns how many busy times lie within the horizon."""
    staff_id = calendar.staff_id
    flagged_before = {booking_id for booking_id, _ in await uow.calendars.busy_over_bookings(staff_id, now)}
    over = await uow.calendars.replace_busy(calendar, busy, now)
    endpoint = await uow.webhooks.get(business.id)
    for booking_id in set(over) - flagged_before:
        booking = await uow.bookings.get(business.id, booking_id)
        log.warning("a busy time of staff %s arrived over booking %s", staff_id, booking_id)
        if booking is not None and endpoint is not None:
            await uow.outbox.add([calendar_conflict_webhook(booking, over[booking_id], endpoint.url, now)], now)
    horizon = Interval(now, now + timedelta(days=business.rules.horizon_days))
    return sum(1 for b in busy if b.time.overlaps(horizon))
