"""Debian's Chromium driven by Playwright: never a downloaded browser."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.async_api import Browser, Frame, Page, Playwright, expect

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

# The `chromium` fixture: `async with chromium() as browser:`.
Chromium = Callable[[], AbstractAsyncContextManager[Browser]]


class SessionChromium:
    """One Chromium for the whole test session: starting it takes a second or two, a fresh context (its own
    cookies, storage and cache, as a new browser has) a fraction of that. A test borrows it (the `chromium`
    fixture) and every context it opened is closed when it gives it back: tests share the process and nothing
    else. Playwright's objects belong to the event loop that started them, so the tests that borrow it run on
    the session's loop (`pytest.mark.asyncio(loop_scope="session")`)."""

    def __init__(self, playwright: Playwright) -> None:
        self._playwright = playwright
        self._loop = asyncio.get_running_loop()
        self._browser: Browser | None = None

    @asynccontextmanager
    async def borrowed(self) -> AsyncIterator[Browser]:
        assert asyncio.get_running_loop() is self._loop, 'needs pytest.mark.asyncio(loop_scope="session")'
        if self._browser is None or not self._browser.is_connected():  # the first test, or after a crash
            self._browser = await self._playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        browser = self._browser
        assert not browser.contexts, "a context outlived the test that opened it"
        try:
            yield browser
        finally:
            for context in browser.contexts:
                await context.close()

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.close()


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
