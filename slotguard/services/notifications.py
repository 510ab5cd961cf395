"""The outbox: what a booking change announces is queued in its own transaction; a worker drains it.

Draining: claim a batch, hand each message to the sender of its channel (email, sms, webhook), record
the result; retry with backoff. Delivery is at-least-once: a message is marked sent only after the
receiver accepted it, so a worker that dies in between sends it again later under the same id.
Messages on a channel nobody configured (no SMTP server, no SMS provider) wait in the outbox.

A batch is delivered concurrently, one message at a time per target (a webhook host, an email or phone
recipient), so one slow endpoint delays only its own messages, which stay in order. When a delivery to
a target fails, the rest of that target's batch waits as long as the failed one (backoff per endpoint)
without costing them an attempt. Every delivery ends before the batch's lease does (`deadline`): what
has not started by then is given back, so no second worker can claim a message while it is being sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import groupby
from urllib.parse import urlsplit

from slotguard.domain.bookings import Booking
from slotguard.domain.catalog import Business
from slotguard.domain.messages import (
    DeliveryFailed,
    Letterhead,
    MessageKind,
    OutgoingMessage,
    booking_email,
    booking_sms,
    booking_webhook,
)
from slotguard.services.calendar_writes import calendar_write, calendar_writes_of, writes_to_calendar
from slotguard.services.periodic import PeriodicJob, claim_batch
from slotguard.services.ports import Clock, Sender, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries

Senders = Mapping[str, Sender]  # channel → sender

log = logging.getLogger("slotguard.outbox")

BATCH_SIZE = 20
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
POLL_SECONDS = 1.0
# The longest one delivery may take (the webhook client gives up after 5 s); none starts unless it can
# end before the batch's sending deadline, three quarters into its lease.
SEND_SECONDS = 10.0


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


async def queue_notifications(
    uow: UnitOfWork, booking: Booking, kind: MessageKind, now: datetime, business: Business | None = None
) -> None:
    """The booking's messages (`notifications_of`), in its own transaction: sent only if it commits."""
    await uow.outbox.add(await notifications_of(uow, booking, kind, now, business), now)


async def notifications_of(
    uow: UnitOfWork, booking: Booking, kind: MessageKind, now: datetime, business: Business | None = None
) -> list[OutgoingMessage]:
    """The client's email and SMS, the business's webhook event and the staff member's calendar event of a
    booking change. The customer reads them in the business's language and zone."""
    if business is None:
        business = await uow.catalog.business_by_id(booking.business_id)
    letterhead = Letterhead.of(business) if business is not None else Letterhead("")
    messages = [booking_email(booking, kind, letterhead), booking_sms(booking, kind, letterhead)]
    webhook_url = await uow.catalog.webhook_url(booking.business_id)  # from memory, as the staff are
    if webhook_url is not None:
        messages.append(booking_webhook(booking, kind, webhook_url, now))
    return [m for m in messages if m is not None] + await calendar_writes_of(uow, booking, kind)


async def queue_many_notifications(uow: UnitOfWork, bookings: list[Booking], kind: MessageKind, now: datetime) -> None:
    """The messages of several bookings of one business (the occurrences of a repeat series), with one read
    of the business, its webhook endpoint and each staff member's calendar, and one write."""
    if not bookings:
        return
    business = await uow.catalog.business_by_id(bookings[0].business_id)
    letterhead = Letterhead.of(business) if business is not None else Letterhead("")
    webhook_url = await uow.catalog.webhook_url(bookings[0].business_id)
    messages = []
    for booking in bookings:
        messages += [booking_email(booking, kind, letterhead), booking_sms(booking, kind, letterhead)]
        if webhook_url is not None:
            messages.append(booking_webhook(booking, kind, webhook_url, now))
    staff_ids = {b.staff_id for b in bookings if b.staff_id}
    written = {staff_id for staff_id in staff_ids if await writes_to_calendar(uow, bookings[0].business_id, staff_id)}
    messages += [calendar_write(b, b.staff_id, kind) for b in bookings if b.staff_id and b.staff_id in written]
    await uow.outbox.add([m for m in messages if m is not None], now)


