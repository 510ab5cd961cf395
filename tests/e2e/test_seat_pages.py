"""The widget's slot flow (seats, one-car slots, paid checkout), the manage page and the owner's slots, in
Debian's Chromium against `slotguard serve --workers 2`.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, Route, expect

from tests.e2e.browser import (
    Chromium,
    customer_site,
    fill_client,
    open_page,
    pick_day,
    screenshot,
    serious_accessibility_violations,
    sign_in_owner,
)
from tests.e2e.conftest import Server
from tests.e2e.salon import (
    Salon,
    booking_body,
    calendar,
    local_time,
    new_salon,
    party,
    slot_remaining,
    stored_slot,
)

on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
on_postgresql = pytest.mark.parametrize("server", ["postgresql"], indirect=True)
pytestmark = pytest.mark.asyncio(loop_scope="session")  # the session's Chromium lives there
DAYS_AHEAD = 4
DASH = "\N{EN DASH}"  # as the widget writes a time range
DAY = (date.today() + timedelta(days=DAYS_AHEAD)).isoformat()


async def tour_operator(server: Server, *, price_cents: int = 0) -> Salon:
    """A business with no staff that sells a tour by slots, created through the HTTP API."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token, staff=0)
        body = {"name": "Harbour tour", "durationMinutes": 90, "priceCents": price_cents, "currency": "EUR"}
        reply = await client.post(f"/api/v1/businesses/{salon.slug}/services", json=body, headers=salon.owner)
        assert reply.status_code == 201, reply.text
        salon.service_ids["tour"] = reply.json()["data"]["id"]
        return salon


async def add_slots(server: Server, salon: Salon, *capacities_at: tuple[int, int]) -> list[dict[str, Any]]:
    """Slots of the salon's tour on DAY: (capacity, local hour) each."""
    slots = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for capacity, hour in capacities_at:
            body = {
                "serviceId": salon.service_ids["tour"],
                "startTime": local_time(DAYS_AHEAD, hour),
                "endTime": local_time(DAYS_AHEAD, hour, 90),
                "capacity": capacity,
            }
            reply = await client.post(f"/api/v1/businesses/{salon.slug}/slots", json=body, headers=salon.owner)
            assert reply.status_code == 201, reply.text
            slots.append(reply.json()["data"])
    return slots


async def open_tour(browser: Browser, server: Server, salon: Salon, **context: object) -> Page:
    """The widget opened on the tour (the link the demo prints), which it shows as slots."""
    page = await open_page(browser, f"{server.url}/book/{salon.slug}?service={salon.service_ids['tour']}", **context)
    await expect(page.locator("#party-box")).to_be_visible()
    return page


def slot_button(page: Page, slot: dict[str, Any]) -> Any:
    return page.locator(f'#times button[data-slot-id="{slot["id"]}"]')


@on_sqlite
async def test_a_party_of_two_books_seats_and_the_seats_left_drop_everywhere(
    server: Server, chromium: Chromium
) -> None:
    salon = await tour_operator(server)
    (tour,) = await add_slots(server, salon, (8, 10))
    async with chromium() as browser:
        page = await open_tour(browser, server, salon, timezone_id="America/New_York")
        await expect(page.locator("#staff-box")).to_be_hidden()
        await pick_day(page, DAY)
        await expect(slot_button(page, tour)).to_have_text(f"10:00{DASH}11:30, 8 seats left")
        await expect(page.locator("#guests")).to_be_disabled()
        await slot_button(page, tour).click()
        await expect(page.locator("#guests option")).to_have_count(8)
        await page.select_option("#guests", "2")
        await expect(page.locator("#selected")).to_contain_text("your time (America/New_York)")
        await fill_client(page, 1)
        assert await serious_accessibility_violations(page) == []
        await screenshot(page, "book-seats")
        await page.click("#book")

        await expect(page.locator("#done")).to_be_visible()
        await expect(page.locator("#done-summary")).to_contain_text("Harbour tour, 2 guests")
        await expect(page.locator("#done-summary")).to_contain_text("10:00 (Europe/Berlin)")
        assert await serious_accessibility_violations(page) == []

        again = await open_tour(browser, server, salon)
        await pick_day(again, DAY)
        await expect(slot_button(again, tour)).to_have_text(f"10:00{DASH}11:30, 6 seats left")

        await sign_in_owner(again, f"{server.url}/owner/{salon.slug}", salon.api_key)
        await again.fill("#date", DAY)
        await expect(again.locator(f'[data-slot-id="{tour["id"]}"]')).to_contain_text("6 of 8 seats left")
        await expect(again.locator(".entry.status-confirmed")).to_contain_text("2 guests")
        assert await serious_accessibility_violations(again) == []
        await screenshot(again, "owner-calendar-slots")
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert await slot_remaining(client, salon, tour["id"]) == 6
    assert stored_slot(server.database_url, tour["id"]) == (8, 6, 2)


