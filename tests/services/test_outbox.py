"""Notifications through the outbox to a real SMTP server on loopback, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from slotguard.adapters.mail import SmtpMailer
from slotguard.domain.errors import TimeConflict
from slotguard.domain.messages import OutgoingMessage
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.notifications import LEASE, drain_all, drain_outbox
from slotguard.services.ports import UnitOfWorkFactory
from tests.services.mail_inbox import Inbox
from tests.services.payments_support import clock, new_shop, request, start_time

# Drains the whole outbox: on the module's own database, not every message other tests queued.
pytestmark = pytest.mark.own_database


async def test_booking_and_cancellation_send_exactly_their_emails(
    uows: UnitOfWorkFactory, smtp: tuple[Inbox, str]
) -> None:
    inbox, url = smtp
    shop = await new_shop(uows)
    booked = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))
    with pytest.raises(TimeConflict):  # rolled back: nothing may be announced for it
        await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(), n=1))
    await cancel_booking(uows, clock, business_id=shop.business.id, booking_id=booked.booking.id, actor="owner")

    senders = {"email": SmtpMailer(url, "salon@example.com")}
    await drain_all(uows, clock, senders)
    await drain_all(uows, clock, senders)  # nothing is sent twice once accepted

    received = inbox.of(shop)
    assert [(m["To"], m["Subject"]) for m in received] == [
        (booked.booking.client.email, "Your booking is confirmed - Paid Tours"),  # type: ignore[union-attr]
        (booked.booking.client.email, "Your booking was cancelled - Paid Tours"),  # type: ignore[union-attr]
    ]
    async with uows(write=False) as uow:
        stored = await uow.outbox.of_business(shop.business.id)
    assert {m.status for m in stored} == {"sent"}
    assert {m.message_id for m in stored} == {m["Message-ID"] for m in received}


class WorkerKilled(BaseException):
    """Not an Exception, so nothing in the worker catches it (SystemExit itself would stop the event loop
    from inside the worker's delivery task, taking the test with it)."""


class DiesAfterFirstSend:
    """Sends one message, then the process 'dies' (an exception nothing in the worker catches)."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self.mailer = mailer
        self.sent = 0

    async def send(self, message: OutgoingMessage) -> None:
        if self.sent == 1:
            raise WorkerKilled("worker killed")
        await self.mailer.send(message)
        self.sent += 1


async def test_a_worker_killed_mid_batch_loses_no_message(uows: UnitOfWorkFactory, smtp: tuple[Inbox, str]) -> None:
    inbox, url = smtp
    shop = await new_shop(uows)
    for n in range(4):  # one recipient: its messages are sent one after another, so one is in flight at a time
        await book_appointment(uows, clock, shop.business.slug, request(shop, start_time(hour=8 + n)))
    mailer = SmtpMailer(url, "salon@example.com")

    with pytest.raises(WorkerKilled):
        await drain_outbox(uows, clock, {"email": DiesAfterFirstSend(mailer)}, batch_size=100)
    await drain_all(uows, clock, {"email": mailer})
    assert len(inbox.of(shop)) == 1, "claimed rows wait until their lease ends"

    def later() -> datetime:
        return clock() + LEASE + timedelta(seconds=1)

    await drain_all(uows, later, {"email": mailer})

    async with uows(write=False) as uow:
        stored = await uow.outbox.of_business(shop.business.id)
    assert len(stored) == 4
    assert {m.status for m in stored} == {"sent"}
    received_ids = [m["Message-ID"] for m in inbox.of(shop)]
    assert set(received_ids) == {m.message_id for m in stored}, "every message arrived, under its own id"
    assert len(received_ids) <= 5, "at most the one in flight was sent twice"


async def test_without_smtp_messages_wait_in_the_outbox(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))
    async with uows(write=False) as uow:
        waiting = await uow.outbox.of_business(shop.business.id)
    assert [(m.kind.value, m.status, m.attempts) for m in waiting] == [("confirmation", "pending", 0)]
