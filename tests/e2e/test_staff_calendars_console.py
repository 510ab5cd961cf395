"""Staff calendars in the owner console, in a real browser: connect a feed, see its busy times, its error
in plain words when it cannot be read, and a booking a busy time arrived over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import pytest
from playwright.async_api import expect

from tests.calendars.servers import busy_at, ics, ics_feed
from tests.e2e.browser import Chromium, screenshot, serious_accessibility_violations, sign_in_owner
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.salon import booking_body, local_time, new_salon
from tests.e2e.test_calendar_races import LOOPBACK

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the session's Chromium lives there


@pytest.fixture(scope="module")
def loopback_server(sqlite_url: str) -> Iterator[Server]:
    process, url = start_server(sqlite_url, extra_env=LOOPBACK)
    yield Server(url=url, database_url=sqlite_url)
    stop_server(process)


async def test_an_owner_connects_a_staff_calendar_and_sees_what_it_blocks(
    loopback_server: Server, chromium: Chromium
) -> None:
    server = loopback_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        booked = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, local_time(2, 15)))
        assert booked.status_code == 201
    with ics_feed() as feed:
        feed.body = ics(busy_at("dentist", local_time(2, 9), 60), busy_at("course", local_time(2, 14), 120))
        async with chromium() as browser:
            page = await browser.new_page()
            await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
            await page.click('#nav button[data-view="calendars"]')
            card = page.locator("#staff-calendars section").first
            await card.locator("input[type=url]").fill(feed.url)
            await card.locator("button[type=submit]").click()
            await expect(card).to_contain_text("Syncing")
            await expect(card).to_contain_text("2 busy times ahead")
            await expect(card.locator(".conflicts")).to_contain_text(booked.json()["data"]["id"][:8])
            assert await serious_accessibility_violations(page) == []
            await screenshot(page, "owner-staff-calendars")

            await page.click('#nav button[data-view="calendar"]')
            await page.locator("#date").fill((date.today() + timedelta(days=2)).isoformat())
            await page.locator("#date").dispatch_event("change")
            busy = page.locator("#days .entry.busy")
            await expect(busy).to_have_count(2)
            await expect(busy.first).to_contain_text("Busy in own calendar")
            await screenshot(page, "owner-calendar-busy-times")
            await page.click('#nav button[data-view="calendars"]')

            feed.status = 500
            await card.locator("button", has_text="Sync now").click()
            await expect(card).to_contain_text("Not syncing: the server answered HTTP 500")
            await expect(card).to_contain_text("2 busy times ahead")

            await card.locator("button", has_text="Disconnect").click()
            await expect(card).not_to_contain_text("Syncing")
