"""A transaction whose COMMIT reached the database but whose reply was lost (the connection died just after)
is retried by the service; the retry must answer as the first try would have, on SQLite and PostgreSQL."""

from __future__ import annotations

from slotguard.domain.bookings import Status
from slotguard.domain.errors import TransientStorageFailure
from slotguard.services.booking import book_appointment, cancel_booking
from slotguard.services.ports import UnitOfWork, UnitOfWorkFactory
from tests.services.hooked_units import HookedUnits
from tests.services.payments_support import clock, new_shop, request, start_time


class LosesFirstCommitReply(HookedUnits):
    """Real units of work, but the first commit that goes through is followed by a lost connection."""

    lost = 0

    def entered(self, uow: UnitOfWork) -> None:
        commit = uow.commit

        async def commit_then_lose_reply() -> None:
            await commit()
            if self.lost == 0:
                self.lost += 1
                raise TransientStorageFailure("connection lost after COMMIT was sent")

        uow.commit = commit_then_lose_reply  # type: ignore[method-assign]


async def test_a_cancel_whose_commit_reply_was_lost_answers_cancelled_once(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    booked = await book_appointment(uows, clock, shop.business.slug, request(shop, start_time()))
    flaky = LosesFirstCommitReply(uows)

    cancelled = await cancel_booking(
        flaky, clock, business_id=shop.business.id, booking_id=booked.booking.id, actor="owner"
    )

    assert flaky.lost == 1  # the first try did commit, and its reply was lost
    assert cancelled.status is Status.CANCELLED
    async with uows(write=False) as uow:
        entries = await uow.audit.entries(shop.business.id, booking_id=booked.booking.id)
        messages = await uow.outbox.of_business(shop.business.id)
    assert [e.action for e in entries] == ["created", "cancelled"]  # audited once, not twice
    assert sorted(m.kind for m in messages if m.channel == "email") == ["cancellation", "confirmation"]


async def test_a_booking_whose_commit_reply_was_lost_is_answered_with_itself(uows: UnitOfWorkFactory) -> None:
    shop = await new_shop(uows)
    flaky = LosesFirstCommitReply(uows)

    booked = await book_appointment(flaky, clock, shop.business.slug, request(shop, start_time()))

    assert flaky.lost == 1
    async with uows(write=False) as uow:
        stored = await uow.bookings.get(shop.business.id, booked.booking.id)
    assert stored is not None and stored.status is Status.CONFIRMED