async def test_two_browsers_race_for_the_last_car_slot_and_the_loser_books_the_next(
    server: Server, chromium: Chromium
) -> None:
    salon = await tour_operator(server)
    wanted, other = await add_slots(server, salon, (1, 10), (1, 12))
    async with chromium() as browser:
        pages = [await open_tour(browser, server, salon) for _ in range(2)]
        for n, page in enumerate(pages):
            await pick_day(page, DAY)
            await expect(slot_button(page, wanted)).to_have_text(f"10:00{DASH}11:30, free")
            await slot_button(page, wanted).click()
            await fill_client(page, n)
        await asyncio.gather(*(page.click("#book") for page in pages))

        outcome: dict[Page, str] = {}
        for page in pages:
            await expect(page.locator("#done:not(.hidden), #alternatives-box:not(.hidden)")).to_be_visible()
            outcome[page] = "won" if await page.locator("#done").is_visible() else "lost"
        assert sorted(outcome.values()) == ["lost", "won"]
        loser = next(page for page, state in outcome.items() if state == "lost")
        await expect(loser.locator("#conflict")).to_contain_text("slot was just taken")
        alternative = loser.locator(f'#alternatives button[data-slot-id="{other["id"]}"]')
        await expect(alternative).to_contain_text("12:00")
        await expect(slot_button(loser, wanted)).to_have_text(f"10:00{DASH}11:30, full")
        await screenshot(loser, "book-seats-conflict")
        await alternative.click()
        await expect(loser.locator("#done")).to_be_visible()
        await expect(loser.locator("#done-summary")).to_contain_text("12:00")
    async with httpx.AsyncClient(base_url=server.url) as client:
        booked = await calendar(client, salon, status="confirmed")
    assert sorted(b["slotId"] for b in booked) == sorted([wanted["id"], other["id"]])
    assert stored_slot(server.database_url, wanted["id"]) == (1, 0, 1)
    assert stored_slot(server.database_url, other["id"]) == (1, 0, 1)


@on_postgresql
async def test_a_customer_moves_an_appointment_on_the_manage_page_after_one_refusal(
    server: Server, chromium: Chromium
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        reply = await client.post(
            f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(DAYS_AHEAD, 10))
        )
        assert reply.status_code == 201, reply.text
        booking = reply.json()["data"]
        manage_url = f"{server.url}/book/{salon.slug}?manage={booking['manageToken']}"
        assert (await client.get(manage_url)).headers["Referrer-Policy"] == "same-origin"
        async with chromium() as browser:
            page = await open_page(browser, manage_url, "#manage")
            await expect(page.locator("#manage-status")).to_have_text("Confirmed")
            await expect(page.locator("#manage-summary")).to_contain_text("cut, with Stylist 0")
            await page.click("#start-reschedule")
            await expect(page.locator("#client")).to_be_hidden()
            await pick_day(page, DAY)
            taken = local_time(DAYS_AHEAD, 11)
            await expect(page.locator(f'#times button[data-start="{taken}"]')).to_be_visible()
            other = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, taken, n=1))
            assert other.status_code == 201, other.text

            await page.click(f'#times button[data-start="{taken}"]')
            await page.click("#book")
            await expect(page.locator("#conflict")).to_contain_text("11:00 was just taken")
            await expect(page.locator("#conflict")).to_contain_text("Your booking is unchanged")
            await expect(page.locator("#manage-summary")).to_contain_text("10:00")
            assert await serious_accessibility_violations(page) == []
            await screenshot(page, "manage-reschedule-refused")

            alternative = page.locator("#alternatives button").first
            new_start = await alternative.get_attribute("data-start")
            await alternative.click()
            await expect(page.locator("#done-title")).to_have_text("Moved")
            await page.click("#manage-link")
            await expect(page.locator("#manage-status")).to_have_text("Confirmed")
            assert await serious_accessibility_violations(page) == []
            await screenshot(page, "manage-booking")
        mine = [b for b in await calendar(client, salon, status="confirmed") if b["id"] == booking["id"]]
    assert [(b["startTime"], b["staffId"]) for b in mine] == [(new_start, booking["staffId"])]


@on_sqlite
async def test_a_party_moves_to_a_slot_with_room_for_all_of_it(server: Server, chromium: Chromium) -> None:
    salon = await tour_operator(server)
    current, roomy, cramped = await add_slots(server, salon, (4, 9), (8, 12), (2, 15))
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.post(f"/api/v1/public/{salon.slug}/slots/{current['id']}/book", json=party(1, guests=3))
        assert reply.status_code == 201, reply.text
        token = reply.json()["data"]["manageToken"]
        async with chromium() as browser:
            page = await open_page(browser, f"{server.url}/book/{salon.slug}?manage={token}", "#manage")
            await expect(page.locator("#manage-summary")).to_contain_text("3 guests")
            await page.click("#start-reschedule")
            await expect(page.locator("#party-box")).to_be_hidden()
            await pick_day(page, DAY)
            await expect(slot_button(page, current)).to_have_text(f"09:00{DASH}10:30, your booking")
            await expect(slot_button(page, current)).to_be_disabled()
            await expect(slot_button(page, cramped)).to_be_disabled()
            await slot_button(page, roomy).click()
            await page.click("#book")
            await expect(page.locator("#done-title")).to_have_text("Moved")
            await expect(page.locator("#done-summary")).to_contain_text("12:00")
        assert [await slot_remaining(client, salon, s["id"]) for s in (current, roomy, cramped)] == [4, 5, 2]


