"""Bad input gets its contract status and code, in the error envelope, and writes nothing."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import Salon, booking_body, local_time, new_salon


@pytest.fixture
async def salon(client: httpx.AsyncClient) -> Salon:
    return await new_salon(client, ADMIN_TOKEN)


async def _nothing_written(client: httpx.AsyncClient, salon: Salon) -> None:
    appointments = await client.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)
    audit = await client.get(f"/api/v1/businesses/{salon.slug}/audit-log", headers=salon.owner)
    assert appointments.json()["data"] == []
    setup = {"service_created": len(salon.service_ids), "staff_created": len(salon.staff_ids)}
    assert Counter(e["action"] for e in audit.json()["data"]) == setup, "only the salon's own setup is audited"


def _error(reply: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    body: dict[str, Any] = reply.json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body


async def test_malformed_json_is_a_bad_request(client: httpx.AsyncClient, salon: Salon) -> None:
    reply = await client.post(
        f"/api/v1/public/{salon.slug}/book", content=b'{"serviceId": ', headers={"content-type": "application/json"}
    )
    _error(reply, 400, "BAD_REQUEST")
    await _nothing_written(client, salon)


async def test_missing_fields_are_listed_in_details(client: httpx.AsyncClient, salon: Salon) -> None:
    body = booking_body(salon, local_time(2, 10))
    del body["email"], body["firstName"]
    details = _error(await client.post(f"/api/v1/public/{salon.slug}/book", json=body), 422, "VALIDATION_ERROR")[
        "details"
    ]
    assert {d["field"] for d in details} == {"email", "firstName"}
    await _nothing_written(client, salon)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("startTime", "2031-01-01T10:00:00"),  # no offset
        ("startTime", "tomorrow"),
        ("email", "not-an-email"),
        ("email", "a" * 250 + "@example.com"),
        ("firstName", "x" * 101),
        ("notes", "x" * 2001),
        ("serviceId", "not-a-uuid"),
        ("unknownField", 1),
    ],
)
async def test_invalid_fields_are_validation_errors(
    client: httpx.AsyncClient, salon: Salon, field: str, value: object
) -> None:
    body = booking_body(salon, local_time(2, 10)) | {field: value}
    details = _error(await client.post(f"/api/v1/public/{salon.slug}/book", json=body), 422, "VALIDATION_ERROR")[
        "details"
    ]
    assert any(d["field"].startswith(field) for d in details)
    await _nothing_written(client, salon)


async def test_unknown_business_service_and_staff_are_not_found(client: httpx.AsyncClient, salon: Salon) -> None:
    body = booking_body(salon, local_time(2, 10))
    _error(await client.post("/api/v1/public/no-such-salon/book", json=body), 404, "NOT_FOUND")
    unknown = "00000000-0000-4000-8000-000000000000"
    _error(await client.post(f"/api/v1/public/{salon.slug}/book", json=body | {"serviceId": unknown}), 404, "NOT_FOUND")
    _error(await client.post(f"/api/v1/public/{salon.slug}/book", json=body | {"staffId": unknown}), 404, "NOT_FOUND")
    _error(await client.get("/api/v1/public/bookings/not-a-token"), 404, "NOT_FOUND")
    await _nothing_written(client, salon)


async def test_times_never_bookable_are_outside_availability_with_alternatives(
    client: httpx.AsyncClient, salon: Salon
) -> None:
    book = f"/api/v1/public/{salon.slug}/book"
    for start in (local_time(2, 3), local_time(2, 10, 7), local_time(-1, 10), local_time(400, 10)):
        body = _error(await client.post(book, json=booking_body(salon, start)), 422, "OUTSIDE_AVAILABILITY")
        assert "alternatives" in body
    assert _error(await client.post(book, json=booking_body(salon, local_time(2, 3))), 422, "OUTSIDE_AVAILABILITY")[
        "alternatives"
    ]
    await _nothing_written(client, salon)


async def test_owner_routes_need_the_business_own_key(client: httpx.AsyncClient, salon: Salon) -> None:
    other = await new_salon(client, ADMIN_TOKEN)
    calendar = f"/api/v1/businesses/{salon.slug}/appointments"
    _error(await client.get(calendar), 401, "UNAUTHORIZED")
    _error(await client.get(calendar, headers={"Authorization": "Bearer sg_wrong"}), 401, "UNAUTHORIZED")
    _error(await client.get(calendar, headers={"Authorization": salon.api_key}), 401, "UNAUTHORIZED")
    _error(await client.get(calendar, headers=other.owner), 403, "FORBIDDEN")
    service = {"name": "sneaky", "durationMinutes": 30}
    _error(
        await client.post(f"/api/v1/businesses/{salon.slug}/services", json=service, headers=other.owner),
        403,
        "FORBIDDEN",
    )
    public = (await client.get(f"/api/v1/public/{salon.slug}")).json()["data"]
    assert [s["name"] for s in public["services"]] == ["cut"]


async def test_creating_a_business_needs_the_operator_token(client: httpx.AsyncClient) -> None:
    body = {"slug": "nope-salon", "name": "Nope", "timezone": "UTC"}
    _error(await client.post("/api/v1/businesses", json=body), 401, "UNAUTHORIZED")
    _error(
        await client.post("/api/v1/businesses", json=body, headers={"Authorization": "Bearer wrong"}),
        401,
        "UNAUTHORIZED",
    )
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    _error(
        await client.post("/api/v1/businesses", json=body | {"timezone": "Mars/Olympus"}, headers=admin),
        422,
        "VALIDATION_ERROR",
    )
    _error(await client.get("/api/v1/public/nope-salon"), 404, "NOT_FOUND")


async def test_a_taken_slug_is_refused(client: httpx.AsyncClient, salon: Salon) -> None:
    body = {"slug": salon.slug, "name": "Copycat", "timezone": "UTC"}
    reply = await client.post("/api/v1/businesses", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert _error(reply, 422, "VALIDATION_ERROR")["details"] == [{"field": "slug", "message": "already taken"}]


async def test_an_oversized_body_is_refused_before_parsing(client: httpx.AsyncClient, salon: Salon) -> None:
    body = booking_body(salon, local_time(2, 10)) | {"notes": "x" * 70_000}
    _error(await client.post(f"/api/v1/public/{salon.slug}/book", json=body), 413, "PAYLOAD_TOO_LARGE")
    await _nothing_written(client, salon)


async def test_bad_working_hours_and_unknown_services_refuse_the_staff_member(
    client: httpx.AsyncClient, salon: Salon
) -> None:
    staff = f"/api/v1/businesses/{salon.slug}/staff"
    bad_hours = {"name": "X", "workingHours": {"mon": [["17:00", "09:00"]]}}
    _error(await client.post(staff, json=bad_hours, headers=salon.owner), 422, "VALIDATION_ERROR")
    _error(
        await client.post(staff, json={"name": "X", "workingHours": {"funday": []}}, headers=salon.owner),
        422,
        "VALIDATION_ERROR",
    )
    unknown = {"name": "X", "serviceIds": ["00000000-0000-4000-8000-000000000000"]}
    _error(await client.post(staff, json=unknown, headers=salon.owner), 404, "NOT_FOUND")


async def test_bad_list_parameters_are_validation_errors(client: httpx.AsyncClient, salon: Salon) -> None:
    calendar = f"/api/v1/businesses/{salon.slug}/appointments"
    for params in (
        {"limit": "0"},
        {"limit": "1001"},
        {"cursor": "garbage"},
        {"status": "lost"},
        {"from": "2031-01-01T00:00:00"},
    ):
        _error(await client.get(calendar, params=params, headers=salon.owner), 422, "VALIDATION_ERROR")


FORGED_CALENDAR_CURSORS = [
    ["only-one"],
    ["a", "b", "c"],
    ["2031-01-01T00:00:00+00:00", "not-a-uuid"],
    ["2031-01-01T00:00:00", "00000000-0000-4000-8000-000000000000"],  # no offset
    ["x", "y"],
]


@pytest.mark.parametrize("values", FORGED_CALENDAR_CURSORS)
async def test_a_forged_calendar_cursor_is_a_validation_error(
    client: httpx.AsyncClient, salon: Salon, values: list[str]
) -> None:
    from slotguard.api.pagination import encode_cursor

    calendar = f"/api/v1/businesses/{salon.slug}/appointments"
    reply = await client.get(calendar, params={"cursor": encode_cursor(*values)}, headers=salon.owner)
    _error(reply, 422, "VALIDATION_ERROR")


async def test_a_forged_audit_cursor_is_a_validation_error(client: httpx.AsyncClient, salon: Salon) -> None:
    from slotguard.api.pagination import encode_cursor

    audit = f"/api/v1/businesses/{salon.slug}/audit-log"
    for values in (["1", "2"], ["x"]):
        reply = await client.get(audit, params={"cursor": encode_cursor(*values)}, headers=salon.owner)
        _error(reply, 422, "VALIDATION_ERROR")


async def test_the_openapi_document_shows_every_api_route_s_error_replies(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/") and "webhooks" not in path
        for method, operation in item.items()
    ]
    assert len(operations) > 20
    for path, method, operation in operations:
        responses = operation["responses"]
        assert {"404", "422", "503"} <= set(responses), (method, path)
        schema = responses["422"]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)
        assert responses["503"]["content"]["application/json"]["example"]["error"]["code"] == "SERVICE_UNAVAILABLE"
