"""The owner console in a real browser (Debian's Chromium via Playwright): set up from nothing, the week
view with live updates, desk bookings, reschedules, cancellations, phone width, keyboard only, axe.

Every view is photographed into test-artifacts/ (owner-*.png).
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import ARTIFACTS, Chromium, screenshot, serious_accessibility_violations, sign_in_owner
from tests.e2e.conftest import Server
from tests.e2e.salon import booking_body, local_time, new_salon, unique_slug

on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
on_postgresql = pytest.mark.parametrize("server", ["postgresql"], indirect=True)
pytestmark = pytest.mark.asyncio(loop_scope="session")  # the session's Chromium lives there
VIEWS = ("calendar", "activity", "settings", "services", "staff", "slots", "webhooks", "calendars", "feeds", "api-key")


async def bare_business(server: Server) -> tuple[str, str]:
    """A business with nothing in it yet: (slug, API key)."""
    slug = unique_slug("console")
    body = {"slug": slug, "name": "Console Salon", "timezone": "Europe/Berlin", "minNoticeMinutes": 0}
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.post(
            "/api/v1/businesses", json=body, headers={"Authorization": f"Bearer {server.admin_token}"}
        )
    assert reply.status_code == 201, reply.text
    return slug, reply.json()["data"]["apiKey"]


async def owner_get(server: Server, slug: str, api_key: str, path: str) -> Any:
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.get(f"/api/v1/businesses/{slug}{path}", headers={"Authorization": f"Bearer {api_key}"})
    assert reply.status_code == 200, reply.text
    return reply.json()["data"]


async def open_view(page: Page, view: str) -> None:
    await page.click(f'#nav button[data-view="{view}"]')
    await expect(page.locator(f'#nav button[data-view="{view}"]')).to_have_attribute("aria-current", "page")


@on_sqlite
async def test_an_owner_sets_up_a_business_from_nothing(server: Server, chromium: Chromium) -> None:
    slug, api_key = await bare_business(server)
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in_owner(page, f"{server.url}/owner/{slug}", api_key)

        await open_view(page, "services")
        await page.fill("#service-name", "Haircut")
        await page.fill("#service-durationMinutes", "45")
        await page.fill("#service-priceCents", "3500")
        await page.click("#service-form button[type=submit]")
        await expect(page.locator("table.list")).to_contain_text("Haircut")

        await open_view(page, "staff")
        await page.fill("#staff-name", "Ana")
        await page.click('button[aria-label="Add hours on Saturday"]')
        saturday = page.locator('ul[data-day="sat"] li input[type=time]')
        await saturday.nth(0).fill("10:00")
        await saturday.nth(1).fill("14:00")
        await page.click('button[aria-label="Add hours on Monday"]')  # a second range on Monday
        monday = page.locator('ul[data-day="mon"] li input[type=time]')
        await monday.nth(2).fill("18:00")
        await monday.nth(3).fill("20:00")
        await page.click("#add-time-off")
        off = page.locator("#time-off input[type=datetime-local]")
        await off.nth(0).fill("2027-01-04T09:00")
        await off.nth(1).fill("2027-01-08T17:00")
        await page.click("#staff-form button[type=submit]")
        await expect(page.locator(".people")).to_contain_text("Ana")
        assert await serious_accessibility_violations(page) == []

    [service] = await owner_get(server, slug, api_key, "/services")
    [ana] = await owner_get(server, slug, api_key, "/staff")
    assert (service["name"], service["durationMinutes"], service["priceCents"]) == ("Haircut", 45, 3500)
    assert ana["serviceIds"] == [service["id"]]
    assert ana["workingHours"]["sat"] == [["10:00", "14:00"]]
    assert ana["workingHours"]["mon"] == [["09:00", "17:00"], ["18:00", "20:00"]]
    assert "sun" not in ana["workingHours"]
    assert ana["timeOff"] == [{"startTime": "2027-01-04T08:00:00Z", "endTime": "2027-01-08T16:00:00Z"}]


@on_sqlite
async def test_every_view_is_labelled_for_screen_readers_and_photographed(server: Server, chromium: Chromium) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        salon = await new_salon(client, server.admin_token, staff=2)
        reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(1, 10)))
        assert reply.status_code == 201, reply.text
    async with chromium() as browser:
        for name, viewport in (("", {"width": 1280, "height": 900}), ("-phone", {"width": 390, "height": 844})):
            page = await (await browser.new_context(viewport=viewport)).new_page()
            await page.goto(f"{server.url}/owner/{salon.slug}")
            await expect(page.locator("#login")).to_be_visible()
            assert await serious_accessibility_violations(page) == []
            await screenshot(page, f"owner-sign-in{name}")
            await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
            for view in VIEWS:
                await open_view(page, view)
                await page.wait_for_timeout(200)
                assert await serious_accessibility_violations(page) == [], view
                await screenshot(page, f"owner-{view}{name}")
            if name:  # nothing wider than the phone but the calendar grid, which scrolls inside itself
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= 390, width


@on_postgresql
async def test_a_customer_booking_appears_live_in_the_week_view(server: Server, chromium: Chromium) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        salon = await new_salon(client, server.admin_token, staff=3)
        async with chromium() as browser:
            page = await browser.new_page()
            await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
            await expect(page.locator("#live")).to_contain_text("Live")
            await page.fill("#date", (date.today() + timedelta(days=2)).isoformat())
            await expect(page.locator("#days .day")).to_have_count(7)
            body = booking_body(salon, local_time(2, 15), staff_id=salon.staff_ids[2])
            reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=body)
            assert reply.status_code == 201, reply.text
            entry = page.locator(f'[data-booking-id="{reply.json()["data"]["id"]}"]')
            await expect(entry).to_be_visible(timeout=2000)
            lane = page.locator(f'.lane-body[data-lane="{salon.staff_ids[2]}"]', has=entry)
            await expect(lane).to_have_count(1)  # in its staff member's column
            await expect(entry).to_contain_text("15:00\N{EN DASH}15:30")
            await screenshot(page, "owner-week-live")


@on_sqlite
async def test_the_console_runs_under_a_strict_content_security_policy(server: Server, chromium: Chromium) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        salon = await new_salon(client, server.admin_token)
        policy = (await client.get(f"/owner/{salon.slug}")).headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    async with chromium() as browser:
        page = await browser.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
        )
        await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
        for view in VIEWS:
            await open_view(page, view)
        await open_view(page, "calendar")
        await page.click("#new-booking")
        await expect(page.locator("#desk-booking")).to_be_visible()
    assert violations == []


async def open_day(page: Page, day: str) -> None:
    await page.select_option("#view", "day")
    await page.fill("#date", day)
    await expect(page.locator("#days .day")).to_have_count(1)
    await expect(page.locator(f'#days .lane-body[data-day="{day}"]').first).to_be_visible()  # that day, drawn


@on_sqlite
async def test_desk_booking_with_a_conflict_then_reschedule_and_cancel(server: Server, chromium: Chromium) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        salon = await new_salon(client, server.admin_token, staff=2)
        taken = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 10)))
        assert taken.status_code == 201
    day = (date.today() + timedelta(days=2)).isoformat()
    async with chromium() as browser:
        page = await browser.new_page()
        await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
        await open_day(page, day)
        # Click Stylist 0's free 09:00, then ask for 10:00, where the customer's booking already is.
        lane = page.locator(f'.lane-body[data-lane="{salon.staff_ids[0]}"]')
        await lane.click(position={"x": 5, "y": 60 + 5})  # the grid starts at 08:00, a pixel a minute
        await expect(page.locator("#desk-booking")).to_be_visible()
        await expect(page.locator("#desk-date")).to_have_value(day)
        await expect(page.locator("#desk-time")).to_have_value("09:00")
        await page.fill("#desk-time", "10:00")
        await page.fill("#desk-first", "Walk")
        await page.fill("#desk-last", "In")
        await page.fill("#desk-email", "walk.in@example.com")
        await page.click("#desk-book")
        await expect(page.locator("#desk-problem")).to_contain_text("no longer available")
        alternatives = page.locator("#alternatives button")
        await expect(alternatives.first).to_be_visible()
        await screenshot(page, "owner-desk-conflict")
        chosen = await alternatives.first.text_content()
        await alternatives.first.click()
        await expect(page.locator("#desk-booking")).to_have_count(0)
        entry = page.locator(".entry.status-confirmed", has_text="Walk In")
        await expect(entry).to_be_visible(timeout=3000)
        assert chosen and chosen.split(" ")[1] in (await entry.text_content() or "")

        await entry.click()
        await expect(page.locator("#audit li")).to_contain_text(["created new → confirmed by owner"])
        await page.fill("#reschedule input[type=time]", "18:30")
        await page.select_option("#reschedule select", salon.staff_ids[1])
        await page.click("#reschedule button[type=submit]")
        await expect(page.locator("#audit li").first).to_contain_text("rescheduled")
        moved = page.locator(f'.lane-body[data-lane="{salon.staff_ids[1]}"] .entry', has_text="Walk In")
        await expect(moved).to_contain_text("18:30")
        await screenshot(page, "owner-booking-details")
        await page.click("#cancel")
        await expect(page.locator("#audit li")).to_have_count(3)
        await expect(moved).to_have_class("entry status-cancelled")
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)
    walk_in = [b for b in reply.json()["data"] if b["client"]["lastName"] == "In"]
    assert [(b["status"], b["staffId"], b["startTime"]) for b in walk_in] == [
        ("cancelled", salon.staff_ids[1], local_time(2, 18, 30))
    ]


@on_sqlite
async def test_a_keyboard_alone_takes_a_desk_booking_at_phone_width(server: Server, chromium: Chromium) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        salon = await new_salon(client, server.admin_token)
        known = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(5, 9), n=7))
        assert known.status_code == 201
    async with chromium() as browser:
        page = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
        await page.goto(f"{server.url}/owner/{salon.slug}")
        await page.focus("#api-key")
        await page.keyboard.type(salon.api_key)
        await page.keyboard.press("Enter")
        await expect(page.locator("#days")).to_be_visible()
        await page.focus("#new-booking")
        await page.keyboard.press("Enter")
        await expect(page.locator("#desk-booking")).to_be_visible()
        # The dialog opens on the first name; the client search finds last week's customer.
        await page.keyboard.press("Shift+Tab")
        await page.keyboard.type("racer7")
        result = page.locator("#client-results button")
        await expect(result).to_have_count(1)
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.locator("#desk-email")).to_have_value("racer7@example.com")
        await page.focus("#desk-date")
        await page.keyboard.type((date.today() + timedelta(days=6)).strftime("%m%d%Y"))
        await page.focus("#desk-time")
        await page.keyboard.type("1130AM")
        await page.focus("#desk-book")
        await page.keyboard.press("Enter")
        await expect(page.locator("#desk-booking")).to_have_count(0)
        await expect(page.locator("#notice")).to_contain_text("Booked Racer Number7")
        assert await serious_accessibility_violations(page) == []
        await screenshot(page, "owner-desk-keyboard-phone")
    async with httpx.AsyncClient(base_url=server.url) as client:
        reply = await client.get(f"/api/v1/businesses/{salon.slug}/appointments", headers=salon.owner)
    assert local_time(6, 11, 30) in [b["startTime"] for b in reply.json()["data"]]


@on_sqlite
async def test_the_week_view_draws_ten_staff_and_three_hundred_bookings(server: Server, chromium: Chromium) -> None:
    """Not a timed assertion: the figure is written to test-artifacts/week-view-render.txt for the docs."""
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        salon = await new_salon(client, server.admin_token, staff=10)
        monday = 7 - date.today().weekday()  # days from today to next Monday
        starts = [(d, s, 9 + 2 * k) for d in range(7) for s in range(10) for k in range(4)]
        starts += [(0, s, 17) for s in range(10)] + [(1, s, 17) for s in range(10)]
        gate = asyncio.Semaphore(8)

        async def book(n: int, day: int, staff: int, hour: int) -> None:
            body = booking_body(salon, local_time(monday + day, hour), staff_id=salon.staff_ids[staff], n=n)
            async with gate:
                reply = await client.post(
                    f"/api/v1/businesses/{salon.slug}/appointments", json=body, headers=salon.owner
                )
            assert reply.status_code == 201, reply.text

        await asyncio.gather(*(book(n, *start) for n, start in enumerate(starts)))
    assert len(starts) == 300
    async with chromium() as browser:
        page = await (await browser.new_context(viewport={"width": 1600, "height": 1000})).new_page()
        await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
        week = (date.today() + timedelta(days=monday)).isoformat()
        timings = []
        for _ in range(5):
            await page.fill("#date", date.today().isoformat())
            await expect(page.locator("#days")).not_to_have_attribute("data-entries", "300")
            await page.fill("#date", week)
            await expect(page.locator("#days")).to_have_attribute("data-entries", "300")
            await expect(page.locator("#days")).to_have_attribute("data-render-ms", re.compile(r"\d"))
            timings.append(float(await page.locator("#days").get_attribute("data-render-ms") or "nan"))
        await expect(page.locator("#days .entry.status-confirmed")).to_have_count(300)
        await expect(page.locator("#days .lane-name")).to_have_count(7 * 11)  # ten staff and the slots, each day
        await screenshot(page, "owner-week-300")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "week-view-render.txt").write_text(
        f"week view, 10 staff, 300 bookings: render (data in hand to painted) ms over 5 draws: {timings}; "
        f"median {sorted(timings)[2]}\n"
    )
