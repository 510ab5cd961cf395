"""Debian's Chromium driven by Playwright: never a downloaded browser."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.async_api import Browser, Frame, Page, async_playwright, expect

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


async def pick_day(page: Page | Frame, day: str) -> None:
    """Page the widget's month view (or an embedded widget's) forward until `day` (YYYY-MM-DD) is shown,
    then click it."""
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
    # Evaluated, not added as a <script>: the owner console's CSP refuses inline scripts, as it should.
    await page.evaluate(AXE.read_text())
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def open_page(browser: Browser, url: str, ready: str = "#picker", **context: object) -> Page:
    """A page in a fresh browser context (its own cookies and storage), once `ready` is visible."""
    page = await (await browser.new_context(**context)).new_page()
    await page.goto(url)
    await expect(page.locator(ready)).to_be_visible()
    return page


async def fill_client(page: Page | Frame, n: int) -> None:
    await page.fill("#firstName", "Ada")
    await page.fill("#lastName", f"Lovelace{n}")
    await page.fill("#email", f"ada{n}@example.com")
    await page.fill("#phone", "+49 30 1234567")


async def sign_in_owner(page: Page, url: str, api_key: str) -> None:
    await page.goto(url)
    await page.fill("#api-key", api_key)
    await page.click("#login button")
    await expect(page.locator("#days")).to_be_visible()


@contextmanager
def customer_site(html: str) -> Iterator[str]:
    """A page of someone else's site, on its own origin, served from this machine."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html.encode())

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
