"""Seats, holds, cancels and reschedules raced against a real `slotguard serve --workers 2`.

Seed 004's TEST-1, 2, 3, 4 and 6 fire concurrent checkout requests exactly as written; the stored
counter, the shown `remaining` and the guests of active bookings must agree afterwards.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.e2e.salon import (
    booking_body,
    connection_limits,
    local_time,
    new_salon,
    new_slot,
    party,
    race,
    set_hold_ttl,
    slot_remaining,
    stored_active_rows,
    stored_slot,
)

SEED_004 = {
    "TEST-1 two requests for the last spot": (1, [1, 1]),
    "TEST-2 three requests for two spots": (2, [1, 1, 1]),
    "TEST-3 ten requests for five spots": (5, [1] * 10),
    "TEST-4 parties of two for five spots": (5, [2, 2, 2]),
    "TEST-6 fifty requests for the last spot": (1, [1] * 50),
}


@pytest.mark.parametrize(("capacity", "parties"), list(SEED_004.values()), ids=list(SEED_004))
async def test_concurrent_checkouts_never_oversell(server: Server, capacity: int, parties: list[int]) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(len(parties))) as client:
        salon = await new_salon(client, server.admin_token)
        slot = await new_slot(client, salon, capacity)
        bodies = [party(n, guests=guests) for n, guests in enumerate(parties)]
        replies = await race(client, f"/api/v1/public/{salon.slug}/slots/{slot['id']}/checkout", bodies)

        winners = [b for b, r in zip(bodies, replies, strict=True) if r.status_code == 201]
        expected_winners = capacity // parties[0]
        assert Counter(r.status_code for r in replies) == {201: expected_winners, 409: len(parties) - expected_winners}
        for reply, body in zip(replies, bodies, strict=True):
            if reply.status_code == 409:
                noun = "guest" if body["guests"] == 1 else "guests"
                assert reply.json()["error"] == {
                    "code": "SLOT_UNAVAILABLE",
                    "message": f"This slot is no longer available for {body['guests']} {noun}",
                }
            else:
                assert reply.json()["data"]["checkoutUrl"]
        left = capacity - sum(b["guests"] for b in winners)
        assert stored_slot(server.database_url, slot["id"]) == (capacity, left, capacity - left)
        assert await slot_remaining(client, salon, slot["id"]) == left


async def test_ten_racers_for_one_garage_slot_get_one_car_in(server: Server) -> None:
    """Seed 003: ten simultaneous bookings of a one-car slot."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(10)) as client:
        salon = await new_salon(client, server.admin_token)
        garage = await new_slot(client, salon, 1)
        replies = await race(
            client, f"/api/v1/public/{salon.slug}/slots/{garage['id']}/book", [party(n) for n in range(10)]
        )
        assert Counter(r.status_code for r in replies) == {201: 1, 409: 9}
        assert stored_slot(server.database_url, garage["id"]) == (1, 0, 1)


async def test_a_held_slot_rejects_ten_racers_and_accepts_its_holder(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(11)) as client:
        salon = await new_salon(client, server.admin_token)
        garage = await new_slot(client, salon, 1)
        base = f"/api/v1/public/{salon.slug}/slots/{garage['id']}"
        hold_id = (await client.post(f"{base}/holds", json={"guests": 1})).json()["data"]["holdId"]

        bodies = [party(n) for n in range(10)] + [party(99, holdId=hold_id)]
        replies = await race(client, f"{base}/book", bodies)
        assert Counter(r.status_code for r in replies[:10]) == {409: 10}
        assert replies[10].status_code == 201 and replies[10].json()["data"]["id"] == hold_id
        assert stored_slot(server.database_url, garage["id"]) == (1, 0, 1)


async def test_a_held_time_rejects_ten_racers_and_accepts_its_holder(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(11)) as client:
        salon = await new_salon(client, server.admin_token)
        start = local_time(3, 10)
        held = await client.post(
            f"/api/v1/public/{salon.slug}/holds",
            json={"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": start},
        )
        hold_id = held.json()["data"]["holdId"]

        bodies = [booking_body(salon, start, n=n) for n in range(10)]
        bodies.append(booking_body(salon, start, n=99) | {"holdId": hold_id})
        replies = await race(client, f"/api/v1/public/{salon.slug}/book", bodies)
        assert Counter(r.json()["error"]["code"] for r in replies[:10]) == {"TIME_CONFLICT": 10}
        assert replies[10].status_code == 201, replies[10].text
        assert len(stored_active_rows(server.database_url, salon.slug)) == 1


