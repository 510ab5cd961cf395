"""Waitlists through the HTTP contract on both databases: joining a full slot, offers of freed seats to
the first entries whose party fits, accepting, lapsing offers passing on, and the owner's view."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from slotguard.api.app import create_app
from slotguard.domain.messages import PageLinks
from slotguard.services import waitlists
from slotguard.services.ports import UnitOfWork
from slotguard.services.waitlists import make_offers
from slotguard.storage.engine import create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.api.conftest import ADMIN_TOKEN, api_settings
from tests.e2e.salon import Salon, new_salon, new_slot, party, slot_remaining

LINKS = PageLinks("https://tours.example")


@pytest.fixture
async def offers(db_url: str) -> AsyncIterator[Callable[..., Any]]:
    """One pass of the offer job, as every host runs it, at the real time or `minutes_ago`."""
    database = create_database(db_url, pool_size=3)

    def uows(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    async def run(minutes_ago: int = 0) -> int:
        moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        return await make_offers(uows, lambda: moment + (datetime.now(UTC) - started), LINKS)

    started = datetime.now(UTC)
    yield run
    await database.dispose()


async def full_tour(client: httpx.AsyncClient, seats: int = 3) -> tuple[Salon, dict[str, Any], list[str]]:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = await new_slot(client, salon, capacity=seats)
    book = f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book"
    tokens = [(await client.post(book, json=party(90 + n))).json()["data"]["manageToken"] for n in range(seats)]
    return salon, tour, tokens


async def join(client: httpx.AsyncClient, salon: Salon, tour: dict[str, Any], n: int, guests: int) -> httpx.Response:
    return await client.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/waitlist", json=party(n, guests=guests))


async def line(client: httpx.AsyncClient, salon: Salon, tour: dict[str, Any]) -> list[dict[str, Any]]:
    reply = await client.get(f"/api/v1/businesses/{salon.slug}/slots/{tour['id']}/waitlist", headers=salon.owner)
    assert reply.status_code == 200, reply.text
    entries: list[dict[str, Any]] = reply.json()["data"]
    return entries


async def test_joining_a_slot_with_seats_is_refused_and_a_full_one_takes_places_in_order(
    client: httpx.AsyncClient,
) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    tour = await new_slot(client, salon, capacity=2)
    refused = await join(client, salon, tour, 1, 2)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "SEATS_AVAILABLE"
    await client.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book", json=party(2, guests=1))

    assert (await join(client, salon, tour, 3, 2)).json()["data"]["position"] == 1
    one_is_there = await join(client, salon, tour, 4, 1)  # the last seat is free: book it instead
    assert one_is_there.status_code == 409 and one_is_there.json()["error"]["code"] == "SEATS_AVAILABLE"
    await client.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book", json=party(5, guests=1))
    assert (await join(client, salon, tour, 4, 1)).json()["data"]["position"] == 2
    too_large = await join(client, salon, tour, 6, 3)
    assert too_large.status_code == 422
    assert [(e["position"], e["guests"], e["status"], e["offerToken"]) for e in await line(client, salon, tour)] == [
        (1, 2, "waiting", None),
        (2, 1, "waiting", None),
    ]
    assert (await client.get(f"/api/v1/businesses/{salon.slug}/slots/{tour['id']}/waitlist")).status_code == 401


async def test_freed_seats_go_to_the_first_whose_party_fits_who_books_them_once(
    client: httpx.AsyncClient, offers: Callable[..., Any]
) -> None:
    salon, tour, tokens = await full_tour(client)
    for n, guests in ((1, 2), (2, 1), (3, 1)):
        assert (await join(client, salon, tour, n, guests)).status_code == 201
    assert await offers() == 0  # nothing freed yet

    await client.post(f"/api/v1/public/bookings/{tokens[0]}/cancel")
    await offers()
    entries = await line(client, salon, tour)
    assert [e["status"] for e in entries] == ["waiting", "offered", "waiting"]  # 2 do not fit in 1 seat
    assert await slot_remaining(client, salon, tour["id"]) == 0  # the offer holds the freed seat
    book = f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book"
    assert (await client.post(book, json=party(7))).status_code == 409  # not sold to the public meanwhile

    token = entries[1]["offerToken"]
    accepted = await client.post(f"/api/v1/public/waitlist/{token}/accept")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["data"]["status"] == "confirmed" and accepted.json()["data"]["guests"] == 1
    again = await client.post(f"/api/v1/public/waitlist/{token}/accept")
    assert again.status_code == 409 and again.json()["error"]["code"] == "HOLD_EXPIRED"
    assert [e["status"] for e in await line(client, salon, tour)] == ["waiting", "booked", "waiting"]

    await client.post(f"/api/v1/public/bookings/{tokens[1]}/cancel")
    await client.post(f"/api/v1/public/bookings/{tokens[2]}/cancel")
    await offers()
    assert [e["status"] for e in await line(client, salon, tour)] == ["offered", "booked", "waiting"]


async def test_a_lapsed_offer_passes_to_the_next_and_can_no_longer_be_accepted(
    client: httpx.AsyncClient, offers: Callable[..., Any]
) -> None:
    salon, tour, tokens = await full_tour(client, seats=1)
    await join(client, salon, tour, 1, 1)
    await join(client, salon, tour, 2, 1)
    await client.post(f"/api/v1/public/bookings/{tokens[0]}/cancel")
    await offers(minutes_ago=31)  # made 31 minutes ago: its 30 minutes are over
    lapsed_token = (await line(client, salon, tour))[0]["offerToken"]

    await offers()
    entries = await line(client, salon, tour)
    assert [(e["status"], e["position"]) for e in entries] == [("lapsed", 0), ("offered", 1)]
    refused = await client.post(f"/api/v1/public/waitlist/{lapsed_token}/accept")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "HOLD_EXPIRED"
    assert (await client.post(f"/api/v1/public/waitlist/{entries[1]['offerToken']}/accept")).status_code == 201
    assert await slot_remaining(client, salon, tour["id"]) == 0


async def test_the_owner_removes_an_entry_and_its_offer_passes_on(
    client: httpx.AsyncClient, offers: Callable[..., Any]
) -> None:
    salon, tour, tokens = await full_tour(client, seats=1)
    await join(client, salon, tour, 1, 1)
    await join(client, salon, tour, 2, 1)
    await client.post(f"/api/v1/public/bookings/{tokens[0]}/cancel")
    await offers()
    first = (await line(client, salon, tour))[0]
    removed = await client.delete(
        f"/api/v1/businesses/{salon.slug}/slots/{tour['id']}/waitlist/{first['waitlistId']}", headers=salon.owner
    )
    assert removed.status_code == 204
    await offers()
    assert [e["status"] for e in await line(client, salon, tour)] == ["removed", "offered"]
    missing = await client.delete(
        f"/api/v1/businesses/{salon.slug}/slots/{tour['id']}/waitlist/{tour['id']}", headers=salon.owner
    )
    assert missing.status_code == 404


async def test_a_raised_capacity_is_offered_and_a_cancelled_slot_closes_its_line(
    client: httpx.AsyncClient, offers: Callable[..., Any]
) -> None:
    salon, tour, _ = await full_tour(client, seats=2)
    await join(client, salon, tour, 1, 2)
    await join(client, salon, tour, 2, 1)
    slot_url = f"/api/v1/businesses/{salon.slug}/slots/{tour['id']}"
    raised = await client.patch(slot_url, json={"capacity": 4}, headers=salon.owner)
    assert raised.status_code == 200, raised.text
    await offers()
    assert [e["status"] for e in await line(client, salon, tour)] == ["offered", "waiting"]

    assert (await client.post(f"{slot_url}/cancel", headers=salon.owner)).status_code == 200
    await offers()
    assert [e["status"] for e in await line(client, salon, tour)] == ["removed", "removed"]


@pytest.fixture
async def paying(db_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(api_settings(db_url, outbox_worker=False, waitlist_offer_seconds=0, reminder_seconds=0))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),  # loads the (local) payment provider
        httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http,
    ):
        yield http


async def test_an_offer_of_a_priced_service_opens_the_paid_checkout(
    paying: httpx.AsyncClient, offers: Callable[..., Any]
) -> None:
    salon = await new_salon(paying, ADMIN_TOKEN)
    service = {"name": "Sunset cruise", "durationMinutes": 60, "priceCents": 1500, "currency": "EUR"}
    reply = await paying.post(f"/api/v1/businesses/{salon.slug}/services", json=service, headers=salon.owner)
    salon.service_ids = {"cruise": reply.json()["data"]["id"]}
    tour = await new_slot(paying, salon, capacity=1)
    first = await paying.post(f"/api/v1/public/{salon.slug}/slots/{tour['id']}/checkout", json=party(1))
    assert first.status_code == 201, first.text
    await join(paying, salon, tour, 2, 1)
    await paying.post(f"/api/v1/public/bookings/{first.json()['data']['manageToken']}/cancel")
    await offers()
    (entry,) = await line(paying, salon, tour)

    accepted = await paying.post(f"/api/v1/public/waitlist/{entry['offerToken']}/accept")
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["data"]["checkoutUrl"]
    managed = await paying.get(f"/api/v1/public/bookings/{accepted.json()['data']['manageToken']}")
    assert managed.json()["data"]["status"] == "pending_payment"
    assert [e["status"] for e in await line(paying, salon, tour)] == ["booked"]


async def test_one_pass_reaches_every_slot_with_a_line_page_by_page(
    client: httpx.AsyncClient, offers: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(waitlists, "SLOTS_PER_PASS", 1)
    tours = [await full_tour(client, seats=1) for _ in range(2)]
    for salon, tour, tokens in tours:
        await join(client, salon, tour, 1, 1)
        await client.post(f"/api/v1/public/bookings/{tokens[0]}/cancel")
    await offers()
    assert [[e["status"] for e in await line(client, salon, tour)] for salon, tour, _ in tours] == [
        ["offered"],
        ["offered"],
    ]
