"""Draining the outbox: claim a batch, send each message, record the result; retry with backoff.

Delivery is at-least-once: a message is marked sent only after the mail server accepted it, so a
worker that dies in between sends it again later under the same Message-ID.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from slotguard.domain.messages import OutgoingMessage
from slotguard.services.ports import Clock, Mailer, UnitOfWork, UnitOfWorkFactory
from slotguard.services.retry import with_retries

log = logging.getLogger("slotguard.outbox")

BATCH_SIZE = 20
LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30
MAX_RETRY_SECONDS = 3600
POLL_SECONDS = 1.0


def retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(MAX_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1)))


async def drain_outbox(uows: UnitOfWorkFactory, clock: Clock, mailer: Mailer, *, batch_size: int = BATCH_SIZE) -> int:
    """Send one claimed batch; returns how many messages were sent."""

    async def claim(_number: int) -> list[OutgoingMessage]:
        async with uows(write=True) as uow:
            claimed = await uow.outbox.claim(clock(), LEASE, batch_size)
            await uow.commit()
            return claimed

    sent = 0
    for message in await with_retries(claim):
        try:
            await mailer.send(message)
        except Exception as failure:
            attempts = message.attempts + 1
            retry_at = clock() + retry_delay(attempts) if attempts < MAX_ATTEMPTS else None
            # The reason (which may name the recipient) is stored with the message, not logged.
            log.warning("sending %s failed (attempt %d): %s", message.id, attempts, type(failure).__name__)
            await _record(uows, lambda uow, m=message, r=retry_at, e=str(failure): uow.outbox.mark_failed(m.id, e, r))
            continue
        await _record(uows, lambda uow, m=message: uow.outbox.mark_sent(m.id, clock()))
        sent += 1
    return sent


async def _record(uows: UnitOfWorkFactory, change: Callable[[UnitOfWork], Awaitable[None]]) -> None:
    async def attempt(_number: int) -> None:
        async with uows(write=True) as uow:
            await change(uow)
            await uow.commit()

    await with_retries(attempt)


async def drain_all(uows: UnitOfWorkFactory, clock: Clock, mailer: Mailer) -> int:
    """Drain until nothing is due (the `slotguard outbox drain` command)."""
    total = 0
    while sent := await drain_outbox(uows, clock, mailer):
        total += sent
    return total


async def outbox_backlog(uows: UnitOfWorkFactory) -> int:
    """How many messages wait to be sent (the `slotguard_outbox_pending_messages` metric)."""
    async with uows(write=False) as uow:
        return await uow.outbox.count_pending()


async def run_outbox_worker(uows: UnitOfWorkFactory, clock: Clock, mailer: Mailer) -> None:
    """The background task of `slotguard serve`: poll, drain, repeat until cancelled."""
    while True:
        try:
            if await drain_outbox(uows, clock, mailer):
                continue
        except Exception:
            log.exception("outbox worker pass failed; trying again")
        await asyncio.sleep(POLL_SECONDS)