@on_sqlite
async def test_a_party_pays_on_the_checkout_page_and_comes_back_to_its_confirmed_booking(
    server: Server, chromium: Chromium
) -> None:
    salon = await tour_operator(server, price_cents=1850)
    (tour,) = await add_slots(server, salon, (8, 10))
    async with chromium() as browser:
        page = await open_tour(browser, server, salon)
        await pick_day(page, DAY)
        await slot_button(page, tour).click()
        await page.select_option("#guests", "2")
        await expect(page.locator("#book")).to_have_text("Pay €37.00 and book")
        await fill_client(page, 1)
        await page.click("#book")
        await page.wait_for_url("**/checkout/local/**")
        await page.click("button:has-text('Pay')")

        await expect(page.locator("#done-title")).to_have_text("Booked and paid")
        await expect(page.locator("#done-summary")).to_contain_text("2 guests")
        assert "manage=" in page.url
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert await slot_remaining(client, salon, tour["id"]) == 6
        assert [b["status"] for b in await calendar(client, salon)] == ["confirmed"]


@on_sqlite
async def test_an_embedded_widget_pays_in_a_new_tab_and_sees_the_payment_arrive(
    server: Server, chromium: Chromium
) -> None:
    salon = await tour_operator(server, price_cents=1850)
    (tour,) = await add_slots(server, salon, (8, 10))
    tag = f'<script src="{server.url}/embed.js" data-slug="{salon.slug}" data-service="{salon.service_ids["tour"]}">'
    with customer_site(f"<h1>Harbour tours</h1>{tag}</script>") as site:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(site)
            await page.wait_for_selector("iframe")
            widget = page.frames[1]
            await pick_day(widget, DAY)
            await widget.click(f'#times button[data-slot-id="{tour["id"]}"]')
            await fill_client(widget, 1)
            await widget.click("#book")
            await expect(widget.locator("#paying")).to_be_visible()
            async with page.context.expect_page() as opened:
                await widget.click("#pay-link")
            checkout = await opened.value
            await checkout.click("button:has-text('Pay')")
            await expect(checkout.locator("#notice")).to_contain_text("payment was received")

            await expect(widget.locator("#done-title")).to_have_text("Booked and paid")
            await screenshot(page, "book-embedded-paid")
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert await slot_remaining(client, salon, tour["id"]) == 7


@on_sqlite
async def test_a_party_that_cancels_the_checkout_gets_nothing_and_frees_its_seats(
    server: Server, chromium: Chromium
) -> None:
    salon = await tour_operator(server, price_cents=1850)
    (tour,) = await add_slots(server, salon, (8, 10))
    async with chromium() as browser:
        page = await open_tour(browser, server, salon)
        await pick_day(page, DAY)
        await slot_button(page, tour).click()
        await page.select_option("#guests", "3")
        await fill_client(page, 1)
        await page.click("#book")
        await page.wait_for_url("**/checkout/local/**")
        await page.click("button:has-text('Cancel')")

        await expect(page.locator("#notice")).to_contain_text("nothing was paid and the seats are free again")
        await pick_day(page, DAY)
        await expect(slot_button(page, tour)).to_contain_text("8 seats left")
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert [b["status"] for b in await calendar(client, salon)] in (["expired"], ["cancelled"])


@on_sqlite
async def test_a_booking_whose_reply_was_lost_is_sent_again_with_its_key_and_made_once(
    server: Server, chromium: Chromium
) -> None:
    salon = await tour_operator(server)
    (tour,) = await add_slots(server, salon, (8, 10))
    keys: list[str | None] = []

    async def lose_the_first_reply(route: Route) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        reply = await route.fetch()  # the server books...
        if len(keys) == 1:
            await route.abort("connectionreset")  # ...and its reply never reaches the browser
        else:
            await route.fulfill(response=reply)

    async with chromium() as browser:
        page = await open_tour(browser, server, salon)
        await page.route(f"**/slots/{tour['id']}/book", lose_the_first_reply)
        await pick_day(page, DAY)
        await slot_button(page, tour).click()
        await page.select_option("#guests", "2")
        await fill_client(page, 1)
        await page.click("#book")
        await expect(page.locator("#error")).to_contain_text("could not reach the booking service")
        await page.click("#book")
        await expect(page.locator("#done-summary")).to_contain_text("2 guests")
    assert len(keys) == 2
    assert keys[0]
    assert keys[0] == keys[1]
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert len(await calendar(client, salon)) == 1
        assert await slot_remaining(client, salon, tour["id"]) == 6
