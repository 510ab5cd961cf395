"""Periodic work run by several hosts at once on one database (SPEC §10): each piece is done once, and the
hosts share it. Each "host" is a connection pool of its own, draining the outbox into a real SMTP server."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from slotguard.adapters.mail import SmtpMailer
from slotguard.domain.messages import OutgoingMessage
from slotguard.services.booking import book_appointment, hold_time
from slotguard.services.notifications import drain_all
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from slotguard.services.seats import expire_bookings
from slotguard.storage.engine import Database, create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.services.mail_inbox import Inbox
from tests.services.payments_support import clock, new_shop, request, start_time

# Drains the whole outbox: on the module's own database, not every message other tests queued.
pytestmark = pytest.mark.own_database

HOSTS = 3
BOOKINGS = 24


def sharing_is_promised(db_url: str) -> bool:
    """Several hosts share the work on PostgreSQL, where they claim batches side by side (SKIP LOCKED). On
    SQLite, one file on one machine, claims take the file's write lock one at a time and SQLite's busy handler
    is not fair: one host may take every batch while the others sleep. Each piece is still done once there."""
    return db_url.startswith("postgresql")


class CountingMailer:
    """A host's mailer: sends through SMTP and counts what this host sent."""

    def __init__(self, mailer: SmtpMailer) -> None:
        self.mailer = mailer
        self.sent: list[str] = []

    async def send(self, message: OutgoingMessage) -> None:
        await self.mailer.send(message)
        self.sent.append(message.message_id)


@pytest.fixture
async def hosts(db_url: str) -> AsyncIterator[list[UnitOfWorkFactory]]:
    databases: list[Database] = [create_database(db_url, pool_size=2) for _ in range(HOSTS)]

    def factory_of(database: Database) -> UnitOfWorkFactory:
        def factory(*, write: bool) -> UnitOfWork:
            return SqlUnitOfWork(database, write=write)

        return factory

    yield [factory_of(database) for database in databases]
    for database in databases:
        await database.dispose()


async def test_three_hosts_draining_one_outbox_send_each_message_once_and_share_the_work(
    uows: UnitOfWorkFactory, hosts: list[UnitOfWorkFactory], smtp: tuple[Inbox, str], db_url: str
) -> None:
    inbox, url = smtp
    shop = await new_shop(uows)
    for n in range(BOOKINGS):
        await book_appointment(
            uows, clock, shop.business.slug, request(shop, start_time(days=3 + n // 8, hour=8 + n % 8), n=n)
        )

    mailers = [CountingMailer(SmtpMailer(url, "salon@example.com")) for _ in hosts]
    await asyncio.gather(
        *(drain_all(host, clock, {"email": mailer}) for host, mailer in zip(hosts, mailers, strict=True))
    )

    async with uows(write=False) as uow:
        stored = {m.message_id for m in await uow.outbox.of_business(shop.business.id) if m.channel == "email"}
    received = Counter(m["Message-ID"] for m in inbox.of(shop))
    assert set(received) == stored and len(stored) == BOOKINGS
    assert set(received.values()) == {1}, "a message was sent twice"
    ours = [[i for i in mailer.sent if i in stored] for mailer in mailers]
    assert sum(map(len, ours)) == BOOKINGS
    if sharing_is_promised(db_url):
        assert sum(1 for sent in ours if sent) >= 2, f"one host did all the work: {[len(s) for s in ours]}"


async def test_three_hosts_cleaning_up_at_once_expire_each_lapsed_hold_once_and_share_the_work(
    uows: UnitOfWorkFactory, hosts: list[UnitOfWorkFactory], db_url: str
) -> None:
    shop = await new_shop(uows, hold_ttl_seconds=1)
    for n in range(BOOKINGS):
        await hold_time(
            uows, clock, shop.business.slug, request(shop, start_time(days=3 + n // 8, hour=8 + n % 8), n=n)
        )
    await asyncio.sleep(1.2)  # every hold lapses (judged by the database's clock on PostgreSQL)

    expired = await asyncio.gather(*(expire_bookings(host, clock, batch=2) for host in hosts))

    async with uows(write=False) as uow:
        audit = await uow.audit.entries(shop.business.id, limit=1000)
    expiries = Counter(entry.booking_id for entry in audit if entry.to_status == "expired")
    assert len(expiries) == BOOKINGS and set(expiries.values()) == {1}, "a hold was expired twice or not at all"
    if sharing_is_promised(db_url):
        assert sum(1 for count in expired if count) >= 2, f"one host did all the work: {expired}"
