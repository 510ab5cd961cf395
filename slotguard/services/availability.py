"""The read side: open start times for a day, and the nearest alternatives to a taken time."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from slotguard.domain import availability as rules_of
from slotguard.domain.availability import Opening
from slotguard.domain.catalog import Business, Service, StaffMember
from slotguard.domain.claims import Policy
from slotguard.domain.errors import NotFound
from slotguard.domain.intervals import Interval
from slotguard.services.ports import Clock, UnitOfWork, UnitOfWorkFactory
from slotguard.services.sightings import moment

T = TypeVar("T")
ALTERNATIVES = 5
# How far from the requested day alternatives are looked for: a week either way reaches the same weekday
# for staff who work one day a week, and bounds the busy times a losing request reads.
ALTERNATIVES_WITHIN_DAYS = 7


# A business, one of its services, and the staff who may be booked online for it.
Bookable = tuple[Business, Service, list[StaffMember]]


async def bookable(
    uow: UnitOfWork,
    slug: str,
    service_id: UUID,
    staff_id: UUID | None,
    policy: Policy = Policy.CUSTOMER,
    *,
    remembered: bool = False,
) -> Bookable:
    """The business, the service, and the staff offering it whom `policy` may book (only `staff_id` if
    named): online-bookable ones for customers, all of them for the owner. `remembered`: a claim follows,
    which checks the business's version, so it may come from memory (CatalogStore.business_by_slug)."""
    business = await uow.catalog.business_by_slug(slug, remembered=remembered)
    if business is None:
        raise NotFound("business")
    service = await uow.catalog.service(business.id, service_id)
    if service is None:
        raise NotFound("service")
    staff = [
        member
        for member in await uow.catalog.staff(business.id, service_id=service.id, staff_id=staff_id)
        if member.online_booking_enabled or policy is Policy.OWNER
    ]
    if staff_id is not None and not staff:
        raise NotFound("staff member offering this service")
    return business, service, staff


async def day_openings(
    uows: UnitOfWorkFactory, clock: Clock, slug: str, service_id: UUID, day: date, staff_id: UUID | None
) -> tuple[Business, list[Opening]]:
    async with uows(write=False) as uow:
        business, service, staff = await bookable(uow, slug, service_id, staff_id)
        return business, await openings_on(uow, business, service, staff, [day], clock())


async def openings_on(
    uow: UnitOfWork, business: Business, service: Service, staff: list[StaffMember], days: list[date], now: datetime
) -> list[Opening]:
    rules = business.rules
    busy = await _busy_around(uow, business, service, staff, days, now)
    return [opening for day in days for opening in rules_of.openings(rules, service, staff, busy, day, now)]


class SharedSearches:
    """Alternatives shared by the losers asking at the same moment (built once in `create_app`, one per
    database): the losers of a race for one time all ask for alternatives at once. A caller joins an
    identical search that has not begun to read yet, or, if it says when its request began (`asked_at`,
    a `sightings.moment()`), one that began to read after that, even if it has finished: so a burst of
    losers costs a few reads instead of one each, and every answer is read after its caller asked.
    With `shared=False` every caller searches alone."""

    def __init__(self, *, shared: bool = True, kept: int = 1024) -> None:
        self._shared = shared
        self._kept = kept  # the newest searches kept for later callers who asked before they read
        self._searches: OrderedDict[tuple[object, ...], _Search] = OrderedDict()

    async def nearest_openings(
        self,
        uows: UnitOfWorkFactory,
        clock: Clock,
        slug: str,
        service_id: UUID,
        staff_id: UUID | None,
        requested_at: datetime,
        known: Bookable | None = None,
        asked_at: float | None = None,
    ) -> list[Opening]:
        """Up to five bookable times nearest to `requested_at`, as of now (same staff if one was named).

        `known` is what `bookable` answered the caller a moment ago, if it asked: it spares a read.
        """
        key = ("openings", slug, service_id, staff_id, requested_at)

        def search(began: Callable[[], None]) -> Coroutine[Any, Any, list[Opening]]:
            return _nearest_openings(uows, clock, slug, service_id, staff_id, requested_at, known, began)

        return list(await self.joined(key, search, asked_at))

    async def joined(
        self,
        key: tuple[object, ...],
        search: Callable[[Callable[[], None]], Coroutine[Any, Any, T]],
        asked_at: float | None = None,
    ) -> T:
        """The answer of `search`, or of an identical one (same `key`) that has not begun to read yet, or
        that began to read after `asked_at`.

        `search` calls the function it is given once it has its connection and begins to read: from
        then on, only callers who asked before that moment share it; later ones start a search of their own.
        """
        found = self._searches.get(key)
        if found is not None and found.answers(asked_at):
            try:
                return cast(T, await asyncio.shield(found.task))
            except Exception:
                pass  # one caller's transient failure must not become everyone's: search alone
        mine = _Search()
        mine.task = asyncio.create_task(search(mine.began))
        if self._shared:
            self._searches[key] = mine
            self._searches.move_to_end(key)
            while len(self._searches) > self._kept:
                self._searches.popitem(last=False)
        mine.task.add_done_callback(lambda task: self._forget(key, mine, task))
        return cast(T, await asyncio.shield(mine.task))

    def _forget(self, key: tuple[object, ...], search: _Search, task: asyncio.Task[Any]) -> None:
        """A failed search is shared no more; a finished one stays for callers who asked before it read.
        Its exception is retrieved here, so a failure whose callers all left is not reported as lost."""
        if (task.cancelled() or task.exception() is not None) and self._searches.get(key) is search:
            del self._searches[key]