async def test_concurrent_holds_on_the_last_seat_have_one_winner(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(20)) as client:
        salon = await new_salon(client, server.admin_token)
        tour = await new_slot(client, salon, 3)
        await client.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book", json=party(0, guests=2))
        replies = await race(client, f"/api/v1/public/{salon.slug}/slots/{tour['id']}/holds", [{"guests": 1}] * 20)
        assert Counter(r.status_code for r in replies) == {201: 1, 409: 19}
        assert stored_slot(server.database_url, tour["id"]) == (3, 0, 3)


async def test_an_expired_hold_frees_the_slot_with_no_clean_up(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(10)) as client:
        salon = await new_salon(client, server.admin_token)
        await set_hold_ttl(client, salon, 1)
        garage = await new_slot(client, salon, 1)
        base = f"/api/v1/public/{salon.slug}/slots/{garage['id']}"
        assert (await client.post(f"{base}/holds", json={"guests": 1})).status_code == 201
        assert (await client.post(f"{base}/book", json=party(0))).status_code == 409
        await asyncio.sleep(1.3)
        replies = await race(client, f"{base}/book", [party(n) for n in range(1, 10)])
        assert Counter(r.status_code for r in replies) == {201: 1, 409: 8}
        assert stored_slot(server.database_url, garage["id"]) == (1, 0, 1)


async def test_a_cancel_racing_bookings_of_the_freed_seat_never_leaves_two(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(11)) as client:
        salon = await new_salon(client, server.admin_token)
        garage = await new_slot(client, salon, 1)
        base = f"/api/v1/public/{salon.slug}/slots/{garage['id']}"
        token = (await client.post(f"{base}/book", json=party(0))).json()["data"]["manageToken"]

        cancel = asyncio.create_task(client.post(f"/api/v1/public/bookings/{token}/cancel"))
        replies = await race(client, f"{base}/book", [party(n) for n in range(1, 11)])
        assert (await cancel).status_code == 200
        assert Counter(r.status_code for r in replies) <= Counter({201: 1, 409: 10})
        capacity, remaining, active = stored_slot(server.database_url, garage["id"])
        assert active <= 1 and remaining == capacity - active


async def test_a_reschedule_racing_bookings_of_its_target_has_one_winner(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(11)) as client:
        salon = await new_salon(client, server.admin_token)
        mine = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(3, 9)))
        token = mine.json()["data"]["manageToken"]
        target = local_time(3, 15)

        move = asyncio.create_task(
            client.post(f"/api/v1/public/bookings/{token}/reschedule", json={"startTime": target})
        )
        replies = await race(
            client, f"/api/v1/public/{salon.slug}/book", [booking_body(salon, target, n=n) for n in range(1, 11)]
        )
        moved = await move
        racer_wins = sum(r.status_code == 201 for r in replies)
        assert {r.status_code for r in replies} <= {201, 409} and moved.status_code in (200, 409)
        assert racer_wins + (moved.status_code == 200) == 1, "exactly one takes the target time"
        rows = stored_active_rows(server.database_url, salon.slug)
        kept_old_time = moved.status_code == 409
        assert len(rows) == 1 + kept_old_time, "the moved booking alone, or the kept one and the racer"
        kept = await client.get(f"/api/v1/public/bookings/{token}")
        assert kept.json()["data"]["startTime"] == (local_time(3, 9) if kept_old_time else target)


async def test_fifty_checkouts_for_five_seats_leave_five_pending_payments(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(50)) as client:
        salon = await new_salon(client, server.admin_token)
        tour = await new_slot(client, salon, 5)
        replies = await race(
            client, f"/api/v1/public/{salon.slug}/slots/{tour['id']}/checkout", [party(n) for n in range(50)]
        )
        assert Counter(r.status_code for r in replies) == {201: 5, 409: 45}
        winners = [r.json()["data"] for r in replies if r.status_code == 201]
        assert all(w["checkoutUrl"] and w["sessionId"] for w in winners)
        for winner in winners:
            managed = await client.get(f"/api/v1/public/bookings/{winner['manageToken']}")
            assert managed.json()["data"]["status"] == "pending_payment"
        assert stored_slot(server.database_url, tour["id"]) == (5, 0, 5)
