"""Paid checkout of an appointment time, and its settlement by webhooks, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import Counter

import pytest

from slotguard.adapters.payments import signatures
from slotguard.domain.bookings import Status
from slotguard.domain.errors import InvalidSignature, PaymentProviderError, TimeConflict
from slotguard.domain.payments import EventType
from slotguard.services.booking import book_appointment
from slotguard.services.checkout import CheckoutStarted, start_appointment_checkout
from slotguard.services.ports import UnitOfWorkFactory
from slotguard.services.webhooks import receive_webhook
from tests.services.payments_support import (
    SECRET,
    URLS,
    FakePaymentProvider,
    checkout,
    clock,
    delivery,
    new_shop,
    request,
    start_time,
    stored,
    wait_past,
)


async def audit_actions(uows: UnitOfWorkFactory, business_id: object, booking_id: object) -> list[str]:
    async with uows(write=False) as uow:
        return [e.action for e in await uow.audit.entries(business_id, booking_id=booking_id)]  # type: ignore[arg-type]


async def outbox_kinds(uows: UnitOfWorkFactory, business_id: object) -> list[str]:
    async with uows(write=False) as uow:
        return [m.kind.value for m in await uow.outbox.of_business(business_id)]  # type: ignore[arg-type]


async def test_checkout_takes_the_time_as_pending_payment(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())

    booking = await stored(uows, shop, started.booking)
    assert booking.status is Status.PENDING_PAYMENT
    assert booking.expires_at == started.booking.expires_at
    assert started.session.checkout_url.startswith("/checkout/local/")
    with pytest.raises(TimeConflict):
        await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(), n=1))
    assert await outbox_kinds(uows, shop.business.id) == [], "nothing is announced before payment"


@pytest.mark.parametrize("failure", [RuntimeError("card network down"), TimeoutError()])
async def test_provider_failure_releases_the_time_and_audits_it(uows: UnitOfWorkFactory, failure: Exception) -> None:
    """Seed 004 TEST-5: the provider fails after the time was taken → 502, time given back, audit rows."""
    shop = await new_shop(uows)
    provider = FakePaymentProvider(failure)
    with pytest.raises(PaymentProviderError):
        await start_appointment_checkout(uows, clock, provider, shop.business.slug, request(shop, start_time()), URLS)
    assert provider.calls == 1

    async with uows(write=False) as uow:
        entries = [e for e in await uow.audit.entries(shop.business.id) if e.booking_id]  # not the setup's
    assert [e.action for e in entries] == ["created", "payment_provider_failed", "released"]
    assert entries[-1].to_status == Status.CANCELLED
    assert entries[-1].details == {"slots_rolled_back": 1}
    retry = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(), n=1))
    assert retry.booking.status is Status.CONFIRMED


async def test_completed_webhook_confirms_once_and_a_repeat_changes_nothing(uows: UnitOfWorkFactory) -> None:
    """Seed 004 TEST-7: the webhook confirms what checkout took; it does not take the time again."""
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())
    headers, body = delivery(shop, started, EventType.COMPLETED)

    first = await receive_webhook(uows, clock, shop.provider, headers, body)
    again = await receive_webhook(uows, clock, shop.provider, headers, body)

    assert first[1] == "confirmed"
    assert again == (first[0], "duplicate")
    booking = await stored(uows, shop, started.booking)
    assert booking.status is Status.CONFIRMED
    assert booking.expires_at is None
    assert await audit_actions(uows, shop.business.id, booking.id) == ["created", "paid"]
    assert await outbox_kinds(uows, shop.business.id) == ["confirmation"]


async def test_concurrent_duplicate_webhooks_apply_once(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())
    headers, body = delivery(shop, started, EventType.COMPLETED)

    outcomes = await asyncio.gather(*(receive_webhook(uows, clock, shop.provider, headers, body) for _ in range(8)))

    assert Counter(outcome for _, outcome in outcomes) == {"confirmed": 1, "duplicate": 7}
    assert await audit_actions(uows, shop.business.id, started.booking.id) == ["created", "paid"]
    assert await outbox_kinds(uows, shop.business.id) == ["confirmation"]


async def test_a_second_completed_event_for_a_paid_booking_changes_nothing(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())
    for _ in range(2):  # two distinct events (e.g. a replay by the provider with a new id)
        headers, body = delivery(shop, started, EventType.COMPLETED)
        await receive_webhook(uows, clock, shop.provider, headers, body)
    assert (await stored(uows, shop, started.booking)).status is Status.CONFIRMED
    assert await outbox_kinds(uows, shop.business.id) == ["confirmation"]


@pytest.mark.parametrize("tamper", ["missing", "wrong_secret", "altered_body", "stale"])
async def test_a_bad_signature_is_refused_and_changes_nothing(uows: UnitOfWorkFactory, tamper: str) -> None:
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())
    headers, body = delivery(shop, started, EventType.COMPLETED)
    if tamper == "missing":
        headers = {}
    elif tamper == "wrong_secret":
        headers = {"Stripe-Signature": signatures.sign("whsec_other", body)}
    elif tamper == "altered_body":
        body = body.replace(b"checkout.session.completed", b"checkout.session.expired")
    else:
        headers = {"Stripe-Signature": signatures.sign(SECRET, body, timestamp=1_600_000_000)}

    with pytest.raises(InvalidSignature):
        await receive_webhook(uows, clock, shop.provider, headers, body)
    assert (await stored(uows, shop, started.booking)).status is Status.PENDING_PAYMENT
    assert await audit_actions(uows, shop.business.id, started.booking.id) == ["created"]


@pytest.mark.parametrize("event_type", [EventType.EXPIRED, EventType.PAYMENT_FAILED])
async def test_an_expired_or_failed_checkout_releases_the_time(uows: UnitOfWorkFactory, event_type: EventType) -> None:
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())
    headers, body = delivery(shop, started, event_type)

    assert (await receive_webhook(uows, clock, shop.provider, headers, body))[1] == "released"
    assert (await stored(uows, shop, started.booking)).status is Status.EXPIRED
    again = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(), n=1))
    assert again.booking.status is Status.CONFIRMED


async def test_a_late_payment_confirms_when_the_time_is_still_free(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows, hold_ttl_seconds=1)
    started = await checkout(uows, shop, start_time())
    await wait_past(started.booking.expires_at)
    headers, body = delivery(shop, started, EventType.COMPLETED)

    assert (await receive_webhook(uows, clock, shop.provider, headers, body))[1] == "confirmed_late"
    assert (await stored(uows, shop, started.booking)).status is Status.CONFIRMED
    assert "paid_late" in await audit_actions(uows, shop.business.id, started.booking.id)


async def test_a_late_payment_after_resale_needs_a_refund(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows, hold_ttl_seconds=1)
    started = await checkout(uows, shop, start_time())
    await wait_past(started.booking.expires_at)
    resold = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(), n=1))
    headers, body = delivery(shop, started, EventType.COMPLETED)

    assert (await receive_webhook(uows, clock, shop.provider, headers, body))[1] == "needs_refund"
    assert (await stored(uows, shop, started.booking)).status is Status.NEEDS_REFUND
    assert (await stored(uows, shop, resold.booking)).status is Status.CONFIRMED
    async with uows(write=False) as uow:
        last = (await uow.audit.entries(shop.business.id, booking_id=started.booking.id))[-1]
    assert (last.action, last.to_status) == ("needs_refund", Status.NEEDS_REFUND)
    assert "taken" in last.details["reason"]


async def test_an_event_for_an_unknown_booking_is_recorded_and_ignored(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    started = await checkout(uows, shop, start_time())
    headers, body = delivery(shop, started, EventType.COMPLETED)
    event = json.loads(body)
    event["data"]["object"]["metadata"]["bookingId"] = "00000000-0000-0000-0000-000000000000"
    body = json.dumps(event).encode()
    headers = {"Stripe-Signature": signatures.sign(SECRET, body)}
    assert (await receive_webhook(uows, clock, shop.provider, headers, body))[1] == "unknown_booking"
    assert (await stored(uows, shop, started.booking)).status is Status.PENDING_PAYMENT


def stripe_delivery(
    started: CheckoutStarted, event_type: EventType, payment_status: str
) -> tuple[dict[str, str], bytes]:
    """An event as Stripe sends it for a delayed payment method (a bank debit): signed, with its status."""
    session = {
        "id": started.session.session_id,
        "object": "checkout.session",
        "payment_status": payment_status,
        "metadata": {"bookingId": str(started.booking.id), "businessId": str(started.booking.business_id)},
    }
    event = {"id": f"evt_{uuid.uuid4().hex}", "type": event_type.value, "data": {"object": session}}
    body = json.dumps(event).encode()
    return {"Stripe-Signature": signatures.sign(SECRET, body)}, body


async def test_a_completed_but_unpaid_session_confirms_only_when_its_payment_arrives(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    debit, bounced = await checkout(uows, shop, start_time()), await checkout(uows, shop, start_time(hour=14), n=1)

    for started in (debit, bounced):
        completed = await receive_webhook(
            uows, clock, shop.provider, *stripe_delivery(started, EventType.COMPLETED, "unpaid")
        )
        assert completed[1] == "awaiting_payment"
        assert (await stored(uows, shop, started.booking)).status is Status.PENDING_PAYMENT, "no money yet"

    succeeded = stripe_delivery(debit, EventType.PAYMENT_SUCCEEDED, "paid")
    failed = stripe_delivery(bounced, EventType.PAYMENT_FAILED, "unpaid")
    assert (await receive_webhook(uows, clock, shop.provider, *succeeded))[1] == "confirmed"
    await receive_webhook(uows, clock, shop.provider, *failed)

    assert (await stored(uows, shop, debit.booking)).status is Status.CONFIRMED
    assert (await stored(uows, shop, bounced.booking)).status is not Status.CONFIRMED
    assert not (await stored(uows, shop, bounced.booking)).is_active(clock()), "its time is free again"