async def nearest_openings(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    service_id: UUID,
    staff_id: UUID | None,
    requested_at: datetime,
    known: Bookable | None = None,
) -> list[Opening]:
    """The same search, alone (for callers with no shared searches at hand)."""
    return await SharedSearches(shared=False).nearest_openings(
        uows, clock, slug, service_id, staff_id, requested_at, known
    )


class _Search:
    task: asyncio.Task[Any]
    read_at: float | None = None  # the moment it began to read

    def began(self) -> None:
        self.read_at = moment()

    def answers(self, asked_at: float | None) -> bool:
        """Whether its answer was (or will be) read after a caller asked at `asked_at` (None: not told)."""
        return self.read_at is None or (asked_at is not None and self.read_at >= asked_at)


async def _nearest_openings(
    uows: UnitOfWorkFactory,
    clock: Clock,
    slug: str,
    service_id: UUID,
    staff_id: UUID | None,
    requested_at: datetime,
    known: Bookable | None,
    began: Callable[[], None],
) -> list[Opening]:
    async with uows(write=False) as uow:
        began()  # from here on, later callers start their own search
        now = clock()
        business, service, staff = known or await bookable(uow, slug, service_id, staff_id)
        center = rules_of.local_date_of(business.rules, requested_at)
        days = rules_of.bookable_days(business.rules, rules_of.days_around(center, ALTERNATIVES_WITHIN_DAYS), now)
        if not days or not staff:
            return []
        # One read of the busy times covers the whole window.
        busy = await _busy_around(uow, business, service, staff, days, now)
        return rules_of.nearest_openings(business.rules, service, staff, busy, requested_at, now, days, ALTERNATIVES)


async def _busy_around(
    uow: UnitOfWork, business: Business, service: Service, staff: list[StaffMember], days: list[date], now: datetime
) -> dict[UUID, list[Interval]]:
    if not staff:
        return {}
    first = rules_of.local_day(business.rules, min(days))
    last = rules_of.local_day(business.rules, max(days))
    # A candidate's block reaches back by the buffer and forward by the duration plus buffer.
    window = Interval(first.start_at, last.end_at).widened(
        service.buffer_before_minutes, service.duration_minutes + service.buffer_after_minutes
    )
    # One read: the staff's busy blocks, and those of the resources the service needs one of.
    return await uow.bookings.busy_blocks([m.id for m in staff] + sorted(service.resource_ids), window, now)


async def free_days(
    uows: UnitOfWorkFactory, clock: Clock, slug: str, service_id: UUID, days: list[date], staff_id: UUID | None
) -> tuple[Business, list[date]]:
    """Which of `days` have at least one bookable start (one read of the busy times for all of them)."""
    async with uows(write=False) as uow:
        business, service, staff = await bookable(uow, slug, service_id, staff_id)
        found = await openings_on(uow, business, service, staff, days, clock())
    local = {rules_of.local_date_of(business.rules, opening.start_at) for opening in found}
    return business, [day for day in days if day in local]
