"""`slotguard demo` against the server's database: run again, it adds nothing the first run made, and the
links it prints open the widget on the tour's seats and the garage's one-car slots."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect

from tests.e2e.browser import Chromium, open_page, pick_day, screenshot
from tests.e2e.conftest import Server

pytestmark = pytest.mark.asyncio(loop_scope="session")  # the session's Chromium lives there
DEMO_ZONE = ZoneInfo("Europe/London")


def run_demo(server: Server) -> str:
    env = os.environ | {"SLOTGUARD_DATABASE_URL": server.database_url, "COLUMNS": "400"}
    command = [sys.executable, "-m", "slotguard", "demo", "--url", server.url]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=120).stdout


async def demo_catalog(client: httpx.AsyncClient) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """The demo's services (name → id) and its slots."""
    business = (await client.get("/api/v1/public/demo")).json()["data"]
    slots = (await client.get("/api/v1/public/demo/slots", params={"limit": "1000"})).json()["data"]
    return {s["name"]: s["id"] for s in business["services"]}, slots


def first_day(slots: list[dict[str, Any]], service_id: str) -> str:
    start = min(s["startTime"] for s in slots if s["serviceId"] == service_id)
    return datetime.fromisoformat(start).astimezone(DEMO_ZONE).date().isoformat()


async def test_the_demo_run_twice_keeps_one_of_everything_and_links_to_its_slots(
    server: Server, chromium: Chromium
) -> None:
    printed = run_demo(server)
    async with httpx.AsyncClient(base_url=server.url) as client:
        services, slots = await demo_catalog(client)
        run_demo(server)
        services_again, slots_again = await demo_catalog(client)
    assert services == services_again
    assert list(services) == ["Haircut", "Colour", "Guided tour", "Car service"]
    assert {s["id"] for s in slots} <= {s["id"] for s in slots_again}
    assert max(Counter((s["serviceId"], s["startTime"]) for s in slots_again).values()) == 1
    assert {s["capacity"] for s in slots} == {8, 1}

    links = dict(re.findall(r"(Guided tour|Car service): \d+ slots? of \d+ seats?\s*\S\s*(\S+)", printed))
    async with chromium() as browser:
        for service, seats in (("Guided tour", "8 seats left"), ("Car service", "free")):
            page = await open_page(browser, links[service])
            await expect(page.locator("#party-box")).to_be_visible()
            await pick_day(page, first_day(slots, services[service]))
            await expect(page.locator("#times button").first).to_contain_text(seats)
        await screenshot(page, "demo-car-service")
