"""Owner and customers racing for one time against a real `slotguard serve --workers 2`: the desk goes
through the same claim, so exactly one of them wins, on both databases."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx

from tests.e2e.conftest import Server
from tests.e2e.salon import booking_body, calendar, connection_limits, local_time, new_salon, stored_active_rows


async def test_owner_and_customers_racing_for_one_time_get_one_booking(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(40)) as client:
        salon = await new_salon(client, server.admin_token)
        start = local_time(3, 10)
        gate = asyncio.Event()

        async def one(n: int) -> httpx.Response:
            body: dict[str, Any] = booking_body(salon, start, n=n)
            await gate.wait()
            if n % 2:
                return await client.post(
                    f"/api/v1/businesses/{salon.slug}/appointments", json=body, headers=salon.owner
                )
            return await client.post(f"/api/v1/public/{salon.slug}/book", json=body)

        tasks = [asyncio.create_task(one(n)) for n in range(40)]
        await asyncio.sleep(0.05)
        gate.set()
        replies = await asyncio.gather(*tasks)

        assert Counter(r.status_code for r in replies) == {201: 1, 409: 39}
        assert {r.json()["error"]["code"] for r in replies if r.status_code == 409} == {"TIME_CONFLICT"}
        winner = next(r.json()["data"] for r in replies if r.status_code == 201)
        stored = await calendar(client, salon, status="confirmed")
        assert [b["id"] for b in stored] == [winner["id"]]
        assert len(stored_active_rows(server.database_url, salon.slug)) == 1


async def test_owner_reschedules_racing_for_one_free_time_move_one_booking(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(20)) as client:
        salon = await new_salon(client, server.admin_token)
        booked = []
        for n in range(10):
            reply = await client.post(
                f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(4, 8 + n), n=n)
            )
            assert reply.status_code == 201, reply.text
            booked.append(reply.json()["data"]["id"])
        target = local_time(5, 12)
        gate = asyncio.Event()

        async def move(booking_id: str) -> httpx.Response:
            await gate.wait()
            url = f"/api/v1/businesses/{salon.slug}/appointments/{booking_id}/reschedule"
            return await client.post(url, json={"startTime": target}, headers=salon.owner)

        tasks = [asyncio.create_task(move(b)) for b in booked]
        await asyncio.sleep(0.05)
        gate.set()
        replies = await asyncio.gather(*tasks)
        assert Counter(r.status_code for r in replies) == {200: 1, 409: 9}
        stored = await calendar(client, salon, status="confirmed")
        assert len(stored) == 10 and sum(b["startTime"] == target for b in stored) == 1
        assert len(stored_active_rows(server.database_url, salon.slug)) == 10
