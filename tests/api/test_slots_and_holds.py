"""Slots with seats, holds and the manage token, through the HTTP contract on both databases."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import (
    booking_body,
    local_time,
    new_salon,
    new_slot,
    party,
    set_hold_ttl,
    slot_remaining,
)


async def test_a_party_takes_its_seats_and_a_too_large_party_is_told_how_many_guests(
    client: httpx.AsyncClient,
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = await new_slot(client, salon, capacity=5)
    later = await new_slot(client, salon, capacity=4, hour=14)
    assert tour["remaining"] == 5
    book = f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book"

    first = await client.post(book, json=party(1, guests=3))
    assert first.status_code == 201, first.text
    assert (
        first.json()["data"] | {"guests": 3, "kind": "slot", "status": "confirmed", "slotId": tour["id"]}
        == (first.json()["data"])
    )
    assert first.json()["data"]["manageToken"]

    refused = await client.post(book, json=party(2, guests=3))
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "SLOT_UNAVAILABLE",
        "message": "This slot is no longer available for 3 guests",
    }
    assert [a["slotId"] for a in refused.json()["alternatives"]] == [later["id"]]
    assert refused.json()["alternatives"][0]["remaining"] == 4

    assert (await client.post(book, json=party(3, guests=2))).status_code == 201
    assert await slot_remaining(client, salon, tour["id"]) == 0


async def test_cancelling_a_slot_booking_gives_its_seats_back(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    garage = await new_slot(client, salon, capacity=1)
    book = f"/api/v1/public/{salon.slug}/slots/{garage['id']}/book"
    token = (await client.post(book, json=party(1))).json()["data"]["manageToken"]
    assert (await client.post(book, json=party(2))).status_code == 409

    cancelled = await client.post(f"/api/v1/public/bookings/{token}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["data"]["status"] == "cancelled"
    assert await slot_remaining(client, salon, garage["id"]) == 1
    assert (await client.post(book, json=party(2))).status_code == 201
    assert await slot_remaining(client, salon, garage["id"]) == 0


async def test_a_seat_hold_keeps_seats_for_its_holder_only(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = await new_slot(client, salon, capacity=3)
    base = f"/api/v1/public/{salon.slug}/slots/{tour['id']}"

    hold = await client.post(f"{base}/holds", json={"guests": 2})
    assert hold.status_code == 201, hold.text
    hold_id = hold.json()["data"]["holdId"]
    assert await slot_remaining(client, salon, tour["id"]) == 1
    assert (await client.post(f"{base}/book", json=party(1, guests=2))).status_code == 409

    booked = await client.post(f"{base}/book", json=party(2, holdId=hold_id))
    assert booked.status_code == 201, booked.text
    assert booked.json()["data"]["id"] == hold_id and booked.json()["data"]["guests"] == 2
    assert await slot_remaining(client, salon, tour["id"]) == 1

    used = await client.post(f"{base}/book", json=party(3, holdId=hold_id))
    assert used.status_code == 409 and used.json()["error"]["code"] == "HOLD_EXPIRED"


async def test_an_expired_hold_frees_its_seats_without_any_clean_up(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    await set_hold_ttl(client, salon, 1)
    garage = await new_slot(client, salon, capacity=1)
    base = f"/api/v1/public/{salon.slug}/slots/{garage['id']}"
    hold_id = (await client.post(f"{base}/holds", json={"guests": 1})).json()["data"]["holdId"]
    assert (await client.post(f"{base}/book", json=party(1))).status_code == 409

    await asyncio.sleep(1.2)
    assert await slot_remaining(client, salon, garage["id"]) == 1
    late = await client.post(f"{base}/book", json=party(2, holdId=hold_id))
    assert late.status_code == 409 and late.json()["error"]["code"] == "HOLD_EXPIRED"
    assert (await client.post(f"{base}/book", json=party(3))).status_code == 201
    assert await slot_remaining(client, salon, garage["id"]) == 0


async def test_a_time_hold_blocks_others_and_is_booked_by_its_holder(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    start = local_time(3, 11)
    held = await client.post(
        f"/api/v1/public/{salon.slug}/holds",
        json={"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": start},
    )
    assert held.status_code == 201, held.text
    hold = held.json()["data"]
    assert hold["staffId"] == salon.staff_ids[0] and hold["startTime"] == start

    book = f"/api/v1/public/{salon.slug}/book"
    taken = await client.post(book, json=booking_body(salon, start, n=1))
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "TIME_CONFLICT"
    assert start not in [a["startTime"] for a in taken.json()["alternatives"]]

    elsewhere = await client.post(book, json=booking_body(salon, local_time(3, 12), n=3) | {"holdId": hold["holdId"]})
    assert elsewhere.status_code == 422 and elsewhere.json()["details"][0]["field"] == "holdId"

    mine = await client.post(book, json=booking_body(salon, start, n=2) | {"holdId": hold["holdId"]})
    assert mine.status_code == 201, mine.text
    assert mine.json()["data"]["status"] == "confirmed" and mine.json()["data"]["id"] == hold["holdId"]


async def test_bad_slot_input_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    create = f"/api/v1/businesses/{salon.slug}/slots"
    service_id = salon.service_ids["cut"]
    backwards = {"serviceId": service_id, "startTime": local_time(2, 10), "endTime": local_time(2, 9), "capacity": 2}
    assert (await client.post(create, json=backwards, headers=salon.owner)).status_code == 422
    empty = backwards | {"endTime": local_time(2, 11), "capacity": 0}
    assert (await client.post(create, json=empty, headers=salon.owner)).status_code == 422
    assert (await client.post(create, json=empty | {"capacity": 2})).status_code == 401
    unknown = empty | {"capacity": 2, "serviceId": "00000000-0000-0000-0000-000000000000"}
    assert (await client.post(create, json=unknown, headers=salon.owner)).status_code == 404
    assert (await client.get(f"/api/v1/public/{salon.slug}/slots")).json()["data"] == []

    tour = await new_slot(client, salon, capacity=2)
    book = f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book"
    too_many = await client.post(book, json=party(1, guests=3))
    assert too_many.status_code == 422 and too_many.json()["details"][0]["field"] == "guests"
    assert (await client.post(book, json=party(1, guests=0))).status_code == 422
    assert (await client.post(f"/api/v1/public/{salon.slug}/slots/{service_id}/book", json=party(1))).status_code == 404
    assert await slot_remaining(client, salon, tour["id"]) == 2


async def test_rescheduling_moves_an_appointment_and_a_refusal_keeps_the_old_time(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    book = f"/api/v1/public/{salon.slug}/book"
    mine = (await client.post(book, json=booking_body(salon, local_time(3, 10)))).json()["data"]
    assert (await client.post(book, json=booking_body(salon, local_time(3, 12), n=1))).status_code == 201
    move = f"/api/v1/public/bookings/{mine['manageToken']}/reschedule"

    overlapping_itself = await client.post(move, json={"startTime": local_time(3, 10, 15)})
    assert overlapping_itself.status_code == 200, overlapping_itself.text
    assert overlapping_itself.json()["data"]["startTime"] == local_time(3, 10, 15)
    assert overlapping_itself.json()["data"]["id"] == mine["id"]

    taken = await client.post(move, json={"startTime": local_time(3, 12)})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "TIME_CONFLICT"
    assert taken.json()["alternatives"]
    kept = (await client.get(f"/api/v1/public/bookings/{mine['manageToken']}")).json()["data"]
    assert kept["startTime"] == local_time(3, 10, 15) and kept["status"] == "confirmed"

    assert (await client.post(book, json=booking_body(salon, local_time(3, 9, 45), n=2))).status_code == 201
    outside = await client.post(move, json={"startTime": local_time(3, 23)})
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "OUTSIDE_AVAILABILITY"
    assert (await client.post(move, json={"slotId": mine["id"]})).status_code == 422


async def test_rescheduling_a_party_moves_its_seats_to_the_other_slot(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    morning = await new_slot(client, salon, capacity=4)
    afternoon = await new_slot(client, salon, capacity=3, hour=15)
    full = await new_slot(client, salon, capacity=1, hour=17)
    booked = await client.post(f"/api/v1/public/{salon.slug}/slots/{morning['id']}/book", json=party(1, guests=3))
    token = booked.json()["data"]["manageToken"]
    move = f"/api/v1/public/bookings/{token}/reschedule"

    assert (await client.post(move, json={"slotId": full["id"]})).json()["error"]["code"] == "SLOT_UNAVAILABLE"
    moved = await client.post(move, json={"slotId": afternoon["id"]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["data"]["slotId"] == afternoon["id"]
    assert await slot_remaining(client, salon, morning["id"]) == 4
    assert await slot_remaining(client, salon, afternoon["id"]) == 0
    assert await slot_remaining(client, salon, full["id"]) == 1


async def test_customers_are_not_shown_slots_that_start_within_the_minimum_notice(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN, min_notice_minutes=24 * 60)
    tonight = await new_slot(client, salon, capacity=2, days_ahead=0, hour=23)
    later = await new_slot(client, salon, capacity=2, days_ahead=3)
    public = (await client.get(f"/api/v1/public/{salon.slug}/slots")).json()["data"]
    assert [s["id"] for s in public] == [later["id"]]
    owner = (await client.get(f"/api/v1/businesses/{salon.slug}/slots", headers=salon.owner)).json()["data"]
    assert [s["id"] for s in owner] == [tonight["id"], later["id"]]
