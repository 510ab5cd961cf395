"""`slotguard demo` fills the owner console: a week of bookings, time off, a season of tours; run again,
it adds none of them twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slotguard.domain.intervals import Interval
from slotguard.services.demo import ensure_demo
from slotguard.services.ports import UnitOfWorkFactory


async def test_the_demo_shows_a_week_time_off_and_a_season_and_runs_twice(uows: UnitOfWorkFactory) -> None:
    async def counts() -> tuple[int, int, int, int]:
        demo = await ensure_demo(uows)
        now = datetime.now(UTC)
        async with uows(write=False) as uow:
            week = await uow.bookings.calendar(
                demo.business.id, now, window=Interval(now, now + timedelta(days=8)), limit=1000
            )
            season = await uow.slots.listed(
                demo.business.id, now, window=Interval(now + timedelta(days=30), now + timedelta(days=100)), limit=1000
            )
            staff = await uow.catalog.staff(demo.business.id)
        return (
            len([b for b in week if b.kind.value == "appointment"]),
            len([b for b in week if b.kind.value == "slot"]),
            len(season),
            sum(len(m.time_off) for m in staff),
        )

    first = await counts()
    appointments, parties, later_tours, time_off = first
    assert appointments >= 20 and parties == 3 and time_off == 1
    assert later_tours >= 30  # weekend tours, 10:00 and 14:00, for months ahead
    assert await counts() == first
