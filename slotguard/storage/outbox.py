"""The transactional outbox: messages written with the booking change, claimed and sent by a worker.

A claim is a lease (`next_attempt_at` pushed into the future, in a short transaction: storage/leases.py),
not a lock held while sending: a worker that dies mid-batch leaves its rows to be claimed again when the
lease ends, and workers on several hosts take disjoint batches.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from slotguard.domain.messages import MessageKind, OutgoingMessage
from slotguard.storage.leases import lease_due
from slotguard.storage.schema import outbox


class OutboxStore:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def add(self, messages: list[OutgoingMessage], now: datetime) -> None:
        rows = [outbox_row(m, now) for m in messages]
        if rows:
            await self._conn.execute(outbox.insert(), rows)

    async def has_due(self, now: datetime, channels: Collection[str]) -> bool:
        """A cheap read before claiming, so an idle worker does not take SQLite's write lock every poll."""
        query = select(outbox.c.id).where(*_due(now, channels)).limit(1)
        return (await self._conn.execute(query)).first() is not None

    async def claim(
        self, now: datetime, lease: timedelta, limit: int, channels: Collection[str] = ("email",)
    ) -> list[OutgoingMessage]:
        rows = await lease_due(
            self._conn,
            outbox,
            due=_due(now, channels),
            lease_column=outbox.c.next_attempt_at,
            until=now + lease,
            limit=limit,
            also={"attempts": outbox.c.attempts + 1},
            # Messages due at the same moment (a batch given back after a failure) go out oldest first.
            then_by=(outbox.c.created_at,),
        )
        return [_message(row) for row in rows]

    async def mark_sent(self, message_id: UUID, now: datetime, status_code: int | None = None) -> None:
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(status="sent", sent_at=now, last_error=None, status_code=status_code)
        )

    async def mark_failed(
        self, message_id: UUID, error: str, retry_at: datetime | None, status_code: int | None = None
    ) -> None:
        values: dict[str, Any] = {"last_error": error[:2000], "status_code": status_code}
        values |= {"next_attempt_at": retry_at} if retry_at else {"status": "failed"}
        await self._conn.execute(update(outbox).where(outbox.c.id == message_id).values(**values))

    async def postpone(self, message_ids: Collection[UUID], until: datetime, reason: str) -> None:
        """Give claimed messages back unsent, due again at `until`: the claim's attempt is not counted."""
        if message_ids:
            await self._conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(list(message_ids)), outbox.c.status == "pending")
                .values(next_attempt_at=until, attempts=outbox.c.attempts - 1, last_error=reason)
            )

    async def count_pending(self) -> int:
        """Messages not yet sent and not given up on, due or waiting for a retry."""
        count = await self._conn.scalar(select(func.count()).select_from(outbox).where(outbox.c.status == "pending"))
        return int(count or 0)

    async def retarget(self, business_id: UUID, channel: str, recipient: str) -> None:
        """Point the business's undelivered messages on `channel` at a new recipient (a fixed URL)."""
        await self._conn.execute(
            update(outbox)
            .where(outbox.c.business_id == business_id, outbox.c.channel == channel, outbox.c.status == "pending")
            .values(recipient=recipient)
        )

    async def of_business(
        self, business_id: UUID, *, limit: int = 100, channel: str | None = None
    ) -> list[OutgoingMessage]:
        query = select(outbox).where(outbox.c.business_id == business_id)
        if channel is not None:
            query = query.where(outbox.c.channel == channel)
        query = query.order_by(outbox.c.created_at.desc(), outbox.c.id).limit(limit)
        return [_message(row._mapping) for row in await self._conn.execute(query)]


def _due(now: datetime, channels: Collection[str]) -> list[Any]:
    """Pending rows whose time has come, on the channels this worker can send (the others wait)."""
    return [outbox.c.status == "pending", outbox.c.next_attempt_at <= now, outbox.c.channel.in_(list(channels))]


# The columns `outbox_row` fills, in its order.
QUEUED_COLUMNS = (
    "id",
    "business_id",
    "booking_id",
    "kind",
    "channel",
    "recipient",
    "subject",
    "body",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def outbox_row(message: OutgoingMessage, now: datetime) -> dict[str, Any]:
    """The `outbox` row of a message queued at `now`."""
    return {
        "id": message.id,
        "business_id": message.business_id,
        "booking_id": message.booking_id,
        "kind": message.kind.value,
        "channel": message.channel,
        "recipient": message.recipient,
        "subject": message.subject,
        "body": message.body,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _message(row: Any) -> OutgoingMessage:
    return OutgoingMessage(
        id=row["id"],
        business_id=row["business_id"],
        booking_id=row["booking_id"],
        kind=MessageKind(row["kind"]),
        channel=row["channel"],
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        status=row["status"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        status_code=row["status_code"],
    )
