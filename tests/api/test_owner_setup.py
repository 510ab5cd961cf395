"""The owner's setup routes (SPEC §7): settings read back; services and staff listed, read, patched and
retired, with every existing booking kept as it was and every change audited with actor `owner`."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, booking_body, calendar, local_time, new_salon


@pytest.fixture
async def salon(client: httpx.AsyncClient) -> Salon:
    return await new_salon(client, ADMIN_TOKEN)


def _base(salon: Salon) -> str:
    return f"/api/v1/businesses/{salon.slug}"


async def _ok(reply: httpx.Response, status: int = 200) -> Any:
    assert reply.status_code == status, reply.text
    return reply.json()["data"]


async def _book(client: httpx.AsyncClient, salon: Salon, start: str) -> Any:
    return await _ok(await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, start)), 201)


async def _owner_audit(client: httpx.AsyncClient, salon: Salon) -> list[dict[str, Any]]:
    """The owner's entries since the salon was set up (its services and staff members being created)."""
    entries = await _ok(await client.get(f"{_base(salon)}/audit-log", headers=salon.owner))
    services = {("service_created", i) for i in salon.service_ids.values()}
    setup = services | {("staff_created", i) for i in salon.staff_ids}
    created = {(e["action"], _created_id(e)) for e in entries}
    assert setup <= created, "setting up the salon is audited"
    return [e for e in entries if e["bookingId"] is None and (e["action"], _created_id(e)) not in setup]


def _created_id(entry: dict[str, Any]) -> str | None:
    details: dict[str, Any] = entry["details"]
    return details.get("serviceId") or details.get("staffId")


async def test_the_owner_reads_every_setting_back_but_never_the_key(client: httpx.AsyncClient, salon: Salon) -> None:
    await _ok(await client.patch(_base(salon), json={"minNoticeMinutes": 30}, headers=salon.owner))
    [entry] = await _owner_audit(client, salon)
    assert (entry["action"], entry["actor"], entry["details"]) == (
        "business_changed",
        "owner",
        {"fields": ["min_notice_minutes"]},
    )
    business = await _ok(await client.get(_base(salon), headers=salon.owner))
    assert business["slug"] == salon.slug and business["timezone"] == "Europe/Berlin"
    assert business["minNoticeMinutes"] == 30 and business["horizonDays"] == 60
    assert "apiKey" not in business and salon.api_key not in str(business)
    other = await new_salon(client, ADMIN_TOKEN)
    assert (await client.get(_base(salon), headers=other.owner)).status_code == 403
    assert (await client.get(_base(salon))).status_code == 401


async def test_a_service_patch_changes_future_bookings_only(client: httpx.AsyncClient, salon: Salon) -> None:
    booked = await _book(client, salon, local_time(3, 10))
    service_url = f"{_base(salon)}/services/{salon.service_ids['cut']}"
    patched = await _ok(
        await client.patch(service_url, json={"durationMinutes": 45, "priceCents": 2500}, headers=salon.owner)
    )
    assert patched["durationMinutes"] == 45 and patched["priceCents"] == 2500 and patched["name"] == "cut"
    assert await _ok(await client.get(service_url, headers=salon.owner)) == patched
    [kept] = await calendar(client, salon)
    assert (kept["startTime"], kept["endTime"], kept["status"]) == (booked["startTime"], booked["endTime"], "confirmed")
    later = await _book(client, salon, local_time(3, 12))
    assert later["endTime"] == local_time(3, 12, 45)
    [entry] = await _owner_audit(client, salon)
    assert (entry["action"], entry["actor"]) == ("service_changed", "owner")
    assert sorted(entry["details"]["fields"]) == ["duration_minutes", "price_cents"]


async def test_a_bad_patch_is_refused_and_changes_nothing(client: httpx.AsyncClient, salon: Salon) -> None:
    service_url = f"{_base(salon)}/services/{salon.service_ids['cut']}"
    before = await _ok(await client.get(service_url, headers=salon.owner))
    for body in (
        {"durationMinutes": 0},
        {"name": None},
        {"bufferAfterMinutes": 720, "durationMinutes": 1000},  # longer than a day with its buffer
        {"colour": "red"},
    ):
        reply = await client.patch(service_url, json=body, headers=salon.owner)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "VALIDATION_ERROR", (body, reply.text)
        assert reply.json()["success"] is False and reply.json()["details"]
    staff_url = f"{_base(salon)}/staff/{salon.staff_ids[0]}"
    staff_before = await _ok(await client.get(staff_url, headers=salon.owner))
    for body in (
        {"workingHours": {"mon": [["18:00", "09:00"]]}},
        {"workingHours": {"someday": [["09:00", "17:00"]]}},
        {"timeOff": [{"startTime": "2030-01-02T10:00:00", "endTime": "2030-01-02T12:00:00"}]},
        {"email": "not an address"},
    ):
        reply = await client.patch(staff_url, json=body, headers=salon.owner)
        assert reply.status_code == 422 and reply.json()["error"]["code"] == "VALIDATION_ERROR", (body, reply.text)
    unknown_service = {"serviceIds": ["00000000-0000-4000-8000-000000000000"]}
    assert (await client.patch(staff_url, json=unknown_service, headers=salon.owner)).status_code == 404
    missing = f"{_base(salon)}/services/00000000-0000-4000-8000-000000000000"
    assert (await client.patch(missing, json={"priceCents": 1}, headers=salon.owner)).status_code == 404
    assert await _ok(await client.get(service_url, headers=salon.owner)) == before
    assert await _ok(await client.get(staff_url, headers=salon.owner)) == staff_before
    assert await _owner_audit(client, salon) == []


