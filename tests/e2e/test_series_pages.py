"""Repeat appointments in the widget and on the manage page, in Debian's Chromium with axe, against
`slotguard serve --workers 2` on each engine: the "repeat" control only where the business allows it, a
refusal naming the taken occurrence in plain words, the series booked whole, and its manage page listing
every occurrence, cancelling one of them, and cancelling the rest of the series."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import Chromium, fill_client, open_page, screenshot, serious_accessibility_violations
from tests.e2e.conftest import Server
from tests.e2e.salon import TIMEZONE, Salon, booking_body, calendar, local_time, new_salon
from tests.e2e.test_pages import DAYS_AHEAD, choose_time

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]  # the session's Chromium lives there


def spoken(start: str) -> str:
    """How the widget writes an occurrence in English: "Monday, 21 December 2026 at 10:00"."""
    local = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(ZoneInfo(TIMEZONE))
    return f"{local:%A}, {local.day} {local:%B} {local.year} at {local:%H:%M}"


async def allow_repeat_bookings(client: httpx.AsyncClient, salon: Salon) -> None:
    reply = await client.patch(f"/api/v1/businesses/{salon.slug}", json={"repeatBookings": True}, headers=salon.owner)
    assert reply.status_code == 200, reply.text


async def ask_for_series(page: Page, every: str, count: int) -> None:
    await page.select_option("#repeat-every", every)
    await page.fill("#repeat-count", str(count))


async def test_a_weekly_series_is_refused_naming_the_taken_week_then_booked_and_cancelled(
    server: Server, chromium: Chromium
) -> None:
    start, second_week = local_time(DAYS_AHEAD, 10), local_time(DAYS_AHEAD + 7, 10)
    third_week = local_time(DAYS_AHEAD + 14, 10)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client, chromium() as browser:
        salon = await new_salon(client, server.admin_token)
        page = await open_page(browser, f"{server.url}/book/{salon.slug}", viewport={"width": 375, "height": 740})
        await expect(page.locator("#repeat-box")).to_be_hidden()  # the business has not allowed it yet

        await allow_repeat_bookings(client, salon)
        taken = await client.post(f"/api/v1/public/{salon.slug}/book", json=booking_body(salon, third_week, n=9))
        assert taken.status_code == 201, taken.text
        await page.reload()
        await choose_time(page, start)
        await ask_for_series(page, "week", 60)
        await fill_client(page, 1)
        await page.click("#book")
        await expect(page.locator("#error")).to_have_text("Please choose between 2 and 52 appointments.")
        await ask_for_series(page, "week", 4)
        await expect(page.locator("#book")).to_have_text("Book 4 appointments")
        await page.click("#book")

        await expect(page.locator("#conflict")).to_have_text(
            "Sorry, nothing was booked: 1 of the 4 appointments is not free. "
            "Choose another time, or fewer appointments."
        )
        named = page.locator("#series-conflicts li")
        await expect(named).to_have_count(1)
        await expect(named).to_contain_text(f"{spoken(third_week)} is already taken. Nearest free: ")
        await expect(page.locator("#conflict")).to_be_focused()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 375, "fits a phone's width"
        assert await serious_accessibility_violations(page) == []
        await screenshot(page, "series-refused")

        await ask_for_series(page, "week", 2)
        await page.click("#book")
        await expect(page.locator("#done-title")).to_have_text("2 appointments booked")
        await expect(page.locator("#done-series li")).to_have_text([spoken(start), spoken(second_week)])
        async with page.expect_download() as download:
            await page.click("#ics")
        assert (await (await download.value).path()).read_text().count("BEGIN:VEVENT") == 2
        await screenshot(page, "series-booked")

        await page.click("#manage-link")
        listed = page.locator("#series-list li")
        await expect(listed).to_have_text(
            [f"{spoken(start)}: Confirmed (this booking)", f"{spoken(second_week)}: Confirmed"]
        )
        assert await serious_accessibility_violations(page) == []
        await screenshot(page, "series-manage")
        await page.goto(page.url + "&lang=de")
        await expect(page.locator("#cancel-series")).to_have_text("Alle kommenden Termine dieser Serie stornieren")
        await page.click("#cancel-booking")  # this occurrence alone first: the list follows
        await expect(listed.first).to_contain_text("Storniert (diese Buchung)")
        await expect(listed.nth(1)).to_contain_text("Bestätigt")
        await page.click("#cancel-series")
        await expect(page.locator("#notice")).to_have_text("1 Termin storniert.")
        await expect(listed.filter(has_text="Storniert")).to_have_count(2)
        await expect(page.locator("#cancel-series")).to_be_disabled()

        stored = await calendar(client, salon)
    by_start = {b["startTime"]: b for b in stored}
    assert [by_start[s]["status"] for s in (start, second_week, third_week)] == [
        "cancelled", "cancelled", "confirmed"
    ]  # fmt: skip
    assert by_start[start]["seriesId"] == by_start[second_week]["seriesId"] is not None
    assert len(stored) == 3, "the refused series wrote nothing"