async def drain_outbox(
    uows: UnitOfWorkFactory,
    clock: Clock,
    senders: Senders,
    *,
    batch_size: int = BATCH_SIZE,
    lease: timedelta = LEASE,
    send_seconds: float = SEND_SECONDS,
) -> int:
    """Send one claimed batch, targets side by side; returns how many messages were sent."""

    claimed = await claim_batch(
        uows,
        lambda uow: uow.outbox.claim(clock(), lease, batch_size, senders.keys()),
        any_due=lambda uow: uow.outbox.has_due(clock(), senders.keys()),
    )
    # A quarter of the lease is left for recording the outcomes: sending stops well before it ends.
    deadline = asyncio.get_running_loop().time() + lease.total_seconds() * 0.75
    by_target = [list(messages) for _, messages in groupby(sorted(claimed, key=_target), key=_target)]
    window = _Window(deadline, send_seconds)
    sent = await asyncio.gather(*(_deliver_in_order(uows, clock, senders, m, window) for m in by_target))
    return sum(sent)


def _target(message: OutgoingMessage) -> str:
    """Who receives it: a webhook's host, else the recipient itself (an email address, a phone number)."""
    if message.channel == "webhook":
        return f"webhook:{urlsplit(message.recipient).netloc.lower()}"
    return f"{message.channel}:{message.recipient}"


@dataclass(frozen=True, slots=True)
class _Window:
    deadline: float  # loop time by which every delivery of the batch has ended
    send_seconds: float  # the most one delivery may take

    def time_left(self) -> float:
        return self.deadline - asyncio.get_running_loop().time()


async def _deliver_in_order(
    uows: UnitOfWorkFactory, clock: Clock, senders: Senders, messages: list[OutgoingMessage], window: _Window
) -> int:
    """One target's messages, one after another, each started only if it can end before the deadline."""
    for index, message in enumerate(messages):
        if window.time_left() < window.send_seconds:  # due again at once, under the next pass's own lease
            await _postpone(uows, messages[index:], clock(), "not sent before the batch's lease ended")
            return index
        try:
            async with asyncio.timeout(window.send_seconds):
                status_code = await senders[message.channel].send(message)
        except Exception as failure:
            retry_at = await _record_failure(uows, clock, message, failure) or clock()
            await _postpone(uows, messages[index + 1 :], retry_at, "waiting: a delivery to this target failed")
            return index
        await _record_sent(uows, clock, message, status_code)
    return len(messages)


async def _postpone(uows: UnitOfWorkFactory, messages: list[OutgoingMessage], until: datetime, reason: str) -> None:
    if messages:
        await _record(uows, lambda uow: uow.outbox.postpone([m.id for m in messages], until, reason))


async def _record_sent(
    uows: UnitOfWorkFactory, clock: Clock, message: OutgoingMessage, status_code: int | None
) -> None:
    await _record(uows, lambda uow: uow.outbox.mark_sent(message.id, clock(), status_code))


async def _record_failure(
    uows: UnitOfWorkFactory, clock: Clock, message: OutgoingMessage, failure: Exception
) -> datetime | None:
    """Record the failed attempt; when the message is due again (None: given up)."""
    attempts = message.attempts + 1
    refused = failure if isinstance(failure, DeliveryFailed) else DeliveryFailed(str(failure))
    retry = attempts < MAX_ATTEMPTS and not refused.permanent
    retry_at = clock() + retry_delay(attempts) if retry else None
    # The reason (which may name the recipient) is stored with the message, not logged.
    log.warning("sending %s %s failed (attempt %d): %s", message.channel, message.id, attempts, type(failure).__name__)
    error, status_code = str(failure) or type(failure).__name__, refused.status_code
    await _record(uows, lambda uow: uow.outbox.mark_failed(message.id, error, retry_at, status_code))
    return retry_at


async def _record(uows: UnitOfWorkFactory, change: Callable[[UnitOfWork], Awaitable[None]]) -> None:
    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            await change(uow)
            await uow.commit()

    await with_retries(attempt)


async def drain_all(uows: UnitOfWorkFactory, clock: Clock, senders: Senders) -> int:
    """Drain until nothing is due (the `slotguard outbox drain` command)."""
    total = 0
    while sent := await drain_outbox(uows, clock, senders):
        total += sent
    return total


async def outbox_backlog(uows: UnitOfWorkFactory) -> int:
    """How many messages wait to be sent (the `slotguard_outbox_pending_messages` metric)."""
    async with uows(write=False) as uow:
        return await uow.outbox.count_pending()


def outbox_job(uows: UnitOfWorkFactory, clock: Clock, senders: Senders) -> PeriodicJob:
    """The outbox worker of `slotguard serve`, on every host at once."""
    return PeriodicJob("outbox", lambda: drain_outbox(uows, clock, senders), idle_seconds=POLL_SECONDS)
