"""What the console reads: holds beside bookings on request, and the desk's client search."""

from __future__ import annotations

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import booking_body, calendar, local_time, new_salon


async def test_holds_are_listed_only_when_asked_for(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    held = await client.post(
        f"/api/v1/public/{salon.slug}/holds",
        json={"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": local_time(2, 10)},
    )
    assert held.status_code == 201, held.text
    booked = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 11)))
    assert booked.status_code == 201
    assert [b["status"] for b in await calendar(client, salon)] == ["confirmed"]
    both = await calendar(client, salon, includeHolds="true")
    assert [(b["status"], b["client"] is None) for b in both] == [("held", True), ("confirmed", False)]


async def test_a_window_finds_a_booking_that_began_before_it(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN, durations={"colour": 120})
    body = booking_body(salon, local_time(2, 10), service="colour")
    booked = (await client.post(f"/api/v1/public/{salon.slug}/book", json=body)).json()["data"]
    inside = await calendar(client, salon, **{"from": local_time(2, 11), "to": local_time(2, 13)})
    assert [b["id"] for b in inside] == [booked["id"]]
    assert await calendar(client, salon, **{"from": local_time(2, 12), "to": local_time(2, 13)}) == []


async def test_the_desk_finds_clients_by_the_start_of_a_name_or_email(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    for n, (first, last, email) in enumerate(
        (
            ("Ada", "Lovelace", "ada@example.com"),
            ("Grace", "Hopper", "grace@example.com"),
            ("Adam", "Smith", "adam@x.org"),
        )
    ):
        body = booking_body(salon, local_time(3, 9 + n)) | {"firstName": first, "lastName": last, "email": email}
        assert (await client.post(f"/api/v1/public/{salon.slug}/book", json=body)).status_code == 201

    async def found(q: str) -> list[str]:
        reply = await client.get(f"/api/v1/businesses/{salon.slug}/clients", params={"q": q}, headers=salon.owner)
        assert reply.status_code == 200, reply.text
        return [c["email"] for c in reply.json()["data"]]

    assert await found("ad") == ["ada@example.com", "adam@x.org"]
    assert await found("HOP") == ["grace@example.com"]
    assert await found("grace@") == ["grace@example.com"]
    assert await found("%") == []
    other = await new_salon(client, ADMIN_TOKEN)
    reply = await client.get(f"/api/v1/businesses/{other.slug}/clients", params={"q": "ada"}, headers=other.owner)
    assert reply.json()["data"] == []
    bad = await client.get(f"/api/v1/businesses/{salon.slug}/clients", params={"q": ""}, headers=salon.owner)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "VALIDATION_ERROR"
