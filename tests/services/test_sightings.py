"""A request already on its way when its unit was seen taken is refused without claiming it; a request
that begins later always asks the database. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from slotguard.domain.errors import SlotUnavailable, TimeConflict
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.shortcuts import Shortcuts
from slotguard.services.sightings import Sightings, moment
from slotguard.services.slots import book_seats
from tests.services.hooked_units import HookedUnits
from tests.services.payments_support import clock, new_shop, request, start_time
from tests.services.test_slot_checkout import new_tour, party, remaining


class HeldAtTheDoor(HookedUnits):
    """Real units of work; the first write unit waits at the door until let in, and claims are counted."""

    def __init__(self, uows: UnitOfWorkFactory) -> None:
        super().__init__(uows)
        self.held = False
        self.waiting = asyncio.Event()
        self.let_in = asyncio.Event()
        self.claims = 0
        self.takes = 0

    async def before(self, write: bool) -> None:
        if write and not self.held:
            self.held = True
            self.waiting.set()
            await self.let_in.wait()

    def entered(self, uow: UnitOfWork) -> None:
        claim, take = uow.bookings.claim, uow.slots.take_seats

        async def counted_claim(*args: Any, **options: Any) -> Any:
            self.claims += 1
            return await claim(*args, **options)

        async def counted_take(*args: Any) -> bool:
            self.takes += 1
            return await take(*args)

        uow.bookings.claim = counted_claim  # type: ignore[method-assign]
        uow.slots.take_seats = counted_take  # type: ignore[method-assign]


async def test_a_racer_waiting_when_the_winner_committed_is_refused_without_a_claim(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    door = HeldAtTheDoor(uows)
    slug, at = shop.business.slug, start_time()
    late = asyncio.create_task(book_appointment(door, clock, slug, request(shop, at, n=1), shortcuts=process))
    await door.waiting.wait()  # the racer has begun and waits for a connection

    winner = await book_appointment(door, clock, slug, request(shop, at), shortcuts=process)
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
    process = Shortcuts.for_server()  # one server process's shortcuts
    slug, at = shop.business.slug, start_time()
    first = await book_appointment(uows, clock, slug, request(shop, at), shortcuts=process)
    await cancel_booking(uows, clock, business_id=shop.business.id, booking_id=first.booking.id, actor="owner")

    again = await book_appointment(
        uows, clock, slug, request(shop, at, n=1), shortcuts=process
    )  # the sighting is older than it

    assert again.booking.time.start_at == at


async def test_a_party_waiting_when_a_slot_was_seen_full_is_refused_without_taking(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    slot = await new_tour(uows, shop, capacity=1)
    door = HeldAtTheDoor(uows)
    late = asyncio.create_task(book_seats(door, clock, shop.business.slug, party(slot, 1, n=9), shortcuts=process))
    await door.waiting.wait()

    await book_seats(door, clock, shop.business.slug, party(slot, 1), shortcuts=process)
    with pytest.raises(SlotUnavailable):  # the claim that sees the slot full
        await book_seats(door, clock, shop.business.slug, party(slot, 1, n=1), shortcuts=process)
    claims_before = door.claims  # a seat booking's claim takes its seats (storage/claims.py)
    door.let_in.set()
    with pytest.raises(SlotUnavailable):
        await late

    assert door.claims == claims_before == 2  # the waiting party never tried to take a seat
    assert await remaining(uows, shop, slot) == (0, 0)


async def test_a_smaller_party_than_the_seen_shortage_still_asks_the_database(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    process = Shortcuts.for_server()  # one server process's shortcuts
    slot = await new_tour(uows, shop, capacity=3)
    door = HeldAtTheDoor(uows)
    late = asyncio.create_task(book_seats(door, clock, shop.business.slug, party(slot, 1, n=9), shortcuts=process))
    await door.waiting.wait()

    await book_seats(door, clock, shop.business.slug, party(slot, 2), shortcuts=process)
    with pytest.raises(SlotUnavailable):  # a party of 2 sees fewer than 2 seats left
        await book_seats(door, clock, shop.business.slug, party(slot, 2, n=1), shortcuts=process)
    door.let_in.set()
    booked = await late  # one seat was left, and a party of one takes it

    assert booked.booking.guests == 1
    assert await remaining(uows, shop, slot) == (0, 0)


def test_a_sighting_refuses_only_requests_that_began_before_it() -> None:
    sightings, unit = Sightings(), ("test", object())
    before = moment()
    sightings.saw_taken(unit, moment())
    after = moment()

    assert sightings.seen_taken_since(unit, before)
    assert not sightings.seen_taken_since(unit, after)
    assert not sightings.seen_taken_since(("test", object()), before)


def test_a_sighting_of_seats_refuses_only_parties_larger_than_what_was_left() -> None:
    sightings, unit = Sightings(), ("test", object())
    before = moment()
    sightings.saw_taken(unit, moment(), seats_left=2)

    assert sightings.seen_taken_since(unit, before, wanted=3)
    assert not sightings.seen_taken_since(unit, before, wanted=2)


def test_an_older_sighting_never_replaces_a_newer_one() -> None:
    sightings, unit = Sightings(), ("test", object())
    older, newer = moment(), moment() + 1
    sightings.saw_taken(unit, newer)
    sightings.saw_taken(unit, older)

    assert sightings.seen_taken_since(unit, newer - 0.5)


def test_sightings_of_one_process_never_refuse_requests_of_another() -> None:
    one, other, unit = Sightings(), Sightings(), ("test", object())
    before = moment()
    one.saw_taken(unit, moment())

    assert one.seen_taken_since(unit, before)
    assert not other.seen_taken_since(unit, before)


def test_without_a_server_nothing_is_remembered() -> None:
    unit = ("test", object())
    before = moment()
    Shortcuts().sightings.saw_taken(unit, moment())

    assert not Shortcuts().sightings.seen_taken_since(unit, before)
