"""The outbox: what a booking change announces is queued in its own transaction; a worker drains it.

Draining: claim a batch, hand each message to the sender of its channel (email, sms, webhook), record
the result; retry with backoff. Delivery is at-least-once: a message is marked sent only after the
receiver accepted it, so a worker that dies in between sends it again later under the same id.
Messages on a channel nobody configured (no SMTP server, no SMS provider) wait in the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from slotguard.domain.bookings import Booking
from slotguard.domain.messages import (
    DeliveryFailed,
    Letterhead,
    MessageKind,
    OutgoingMessage,
    booking_email,
    booking_sms,
    booking_webhook,
)
from slotguard.services.calendar_writes import queue_calendar_write
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


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


async def queue_notifications(
    uow: UnitOfWork, booking: Booking, kind: MessageKind, now: datetime, business_name: str = ""
) -> None:
    """The client's email and SMS, the business's webhook event and the staff member's calendar event, in
    the booking's own transaction: they are sent only if it commits. The customer reads them in the
    business's language and zone."""
    business = await uow.catalog.business_by_id(booking.business_id)
    letterhead = Letterhead.of(business) if business is not None else Letterhead(business_name)
    messages = [booking_email(booking, kind, letterhead), booking_sms(booking, kind, letterhead)]
    endpoint = await uow.webhooks.get(booking.business_id)
    if endpoint is not None:
        messages.append(booking_webhook(booking, kind, endpoint.url, now))
    await uow.outbox.add([m for m in messages if m is not None], now)
    await queue_calendar_write(uow, booking, kind, now)


async def drain_outbox(uows: UnitOfWorkFactory, clock: Clock, senders: Senders, *, batch_size: int = BATCH_SIZE) -> int:
    """Send one claimed batch; returns how many messages were sent."""

    claimed = await claim_batch(
        uows,
        lambda uow: uow.outbox.claim(clock(), LEASE, batch_size, senders.keys()),
        any_due=lambda uow: uow.outbox.has_due(clock(), senders.keys()),
    )
    sent = 0
    for message in claimed:
        try:
            status_code = await senders[message.channel].send(message)
        except Exception as failure:
            await _record_failure(uows, clock, message, failure)
            continue
        await _record_sent(uows, clock, message, status_code)
        sent += 1
    return sent


async def _record_sent(
    uows: UnitOfWorkFactory, clock: Clock, message: OutgoingMessage, status_code: int | None
) -> None:
    await _record(uows, lambda uow: uow.outbox.mark_sent(message.id, clock(), status_code))


async def _record_failure(uows: UnitOfWorkFactory, clock: Clock, message: OutgoingMessage, failure: Exception) -> None:
    attempts = message.attempts + 1
    refused = failure if isinstance(failure, DeliveryFailed) else DeliveryFailed(str(failure))
    retry = attempts < MAX_ATTEMPTS and not refused.permanent
    retry_at = clock() + retry_delay(attempts) if retry else None
    # The reason (which may name the recipient) is stored with the message, not logged.
    log.warning("sending %s %s failed (attempt %d): %s", message.channel, message.id, attempts, type(failure).__name__)
    error, status_code = str(failure) or type(failure).__name__, refused.status_code
    await _record(uows, lambda uow: uow.outbox.mark_failed(message.id, error, retry_at, status_code))


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
