"""The hold cap against a real `slotguard serve --workers 2`: racing holds from one client leave exactly the cap."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx

from tests.e2e.conftest import Server
from tests.e2e.salon import connection_limits, new_salon, new_slot, stored_slot

CAP = 3
RACERS = 16


async def test_racing_holds_from_one_client_leave_exactly_the_cap_and_every_other_seat_free(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(RACERS)) as client:
        salon = await new_salon(client, server.admin_token)
        # Holds outlive the session, so that no other test's global clean-up finds them lapsed.
        limits = {"maxActiveHolds": CAP, "holdTtlSeconds": 3600}
        patched = await client.patch(f"/api/v1/businesses/{salon.slug}", json=limits, headers=salon.owner)
        assert patched.status_code == 200, patched.text
        slots = [await new_slot(client, salon, 1, days_ahead=3 + n // 8, hour=9 + n % 8) for n in range(RACERS)]
        gate = asyncio.Event()

        async def hold(slot_id: str) -> httpx.Response:
            await gate.wait()
            return await client.post(f"/api/v1/public/{salon.slug}/slots/{slot_id}/holds", json={"guests": 1})

        tasks = [asyncio.create_task(hold(slot["id"])) for slot in slots]
        await asyncio.sleep(0.05)
        gate.set()
        replies = await asyncio.gather(*tasks)

    assert Counter(r.status_code for r in replies) == {201: CAP, 429: RACERS - CAP}, [r.text for r in replies]
    assert all(int(r.headers["Retry-After"]) >= 1 for r in replies if r.status_code == 429)
    held = [stored_slot(server.database_url, slot["id"]) for slot in slots]
    assert sorted(held) == [(1, 0, 1)] * CAP + [(1, 1, 0)] * (RACERS - CAP), "released holds gave their seat back"
