"""Debian's Chromium driven by Playwright: never a downloaded browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
AXE = Path(__file__).resolve().parents[2] / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def pick_day(page: Page, day: str) -> None:
    """Page the widget's month view forward until `day` (YYYY-MM-DD) is shown, then click it."""
    target = page.locator(f'#month button[data-date="{day}"]')
    for _ in range(3):
        await page.wait_for_selector("#month button")
        if await target.count():
            break
        await page.click("#next-month")
        await page.wait_for_selector(f'#month button[data-date^="{day[:7]}"]')
    await target.click()


async def serious_accessibility_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical findings on the page as it is now."""
    await page.add_script_tag(content=AXE.read_text())
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
