"""A booking keeps the details it was made with: an anonymous booking with someone else's email cannot
rewrite that person's name and phone (which the owner reads, and which their texts go to)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, booking_body, local_time, new_salon

VICTIM = {"firstName": "Vera", "lastName": "Victim", "email": "vera@example.com", "phone": "+4915100000001"}
ATTACKER = {"firstName": "Mallory", "lastName": "Evil", "email": "VERA@example.com", "phone": "+4915199999999"}


async def book(client: httpx.AsyncClient, salon: Salon, day: int, details: dict[str, str]) -> dict[str, Any]:
    reply = await client.post(
        f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(day, 10)) | details
    )
    assert reply.status_code == 201, reply.text
    data: dict[str, Any] = reply.json()["data"]
    return data


def name_and_phone(client: dict[str, Any]) -> tuple[str, str, str]:
    return client["firstName"], client["lastName"], client["phone"]


async def test_a_booking_with_the_victims_email_does_not_change_the_victims_details(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    victims = await book(client, salon, 2, VICTIM)
    attackers = await book(client, salon, 3, ATTACKER)

    read_back = (await client.get(f"/api/v1/public/bookings/{victims['manageToken']}")).json()["data"]
    assert name_and_phone(read_back["client"]) == ("Vera", "Victim", "+4915100000001")
    listed = (await client.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)).json()["data"]
    by_id = {row["id"]: name_and_phone(row["client"]) for row in listed}
    assert by_id == {
        victims["id"]: ("Vera", "Victim", "+4915100000001"),
        attackers["id"]: ("Mallory", "Evil", "+4915199999999"),
    }

    # The victim's own later booking with the same details is theirs as before.
    again = await book(client, salon, 4, VICTIM)
    assert name_and_phone(again["client"]) == ("Vera", "Victim", "+4915100000001")
