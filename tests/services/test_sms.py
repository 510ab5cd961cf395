"""SMS confirmations through the outbox to Twilio's REST API, played by a real HTTP server on loopback."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from urllib.parse import parse_qs

import pytest

from slotguard.adapters.sms import TwilioSms
from slotguard.services.booking import book_appointment
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWorkFactory
from tests.services.http_receiver import Receiver, http_receiver
from tests.services.payments_support import clock, new_shop, request, start_time

SID, TOKEN, FROM = "AC0123456789abcdef", "twilio-test-token", "+15005550006"


@pytest.fixture
def twilio() -> Iterator[Receiver]:
    with http_receiver(success_status=201) as fake:  # Twilio answers 201 Created
        yield fake


def sms(twilio: Receiver) -> dict[str, TwilioSms]:
    return {"sms": TwilioSms(SID, TOKEN, FROM, base_url=twilio.url)}


async def test_a_client_with_a_phone_gets_one_sms_confirmation(uows: UnitOfWorkFactory, twilio: Receiver) -> None:
    shop = await new_shop(uows)
    with_phone = request(shop, start_time())
    with_phone = replace(with_phone, client=replace(with_phone.client, phone="+41 79 555 01 23"))
    booked = await book_appointment(uows, clock, shop.business.slug, with_phone)
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(hour=14), n=1))  # no phone

    await drain_all(uows, clock, sms(twilio))
    await drain_all(uows, clock, sms(twilio))

    (sent,) = [r for r in twilio.requests if str(booked.booking.id)[:8] in r.body.decode()]  # others: other tests
    assert sent.path == f"/2010-04-01/Accounts/{SID}/Messages.json"
    assert sent.headers["Authorization"] == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    form = {key: values[0] for key, values in parse_qs(sent.body.decode()).items()}
    assert (form["To"], form["From"]) == ("+41 79 555 01 23", FROM)
    assert "Paid Tours" in form["Body"] and str(booked.booking.id)[:8] in form["Body"]
    async with uows(write=False) as uow:
        texts = await uow.outbox.of_business(shop.business.id, channel="sms")
    assert [(m.status, m.status_code, m.attempts) for m in texts] == [("sent", 201, 1)]


async def test_a_number_twilio_refuses_is_not_retried(uows: UnitOfWorkFactory, twilio: Receiver) -> None:
    shop = await new_shop(uows)
    refused = f"+999 {shop.business.slug[-8:]}"  # an invalid number of this test's own
    twilio.answer = lambda received: 400 if parse_qs(received.body.decode())["To"] == [refused] else None
    bad = request(shop, start_time())
    await book_appointment(uows, clock, shop.business.slug, replace(bad, client=replace(bad.client, phone=refused)))

    await drain_all(uows, clock, sms(twilio))

    async with uows(write=False) as uow:
        (text,) = await uow.outbox.of_business(shop.business.id, channel="sms")
    assert (text.status, text.status_code, text.attempts) == ("failed", 400, 1)


async def test_without_twilio_texts_wait_in_the_outbox_and_emails_are_untouched(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    booking = request(shop, start_time())
    booking = replace(booking, client=replace(booking.client, phone="+41 79 555 01 23"))
    await book_appointment(uows, clock, shop.business.slug, booking)

    assert await drain_all(uows, clock, {}) == 0

    async with uows(write=False) as uow:
        waiting = await uow.outbox.of_business(shop.business.id)
    assert sorted((m.channel, m.status) for m in waiting) == [("email", "pending"), ("sms", "pending")]
