"""A customer whose connection dies after the server committed presses "Book" again: one booking."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, Server, start_server, stop_server
from tests.e2e.salon import booking_body, calendar, connection_limits, local_time, new_salon, stored_active_rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooked_server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """`slotguard serve --workers 2` with the test hooks on (a delay between commit and reply)."""
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    process, url = start_server(database_url, extra_env={"SLOTGUARD_TEST_HOOKS": "1"})
    yield Server(url=url, database_url=database_url, admin_token=ADMIN_TOKEN)
    stop_server(process)


async def post_until_answered(client: httpx.AsyncClient, url: str, body: dict, key: str) -> httpx.Response:
    for _ in range(50):
        reply = await client.post(url, json=body, headers={"Idempotency-Key": key})
        if reply.status_code != 409 or reply.json()["error"]["code"] != "IDEMPOTENCY_IN_PROGRESS":
            return reply
        assert reply.headers["Retry-After"] == "1"
        await asyncio.sleep(0.2)
    raise AssertionError("the first request never finished")


async def test_retry_after_a_connection_lost_past_the_commit_books_once(hooked_server: Server) -> None:
    async with httpx.AsyncClient(base_url=hooked_server.url, timeout=30) as client:
        salon = await new_salon(client, hooked_server.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        body, key = booking_body(salon, local_time(3, 10)), str(uuid.uuid4())
        with pytest.raises(httpx.ReadTimeout):
            await client.post(
                book, json=body, headers={"Idempotency-Key": key, "X-Test-Delay-After-Commit": "1.5"}, timeout=0.5
            )

        first = await post_until_answered(client, book, body, key)
        again = await client.post(book, json=body, headers={"Idempotency-Key": key})

        assert first.status_code == again.status_code == 201, first.text
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert [b["id"] for b in await calendar(client, salon)] == [first.json()["data"]["id"]]
        assert len(stored_active_rows(hooked_server.database_url, salon.slug)) == 1


async def test_same_key_with_another_body_is_refused_and_writes_nothing(hooked_server: Server) -> None:
    async with httpx.AsyncClient(base_url=hooked_server.url, timeout=30) as client:
        salon = await new_salon(client, hooked_server.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        key = str(uuid.uuid4())
        assert (
            await client.post(book, json=booking_body(salon, local_time(3, 10)), headers={"Idempotency-Key": key})
        ).status_code == 201
        other = await client.post(book, json=booking_body(salon, local_time(3, 11)), headers={"Idempotency-Key": key})

        assert other.status_code == 422
        assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert len(stored_active_rows(hooked_server.database_url, salon.slug)) == 1


async def test_twins_in_flight_get_one_write_and_a_409_with_retry_after(hooked_server: Server) -> None:
    async with httpx.AsyncClient(base_url=hooked_server.url, timeout=30, limits=connection_limits(10)) as client:
        salon = await new_salon(client, hooked_server.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        body, key = booking_body(salon, local_time(3, 12)), str(uuid.uuid4())
        headers = {"Idempotency-Key": key, "X-Test-Delay-After-Commit": "1"}
        replies = await asyncio.gather(*(client.post(book, json=body, headers=headers) for _ in range(10)))

        codes = Counter(r.status_code if r.status_code == 201 else r.json()["error"]["code"] for r in replies)
        assert codes[201] >= 1 and codes[201] + codes["IDEMPOTENCY_IN_PROGRESS"] == 10, codes
        assert all(r.headers["Retry-After"] for r in replies if r.status_code == 409)
        assert len({r.json()["data"]["id"] for r in replies if r.status_code == 201}) == 1
        assert len(stored_active_rows(hooked_server.database_url, salon.slug)) == 1


async def test_a_failed_request_releases_its_key_for_the_retry(hooked_server: Server) -> None:
    async with httpx.AsyncClient(base_url=hooked_server.url, timeout=30) as client:
        salon = await new_salon(client, hooked_server.admin_token)
        book = f"/api/v1/public/{salon.slug}/book"
        key = str(uuid.uuid4())
        body = booking_body(salon, local_time(3, 13))
        taken = await client.post(book, json=body)
        refused = await client.post(book, json=body, headers={"Idempotency-Key": key})
        replayed = await client.post(book, json=body, headers={"Idempotency-Key": key})

        assert taken.status_code == 201
        assert refused.status_code == replayed.status_code == 409
        assert replayed.json() == refused.json()


pytestmark = pytest.mark.e2e
