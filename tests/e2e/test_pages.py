"""The booking widget and the owner's calendar in a real browser (Debian's Chromium via Playwright).

They test pages, not storage: SQLite for most, PostgreSQL for the live owner calendar.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.browser import (
    Chromium,
    customer_site,
    fill_client,
    open_page,
    pick_day,
    screenshot,
    serious_accessibility_violations,
)
from tests.e2e.conftest import Server
from tests.e2e.salon import Salon, booking_body, calendar, local_time, new_salon

on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)
on_postgresql = pytest.mark.parametrize("server", ["postgresql"], indirect=True)
pytestmark = pytest.mark.asyncio(loop_scope="session")  # the session's Chromium lives there
DAYS_AHEAD = 3


def booking_day() -> str:
    return (date.today() + timedelta(days=DAYS_AHEAD)).isoformat()


async def salon_on(server: Server, **options: int) -> Salon:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        return await new_salon(client, server.admin_token, **options)


async def open_widget(browser: Browser, server: Server, salon: Salon, **context: object) -> Page:
    return await open_page(browser, f"{server.url}/book/{salon.slug}", **context)


async def choose_time(page: Page, start: str) -> None:
    await pick_day(page, booking_day())
    await page.click(f'#times button[data-start="{start}"]')


@on_sqlite
async def test_customer_books_through_the_widget(server: Server, chromium: Chromium) -> None:
    salon = await salon_on(server)
    start = local_time(DAYS_AHEAD, 10)
    async with chromium() as browser:
        page = await open_widget(browser, server, salon, timezone_id="America/New_York")
        await expect(page.locator("#zone-note")).to_contain_text("America/New_York")
        await choose_time(page, start)
        await page.click("#book")
        await page.fill("#firstName", "Ada")
        await page.click("#book")
        await expect(page.locator("#error")).to_contain_text("last name")
        await fill_client(page, 1)
        await screenshot(page, "book-widget")
        await page.click("#book")

        await expect(page.locator("#done")).to_be_visible()
        await expect(page.locator("#done-summary")).to_contain_text("10:00")
        await expect(page.locator("#done-summary")).to_contain_text("your time (America/New_York)")
        await screenshot(page, "book-confirmation")
        async with page.expect_download() as download:
            await page.click("#ics")
        ics = (await (await download.value).path()).read_text()
        assert f"DTSTART:{start.replace('-', '').replace(':', '')}" in ics

        await page.click("#manage-link")
        await expect(page.locator("#manage-status")).to_have_text("Confirmed")
        await page.click("#cancel-booking")
        await expect(page.locator("#manage-status")).to_have_text("Cancelled")
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert [b["status"] for b in await calendar(client, salon)] == ["cancelled"]


@on_sqlite
async def test_two_browsers_race_for_one_time_and_the_loser_books_an_alternative(
    server: Server, chromium: Chromium
) -> None:
    salon = await salon_on(server)
    start = local_time(DAYS_AHEAD, 11)
    async with chromium() as browser:
        pages = [await open_widget(browser, server, salon) for _ in range(2)]
        for n, page in enumerate(pages):
            await choose_time(page, start)
            await fill_client(page, n)
        await asyncio.gather(*(page.click("#book") for page in pages))

        outcome: dict[Page, str] = {}
        for page in pages:
            await expect(page.locator("#done:not(.hidden), #alternatives-box:not(.hidden)")).to_be_visible()
            outcome[page] = "won" if await page.locator("#done").is_visible() else "lost"
        assert sorted(outcome.values()) == ["lost", "won"]
        loser = next(page for page, state in outcome.items() if state == "lost")
        await expect(loser.locator("#conflict")).to_contain_text("was just taken")
        await screenshot(loser, "book-conflict")
        await loser.locator("#alternatives button").first.click()
        await expect(loser.locator("#done")).to_be_visible()
    async with httpx.AsyncClient(base_url=server.url) as client:
        booked = await calendar(client, salon, status="confirmed")
    assert len(booked) == 2
    assert start in {b["startTime"] for b in booked}


async def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the element matching `selector` has focus, as a keyboard-only user would."""
    for _ in range(120):
        if await page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


