"""Paid checkout of seats (seed 004), settled by webhooks, and the clean-up job, on both databases."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from slotguard.adapters.payments import signatures
from slotguard.domain.bookings import Client, Status
from slotguard.domain.errors import PaymentProviderError, SlotUnavailable
from slotguard.domain.intervals import Interval
from slotguard.domain.payments import EventType
from slotguard.domain.slots import Slot
from slotguard.services.checkout import CheckoutStarted, start_slot_checkout
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.seats import expire_bookings
from slotguard.services.slots import SeatRequest, add_slot, book_seats, hold_seats
from slotguard.services.webhooks import receive_webhook
from tests.services.payments_support import (
    SECRET,
    URLS,
    FakePaymentProvider,
    Shop,
    clock,
    delivery,
    new_shop,
    start_time,
    stored,
    wait_past,
)


async def new_tour(uows: UnitOfWorkFactory, shop: Shop, capacity: int, *, days: int = 3) -> Slot:
    start = start_time(days)
    return await add_slot(uows, clock, shop.business, shop.service.id, Interval.of_minutes(start, 60), capacity)


def party(slot: Slot, guests: int, n: int = 0) -> SeatRequest:
    return SeatRequest(slot.id, Client("Tour", f"Guest{n}", f"guest{n}@example.com"), guests)


async def remaining(uows: UnitOfWorkFactory, shop: Shop, slot: Slot) -> tuple[int, int]:
    """(what everyone is shown, the stored counter the database guards)."""
    async with uows(write=False) as uow:
        shown = await uow.slots.get(shop.business.id, slot.id, clock())
        counter = await uow.slots.stored_remaining(slot.id)
    assert shown is not None
    return shown.remaining, counter


async def pay(uows: UnitOfWorkFactory, shop: Shop, started: CheckoutStarted, event: EventType) -> str:
    headers, body = delivery(shop, started, event)
    return (await receive_webhook(uows, clock, shop.provider, headers, body))[1]


async def checkout(uows: UnitOfWorkFactory, shop: Shop, slot: Slot, guests: int, n: int = 0) -> CheckoutStarted:
    return await start_slot_checkout(uows, clock, shop.provider, shop.business.slug, party(slot, guests, n), URLS)


async def test_checkout_takes_seats_and_the_paid_webhook_does_not_take_them_again(uows: UnitOfWorkFactory) -> None:
    """Seed 004 TEST-7: 5 → 3 at checkout, still 3 after the completed webhook (and its repeat)."""
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=5)
    started = await checkout(uows, shop, tour, guests=2)
    assert started.booking.status is Status.PENDING_PAYMENT
    assert await remaining(uows, shop, tour) == (3, 3)

    assert await pay(uows, shop, started, EventType.COMPLETED) == "confirmed"
    _headers, body = delivery(shop, started, EventType.COMPLETED)
    assert json.loads(body)["data"]["object"]["metadata"]["seatsReserved"] == "true"
    assert (await stored(uows, shop, started.booking)).status is Status.CONFIRMED
    assert await remaining(uows, shop, tour) == (3, 3)


async def test_provider_failure_gives_the_seats_back_before_the_reply(uows: UnitOfWorkFactory) -> None:
    """Seed 004 TEST-5: 3 seats, the provider fails after the reservation → 502, 3 seats, audit rows."""
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=3)
    provider = FakePaymentProvider(RuntimeError("card network down"))
    with pytest.raises(PaymentProviderError):
        await start_slot_checkout(uows, clock, provider, shop.business.slug, party(tour, 1), URLS)
    assert await remaining(uows, shop, tour) == (3, 3)
    async with uows(write=False) as uow:
        entries = [e for e in await uow.audit.entries(shop.business.id) if e.booking_id]  # not the setup's
    assert [e.action for e in entries] == ["created", "payment_provider_failed", "released"]
    assert entries[-1].details == {"slots_rolled_back": 1, "seats_released": 1}


async def test_an_expired_checkout_releases_its_seats_once(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=4)
    started = await checkout(uows, shop, tour, guests=3)
    assert await pay(uows, shop, started, EventType.EXPIRED) == "released"
    assert await pay(uows, shop, started, EventType.EXPIRED) == "nothing_to_release"
    assert await remaining(uows, shop, tour) == (4, 4)


async def test_a_late_payment_retakes_free_seats_or_lands_in_needs_refund(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows, hold_ttl_seconds=1)
    tour = await new_tour(uows, shop, capacity=2)
    lucky = await checkout(uows, shop, tour, guests=1, n=1)
    unlucky = await checkout(uows, shop, tour, guests=1, n=2)
    await wait_past(unlucky.booking.expires_at)

    taker = await book_seats(uows, clock, shop.business.slug, party(tour, 1, n=3))
    assert taker.booking.status is Status.CONFIRMED  # both lapsed checkouts were expired to seat it
    assert await remaining(uows, shop, tour) == (1, 1)

    assert await pay(uows, shop, lucky, EventType.COMPLETED) == "confirmed_late"
    assert await remaining(uows, shop, tour) == (0, 0)
    assert await pay(uows, shop, unlucky, EventType.COMPLETED) == "needs_refund"
    assert (await stored(uows, shop, unlucky.booking)).status is Status.NEEDS_REFUND
    assert await remaining(uows, shop, tour) == (0, 0)


async def test_a_payment_that_reserved_nothing_takes_seats_when_it_arrives(uows: UnitOfWorkFactory) -> None:
    """Seed 004 TEST-8, the legacy path: metadata names the slot and party, no booking."""
    shop = await new_shop(uows)
    tour = await new_tour(uows, shop, capacity=3)

    async def legacy_payment(session_id: str, guests: int) -> str:
        event = {
            "id": f"evt_{uuid4().hex}",
            "type": EventType.COMPLETED.value,
            "data": {
                "object": {
                    "id": session_id,
                    "payment_status": "paid",  # as Stripe's completed sessions say (a delayed method: "unpaid")
                    "customer_details": {"email": "walkin@example.com", "name": "Walk In"},
                    "metadata": {"slotId": str(tour.id), "guests": str(guests)},
                }
            },
        }
        body = json.dumps(event).encode()
        headers = {"Stripe-Signature": signatures.sign(SECRET, body)}
        return (await receive_webhook(uows, clock, shop.provider, headers, body))[1]

    assert await legacy_payment("cs_link_1", 2) == "confirmed_unreserved"
    assert await remaining(uows, shop, tour) == (1, 1)
    assert await legacy_payment("cs_link_1", 2) == "already_settled"
    assert await legacy_payment("cs_link_2", 2) == "needs_refund"
    assert await remaining(uows, shop, tour) == (1, 1)
    async with uows(write=False) as uow:
        rows = await uow.bookings.calendar(shop.business.id, clock())
    assert sorted((b.status.value, b.guests) for b in rows) == [("confirmed", 2), ("needs_refund", 2)]
    assert {b.client.email for b in rows if b.client} == {"walkin@example.com"}


async def test_the_clean_up_job_expires_lapsed_holds_and_frees_their_seats(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows, hold_ttl_seconds=1)
    tour = await new_tour(uows, shop, capacity=3)
    hold = await hold_seats(uows, clock, shop.business.slug, tour.id, 2)
    assert await remaining(uows, shop, tour) == (1, 1)
    await wait_past(hold.expires_at)
    assert await remaining(uows, shop, tour) == (3, 1), "shown free at once; the counter waits for clean-up"

    # The job sweeps the whole database (other tests' lapsed holds too): judge this slot's rows.
    assert await expire_bookings(uows, clock) >= 1
    assert await remaining(uows, shop, tour) == (3, 3)
    await expire_bookings(uows, clock)
    assert await remaining(uows, shop, tour) == (3, 3), "a second sweep gives nothing back twice"
    assert (await stored(uows, shop, hold)).status is Status.EXPIRED
    assert (await book_seats(uows, clock, shop.business.slug, party(tour, 3))).booking.guests == 3
    with pytest.raises(SlotUnavailable):
        await book_seats(uows, clock, shop.business.slug, party(tour, 1, n=1))
    assert await remaining(uows, shop, tour) == (0, 0)