async def test_new_hours_and_time_off_keep_existing_bookings(client: httpx.AsyncClient, salon: Salon) -> None:
    booked = await _book(client, salon, local_time(3, 10))
    staff_url = f"{_base(salon)}/staff/{salon.staff_ids[0]}"
    off = {"startTime": local_time(3, 9), "endTime": local_time(3, 13)}
    hours = {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], "sat": [["10:00", "14:00"]]}
    member = await _ok(
        await client.patch(staff_url, json={"workingHours": hours, "timeOff": [off]}, headers=salon.owner)
    )
    assert member["workingHours"] == hours and member["name"] == "Stylist 0"
    assert member["timeOff"] == [off] and member["serviceIds"] == [salon.service_ids["cut"]]
    [kept] = await calendar(client, salon)
    assert (kept["id"], kept["startTime"], kept["status"]) == (booked["id"], booked["startTime"], "confirmed")
    # The time off now refuses customers that day.
    refused = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(3, 11), n=1))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "OUTSIDE_AVAILABILITY"
    assert [e["action"] for e in await _owner_audit(client, salon)] == ["staff_changed"]


async def test_retired_service_and_staff_are_not_bookable_but_their_bookings_stay(
    client: httpx.AsyncClient, salon: Salon
) -> None:
    booked = await _book(client, salon, local_time(3, 10))
    service_id, staff_id = salon.service_ids["cut"], salon.staff_ids[0]
    assert (await client.delete(f"{_base(salon)}/staff/{staff_id}", headers=salon.owner)).status_code == 204
    assert (await client.delete(f"{_base(salon)}/services/{service_id}", headers=salon.owner)).status_code == 204
    assert (await client.delete(f"{_base(salon)}/services/{service_id}", headers=salon.owner)).status_code == 204

    assert await _ok(await client.get(f"{_base(salon)}/services", headers=salon.owner)) == []
    assert await _ok(await client.get(f"{_base(salon)}/staff", headers=salon.owner)) == []
    [service] = await _ok(await client.get(f"{_base(salon)}/services?includeRetired=true", headers=salon.owner))
    [member] = await _ok(await client.get(f"{_base(salon)}/staff?includeRetired=true", headers=salon.owner))
    assert service["retired"] is True and member["retired"] is True
    public = await _ok(await client.get(f"/api/v1/public/{salon.slug}"))
    assert public["services"] == [] and public["staff"] == []
    again = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(4, 10)))
    assert again.status_code == 404
    [kept] = await calendar(client, salon)
    assert (kept["id"], kept["status"]) == (booked["id"], "confirmed")
    assert [e["action"] for e in await _owner_audit(client, salon)] == ["service_retired", "staff_retired"]
    missing = f"{_base(salon)}/staff/00000000-0000-4000-8000-000000000000"
    assert (await client.delete(missing, headers=salon.owner)).status_code == 404


async def test_services_and_staff_lists_page(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN, staff=3, durations={"cut": 30, "colour": 90, "wash": 15})
    for kind, expected in (("services", list(salon.service_ids.values())), ("staff", salon.staff_ids)):
        seen, cursor = [], None
        while True:
            params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
            page = (await client.get(f"{_base(salon)}/{kind}", params=params, headers=salon.owner)).json()
            seen += [row["id"] for row in page["data"]]
            cursor = page["meta"]["nextCursor"]
            if cursor is None:
                break
        assert seen == expected


async def test_a_service_patch_passes_every_create_field_through_resources_too(
    client: httpx.AsyncClient, salon: Salon
) -> None:
    room = await _ok(await client.post(f"{_base(salon)}/resources", json={"name": "Room 1"}, headers=salon.owner), 201)
    service_url = f"{_base(salon)}/services/{salon.service_ids['cut']}"
    patched = await _ok(await client.patch(service_url, json={"resourceIds": [room["id"]]}, headers=salon.owner))
    assert patched["resourceIds"] == [room["id"]]
    assert (await _ok(await client.get(service_url, headers=salon.owner)))["resourceIds"] == [room["id"]]
    unknown = {"resourceIds": ["00000000-0000-4000-8000-000000000000"]}
    assert (await client.patch(service_url, json=unknown, headers=salon.owner)).status_code == 404
    cleared = await _ok(await client.patch(service_url, json={"resourceIds": []}, headers=salon.owner))
    assert cleared["resourceIds"] == []


async def test_creating_a_service_a_staff_member_and_a_slot_is_audited_as_the_owners(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = {"name": "Tour", "durationMinutes": 60}
    service = await _ok(await client.post(f"{_base(salon)}/services", json=tour, headers=salon.owner), 201)
    member = {"name": "Robin", "serviceIds": [service["id"]], "workingHours": {"mon": [["09:00", "17:00"]]}}
    staff = await _ok(await client.post(f"{_base(salon)}/staff", json=member, headers=salon.owner), 201)
    times = {"serviceId": service["id"], "startTime": local_time(5, 10), "endTime": local_time(5, 11), "capacity": 8}
    slot = await _ok(await client.post(f"{_base(salon)}/slots", json=times, headers=salon.owner), 201)
    entries = await _ok(await client.get(f"{_base(salon)}/audit-log", headers=salon.owner))
    newest = [(e["action"], e["actor"], e["details"]) for e in entries[:3]]
    assert newest == [
        ("slot_created", "owner", {"slotId": slot["id"], "serviceId": service["id"], "capacity": 8}),
        ("staff_created", "owner", {"staffId": staff["id"], "name": "Robin"}),
        ("service_created", "owner", {"serviceId": service["id"], "name": "Tour"}),
    ]
