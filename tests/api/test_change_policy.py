"""The change notice: a customer's cancel or move through the manage link is refused inside it, the
owner's is not, and the manage view says until when changes are possible; on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from slotguard.domain.bookings import Booking, Kind, Status
from slotguard.domain.catalog import BookingRules
from slotguard.domain.change_policy import change_notice, changeable_until
from slotguard.domain.errors import TooLateToChange
from slotguard.domain.intervals import Interval
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import new_salon, new_slot, party, slot_remaining

SIX_DAYS = 6 * 24 * 60


async def test_inside_the_notice_the_customer_is_refused_and_nothing_changes(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = await new_slot(client, salon, capacity=3, days_ahead=5)
    other = await new_slot(client, salon, capacity=3, days_ahead=5, hour=14)
    patched = await client.patch(
        f"/api/v1/businesses/{salon.slug}", json={"changeNoticeMinutes": SIX_DAYS}, headers=salon.owner
    )
    assert patched.status_code == 200 and patched.json()["data"]["changeNoticeMinutes"] == SIX_DAYS
    booked = await client.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book", json=party(1, guests=2))
    token, booking_id = booked.json()["data"]["manageToken"], booked.json()["data"]["id"]

    shown = (await client.get(f"/api/v1/public/bookings/{token}")).json()["data"]
    start = datetime.fromisoformat(tour["startTime"])
    assert datetime.fromisoformat(shown["changeableUntil"]) == start - timedelta(minutes=SIX_DAYS)

    cancel = await client.post(f"/api/v1/public/bookings/{token}/cancel")
    move = await client.post(f"/api/v1/public/bookings/{token}/reschedule", json={"slotId": other["id"]})
    for refused in (cancel, move):
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "TOO_LATE_TO_CHANGE"
    assert (await client.get(f"/api/v1/public/bookings/{token}")).json()["data"]["status"] == "confirmed"
    assert await slot_remaining(client, salon, tour["id"]) == 1

    owner_cancel = await client.post(
        f"/api/v1/businesses/{salon.slug}/appointments/{booking_id}/cancel", headers=salon.owner
    )
    assert owner_cancel.status_code == 200, owner_cancel.text
    assert await slot_remaining(client, salon, tour["id"]) == 3


async def test_outside_the_notice_the_customer_may_still_cancel(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = await new_slot(client, salon, capacity=3, days_ahead=5)
    await client.patch(f"/api/v1/businesses/{salon.slug}", json={"changeNoticeMinutes": 60}, headers=salon.owner)
    booked = await client.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book", json=party(1))
    token = booked.json()["data"]["manageToken"]
    assert (await client.post(f"/api/v1/public/bookings/{token}/cancel")).status_code == 200


def test_the_notice_ends_changes_that_long_before_the_start() -> None:
    start = datetime(2030, 1, 1, 10, tzinfo=UTC)
    booking = Booking(
        id=uuid4(),
        business_id=uuid4(),
        kind=Kind.SLOT,
        status=Status.CONFIRMED,
        service_id=uuid4(),
        time=Interval(start, start + timedelta(hours=1)),
        block=Interval(start, start + timedelta(hours=1)),
        created_at=start - timedelta(days=1),
    )
    rules = BookingRules(timezone="UTC", change_notice_minutes=120)
    assert changeable_until(booking, rules) == start - timedelta(hours=2)
    booking.check_customer_may_change(start - timedelta(hours=2, seconds=1), change_notice(rules))
    with pytest.raises(TooLateToChange):
        booking.check_customer_may_change(start - timedelta(hours=2), change_notice(rules))
