"""A request already on its way when its unit was seen taken is refused without claiming it; a request
that begins later always asks the database. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from slotguard.domain.errors import TimeConflict
from slotguard.services import sightings
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from tests.services.hooked_units import HookedUnits
from tests.services.payments_support import clock, new_shop, request, start_time


class HeldAtTheDoor(HookedUnits):
    """Real units of work; the first write unit waits at the door until let in, and claims are counted."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        super().__init__(uows)
        self.held = False
        self.waiting = asyncio.Event()
        self.let_in = asyncio.Event()
        self.claims = 0

    async def before(self, write: bool) -> None:
        if write and not self.held:
            self.held = True
            self.waiting.set()
            await self.let_in.wait()

    def entered(self, uow: UnitOfWork) -> None:
        claim = uow.bookings.claim_time

        async def counted(*args: Any) -> bool:
            self.claims += 1
            return await claim(*args)

        uow.bookings.claim_time = counted  # type: ignore[method-assign]


async def test_a_racer_waiting_when_the_winner_committed_is_refused_without_a_claim(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    door = HeldAtTheDoor(uows)
    slug, at = shop.business.slug, start_time()
    late = asyncio.create_task(book_appointment(door, clock, slug, request(shop, at, n=1)))
    await door.waiting.wait()  # the racer has begun and waits for a connection

    winner = await book_appointment(door, clock, slug, request(shop, at))
    claims_of_the_winner = door.claims
    door.let_in.set()
    with pytest.raises(TimeConflict) as refused:
        await late

    assert door.claims == claims_of_the_winner == 1  # refused on the sighting of the winner's commit, not by a claim
    assert refused.value.alternatives, "the refusal still offers other times"
    assert at not in [a.start_at for a in refused.value.alternatives]
    async with uows(write=False) as uow:
        stored = await uow.bookings.get(shop.business.id, winner.booking.id)
    assert stored is not None


async def test_a_request_made_after_a_cancel_is_judged_by_the_database(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    slug, at = shop.business.slug, start_time()
    first = await book_appointment(uows, clock, slug, request(shop, at))
    await cancel_booking(uows, clock, business_id=shop.business.id, booking_id=first.booking.id, actor="owner")

    again = await book_appointment(uows, clock, slug, request(shop, at, n=1))  # the sighting is older than it

    assert again.booking.time.start_at == at


def test_a_sighting_refuses_only_requests_that_began_before_it() -> None:
    unit = ("test", object())
    before = sightings.moment()
    sightings.saw_taken(unit, sightings.moment())
    after = sightings.moment()

    assert sightings.seen_taken_since(unit, before)
    assert not sightings.seen_taken_since(unit, after)
    assert not sightings.seen_taken_since(("test", object()), before)


def test_an_older_sighting_never_replaces_a_newer_one() -> None:
    unit = ("test", object())
    older, newer = sightings.moment(), sightings.moment() + 1
    sightings.saw_taken(unit, newer)
    sightings.saw_taken(unit, older)

    assert sightings.seen_taken_since(unit, newer - 0.5)