@on_sqlite
async def test_a_keyboard_alone_can_book(server: Server, chromium: Chromium) -> None:
    salon = await salon_on(server)
    start = local_time(DAYS_AHEAD, 12)
    async with chromium() as browser:
        page = await open_widget(browser, server, salon, viewport={"width": 375, "height": 740})
        if booking_day()[:7] != date.today().isoformat()[:7]:
            await tab_to(page, "#next-month")
            await page.keyboard.press("Enter")
        await tab_to(page, f'#month button[data-date="{booking_day()}"]')
        await page.keyboard.press("Enter")
        await page.wait_for_selector(f'#times button[data-start="{start}"]')
        await tab_to(page, f'#times button[data-start="{start}"]')
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid", "focus must be visible"
        await page.keyboard.press("Space")
        for field, text in (("#firstName", "Key"), ("#lastName", "Board"), ("#email", "key@example.com")):
            await tab_to(page, field)
            await page.keyboard.type(text)
        await tab_to(page, "#book")
        await page.keyboard.press("Enter")
        await expect(page.locator("#done")).to_be_visible()
        await screenshot(page, "book-phone-width")
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375


@on_sqlite
async def test_pages_have_no_serious_accessibility_violations(server: Server, chromium: Chromium) -> None:
    salon = await salon_on(server)
    async with chromium() as browser:
        page = await open_widget(browser, server, salon)
        await choose_time(page, local_time(DAYS_AHEAD, 13))
        assert await serious_accessibility_violations(page) == []
        await page.goto(f"{server.url}/owner/{salon.slug}")
        await expect(page.locator("#login")).to_be_visible()
        assert await serious_accessibility_violations(page) == []
        await page.fill("#api-key", salon.api_key)
        await page.click("#login button")
        await expect(page.locator("#days")).to_be_visible()
        assert await serious_accessibility_violations(page) == []


@on_sqlite
async def test_one_script_tag_embeds_the_widget_and_it_reports_its_height(server: Server, chromium: Chromium) -> None:
    salon = await salon_on(server)
    hostile_css = "<style>* { color: white !important; background: white !important }</style>"
    tag = f'<script src="{server.url}/embed.js" data-slug="{salon.slug}"></script>'
    with customer_site(f"{hostile_css}<h1>My salon</h1>{tag}") as site:
        async with chromium() as browser:
            page = await browser.new_page()
            await page.goto(site)
            frame = page.frame_locator("iframe")
            await expect(frame.locator("#picker")).to_be_visible()
            await expect(page.locator("iframe")).not_to_have_attribute("style", re.compile(r"height: 640px"))
            color = await frame.locator("#firstName").evaluate("e => getComputedStyle(e).color")
            assert color == "rgb(26, 26, 26)", "the host page's CSS must not reach the widget"
            await screenshot(page, "book-embedded")


@on_postgresql
async def test_owner_calendar_shows_a_booking_made_through_the_api_within_two_seconds(
    server: Server, chromium: Chromium
) -> None:
    salon = await salon_on(server)
    async with chromium() as browser, httpx.AsyncClient(base_url=server.url) as client:
        page = await browser.new_page()
        await page.goto(f"{server.url}/owner/{salon.slug}")
        await page.fill("#api-key", salon.api_key)
        await page.click("#login button")
        await expect(page.locator("#live")).to_contain_text("Live")
        assert salon.api_key not in page.url
        await page.select_option("#view", "day")
        await page.fill("#date", (date.today() + timedelta(days=1)).isoformat())
        await expect(page.locator("#days h3")).to_have_count(1)

        reply = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(1, 19)))
        assert reply.status_code == 201, reply.text
        entry = page.locator(f'[data-booking-id="{reply.json()["data"]["id"]}"]')
        await expect(entry).to_be_visible(timeout=2000)
        await expect(entry).to_have_class("entry status-confirmed")

        await entry.click()
        await expect(page.locator("#audit li")).to_contain_text(["confirmed"])
        await screenshot(page, "owner-calendar")
        await page.click("#cancel")
        await expect(page.locator("#audit li")).to_have_count(2)
        await expect(entry).to_have_class("entry status-cancelled")
