"""Seed 000's promise, against a real `slotguard serve --workers 2`: racers for one time, one winner."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from datetime import datetime

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.e2e.salon import booking_body, calendar, connection_limits, local_time, new_salon, race, stored_active_rows


async def test_hundred_racers_for_one_time_get_one_booking(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(100)) as client:
        salon = await new_salon(client, server.admin_token)
        start = local_time(3, 10)
        bodies = [booking_body(salon, start, n=n) for n in range(100)]
        replies = await race(client, f"/api/v1/public/{salon.slug}/book", bodies)

        statuses = Counter(r.status_code for r in replies)
        codes = Counter(r.json()["error"]["code"] for r in replies if r.status_code == 409)
        assert statuses == {201: 1, 409: 99}, statuses
        assert codes == {"TIME_CONFLICT": 99}
        assert all(r.json()["alternatives"] for r in replies if r.status_code == 409)

        winner = next(r.json()["data"] for r in replies if r.status_code == 201)
        stored = await calendar(client, salon, status="confirmed")
        assert [b["id"] for b in stored] == [winner["id"]]
        assert stored[0]["startTime"] == start
        assert len(stored_active_rows(server.database_url, salon.slug)) == 1


async def test_overlapping_requests_of_mixed_durations_never_overlap(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(60)) as client:
        salon = await new_salon(client, server.admin_token, durations={"short": 30, "mid": 45, "long": 90})
        rng = random.Random(7)
        bodies = [
            booking_body(
                salon, local_time(4, 10, 15 * rng.randrange(12)), service=rng.choice(["short", "mid", "long"]), n=n
            )
            for n in range(60)
        ]
        replies = await race(client, f"/api/v1/public/{salon.slug}/book", bodies)

        assert {r.status_code for r in replies} <= {201, 409}
        winners = {r.json()["data"]["id"] for r in replies if r.status_code == 201}
        stored = await calendar(client, salon, status="confirmed")
        assert {b["id"] for b in stored} == winners
        intervals = sorted(
            (datetime.fromisoformat(b["startTime"]), datetime.fromisoformat(b["endTime"])) for b in stored
        )
        for (_, end), (next_start, _) in itertools.pairwise(intervals):
            assert end <= next_start, "two stored bookings overlap"
        assert len(stored_active_rows(server.database_url, salon.slug)) == len(winners)


async def test_any_staff_racers_fill_every_free_staff_member(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=connection_limits(30)) as client:
        salon = await new_salon(client, server.admin_token, staff=3)
        start = local_time(5, 11)
        bodies = [booking_body(salon, start, staff_id=None, n=n) for n in range(30)]
        replies = await race(client, f"/api/v1/public/{salon.slug}/book", bodies)

        winners = [r.json()["data"] for r in replies if r.status_code == 201]
        assert Counter(r.status_code for r in replies) == {201: 3, 409: 27}
        assert sorted(w["staffId"] for w in winners) == sorted(salon.staff_ids)
        assert len(await calendar(client, salon, status="confirmed")) == 3


async def test_every_alternative_offered_on_conflict_is_bookable(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        start = local_time(6, 9)
        book = f"/api/v1/public/{salon.slug}/book"
        assert (await client.post(book, json=booking_body(salon, start))).status_code == 201
        conflict = await client.post(book, json=booking_body(salon, start, n=1))
        assert conflict.status_code == 409
        alternatives = conflict.json()["alternatives"]
        assert len(alternatives) == 5
        assert all(a["staffId"] == salon.staff_ids[0] for a in alternatives)
        for n, alternative in enumerate(alternatives, start=2):
            reply = await client.post(book, json=booking_body(salon, alternative["startTime"], n=n))
            assert reply.status_code == 201, reply.text
            cancel = f"/api/v1/businesses/{salon.slug}/appointments/{reply.json()['data']['id']}/cancel"
            assert (await client.post(cancel, headers=salon.owner)).status_code == 200


pytestmark = pytest.mark.e2e
