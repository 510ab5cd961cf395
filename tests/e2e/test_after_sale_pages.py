"""The widget after a slot sells out and after the booking, in Debian's Chromium with axe: joining a full
slot's waiting list in German, booking an offer with one click, and the manage page saying (in French)
until when the booking can be changed; against `slotguard serve --workers 2`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from slotguard.domain.messages import PageLinks
from slotguard.services.ports import UnitOfWork
from slotguard.services.waitlists import make_offers
from slotguard.storage.engine import create_database
from slotguard.storage.unit_of_work import SqlUnitOfWork
from tests.e2e.browser import (
    Chromium,
    fill_client,
    open_page,
    pick_day,
    screenshot,
    serious_accessibility_violations,
    sign_in_owner,
)
from tests.e2e.conftest import Server
from tests.e2e.salon import party
from tests.e2e.test_seat_pages import DAY, add_slots, slot_button, tour_operator

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]  # the session's Chromium lives there
on_postgresql = pytest.mark.parametrize("server", ["postgresql"], indirect=True)
on_sqlite = pytest.mark.parametrize("server", ["sqlite"], indirect=True)


async def sold_out_tour(server: Server, client: httpx.AsyncClient) -> tuple[Any, dict[str, Any], list[str]]:
    salon = await tour_operator(server)
    (tour,) = await add_slots(server, salon, (2, 10))
    book = f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book"
    tokens = [(await client.post(book, json=party(80 + n))).json()["data"]["manageToken"] for n in range(2)]
    return salon, tour, tokens


async def offer_pass(server: Server) -> None:
    """One pass of the offer job (the servers of these tests leave it to the test)."""
    database = create_database(server.database_url, pool_size=2)

    def uows(*, write: bool) -> UnitOfWork:
        return SqlUnitOfWork(database, write=write)

    try:
        await make_offers(uows, lambda: datetime.now(UTC), PageLinks(server.url))
    finally:
        await database.dispose()


@on_postgresql
async def test_a_party_joins_a_full_slots_waiting_list_in_german_and_books_its_offer(
    server: Server, chromium: Chromium
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon, tour, tokens = await sold_out_tour(server, client)
        async with chromium() as browser:
            url = f"{server.url}/book/{salon.slug}?service={salon.service_ids['tour']}&lang=de"
            page = await open_page(browser, url)
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            await pick_day(page, DAY)
            await expect(slot_button(page, tour)).to_contain_text("ausgebucht")
            await slot_button(page, tour).click()
            await page.select_option("#guests", "2")
            await expect(page.locator("#seats-note")).to_contain_text("Warteliste")
            await expect(page.locator("#book")).to_have_text("Bescheid geben, wenn Plätze frei werden")
            await fill_client(page, 1)
            await page.click("#book")
            await expect(page.locator("#notice")).to_have_text(
                "Sie sind Nummer 1 auf der Warteliste. Wir schreiben Ihnen, wenn Plätze frei werden."
            )
            assert await serious_accessibility_violations(page) == []
            await screenshot(page, "waitlist-joined-de")

            line_url = f"/api/v1/businesses/{salon.slug}/slots/{tour['id']}/waitlist"
            other = await client.post(
                f"/api/v1/public/{salon.slug}/slots/{tour['id']}/waitlist", json=party(9, guests=1)
            )
            assert other.status_code == 201, other.text
            await sign_in_owner(page, f"{server.url}/owner/{salon.slug}", salon.api_key)
            await page.fill("#date", DAY)
            await page.click(f'[data-slot-id="{tour["id"]}"]')
            entries = page.locator("#waitlist-entries tbody tr")
            await expect(entries).to_have_count(2)
            await expect(entries.nth(0)).to_contain_text("waiting")
            assert await serious_accessibility_violations(page) == []
            await screenshot(page, "owner-slot-waitlist")
            await entries.nth(1).get_by_role("button", name="Remove Guest Party9 from the waiting list").click()
            await expect(entries.nth(1)).to_contain_text("removed")

            await client.post(f"/api/v1/public/bookings/{tokens[0]}/cancel")
            await offer_pass(server)
            assert [e["status"] for e in (await client.get(line_url, headers=salon.owner)).json()["data"]] == [
                "waiting",
                "removed",
            ]  # one seat freed: the party of 2 waits on, and the removed party is not offered it
            await client.post(f"/api/v1/public/bookings/{tokens[1]}/cancel")
            await offer_pass(server)
            entry, _ = (await client.get(line_url, headers=salon.owner)).json()["data"]
            assert entry["status"] == "offered"

            offer_link = PageLinks(server.url).offer(salon.slug, entry["offerToken"], "de")  # as the email has it
            offer = await open_page(browser, offer_link, "#offer")
            await expect(offer.locator("#offer-title")).to_have_text("Plätze sind für Sie reserviert")
            assert await serious_accessibility_violations(offer) == []
            await offer.click("#accept-offer")
            await expect(offer.locator("#done-title")).to_have_text("Gebucht")
            await expect(offer.locator("#done-summary")).to_contain_text("2 Personen")
            await screenshot(offer, "waitlist-offer-booked-de")
        booked = (await client.get(line_url, headers=salon.owner)).json()["data"]
    assert [e["status"] for e in booked] == ["booked", "removed"]


@on_sqlite
async def test_the_manage_page_says_until_when_changes_are_possible_in_the_browsers_language(
    server: Server, chromium: Chromium
) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await tour_operator(server)
        (tour,) = await add_slots(server, salon, (4, 10))
        book = f"/api/v1/public/{salon.slug}/slots/{tour['id']}/book"
        token = (await client.post(book, json=party(1))).json()["data"]["manageToken"]
        settings = f"/api/v1/businesses/{salon.slug}"
        async with chromium() as browser:
            await client.patch(settings, json={"changeNoticeMinutes": 60}, headers=salon.owner)
            page = await open_page(browser, f"{server.url}/book/{salon.slug}?manage={token}", "#manage", locale="fr-FR")
            await expect(page.locator("#manage-status")).to_have_text("Confirmée")
            await expect(page.locator("#manage-policy")).to_contain_text("en ligne jusqu'au")
            await expect(page.locator("#cancel-booking")).to_be_enabled()

            await client.patch(settings, json={"changeNoticeMinutes": 20 * 24 * 60}, headers=salon.owner)
            late = await open_page(browser, f"{server.url}/book/{salon.slug}?manage={token}", "#manage", locale="fr-FR")
            await expect(late.locator("#manage-policy")).to_have_text(
                "Cette réservation ne peut plus être modifiée en ligne. Veuillez contacter Test Salon."
            )
            await expect(late.locator("#cancel-booking")).to_be_disabled()
            await expect(late.locator("#start-reschedule")).to_be_disabled()
            assert await serious_accessibility_violations(late) == []
            await screenshot(late, "manage-too-late-fr")
