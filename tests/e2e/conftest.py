"""A real `slotguard serve --workers 2` process per database engine, shared by the e2e tests, and one
Chromium shared by the browser tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

from tests.e2e.browser import Chromium, SessionChromium

ADMIN_TOKEN = "test-admin-token"


@dataclass(frozen=True)
class Server:
    url: str
    database_url: str
    admin_token: str = ADMIN_TOKEN


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    database_url: str,
    *,
    workers: int = 2,
    extra_env: dict[str, str] | None = None,
    port: int | None = None,
    ready_timeout_seconds: float = 60,
) -> tuple[subprocess.Popen[bytes], str]:
    [started] = start_servers([launch_server(database_url, workers=workers, extra_env=extra_env, port=port)],
                              ready_timeout_seconds=ready_timeout_seconds)  # fmt: skip
    return started


def launch_server(
    database_url: str, *, workers: int = 2, extra_env: dict[str, str] | None = None, port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """`slotguard serve` started, not yet ready: see `start_servers`."""
    port = port or free_port()
    env = (
        os.environ
        | {
            "SLOTGUARD_DATABASE_URL": database_url,
            "SLOTGUARD_ADMIN_TOKEN": ADMIN_TOKEN,
            # The session's databases are shared with the service tests, which drain the outbox
            # themselves and check what arrives: a server's worker must not take their messages.
            "SLOTGUARD_OUTBOX_WORKER": "false",
            # Likewise reminders: the tests that check them start servers of their own.
            "SLOTGUARD_REMINDER_SECONDS": "0",
            "SLOTGUARD_WAITLIST_OFFER_SECONDS": "0",
            # Not the defaults, so said here: the races fire from one address faster than the public rate
            # limit allows, and the checkout tests pay through the built-in local provider.
            "SLOTGUARD_RATE_LIMIT": "off",
            "SLOTGUARD_PAYMENT_PROVIDER": "local",
        }
        | (extra_env or {})
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "slotguard", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
    )
    return process, f"http://127.0.0.1:{port}"


def start_servers(
    launched: list[tuple[subprocess.Popen[bytes], str]], *, ready_timeout_seconds: float = 60
) -> list[tuple[subprocess.Popen[bytes], str]]:
    """Wait until every launched server is ready. Servers launched together start side by side (their start is
    mostly Python importing, one core each), not one after another; if one never gets ready, all are stopped.
    Side by side on a loaded machine each takes longer: together they have the time they had one by one."""
    deadline = time.monotonic() + ready_timeout_seconds * len(launched)
    try:
        for process, url in launched:
            wait_ready(url, process, timeout_seconds=deadline - time.monotonic())
    except BaseException:
        for process, _url in launched:
            stop_server(process)
        raise
    return launched


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_seconds: float = 60) -> None:
    """Wait for `/readyz`. Generous: on a loaded two-core machine a server with two workers under coverage
    has been seen to need more than 30 s; a server that never becomes ready is stopped, not left behind."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slotguard serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_server(process)
    raise RuntimeError("slotguard serve did not become ready")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """`slotguard serve --workers 2` on SQLite and on PostgreSQL."""
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    process, url = start_server(database_url)
    yield Server(url=url, database_url=database_url)
    stop_server(process)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def session_chromium() -> AsyncIterator[SessionChromium]:
    async with async_playwright() as playwright:
        shared = SessionChromium(playwright)
        try:
            yield shared
        finally:
            await shared.close()


@pytest.fixture
def chromium(session_chromium: SessionChromium) -> Chromium:
    """`async with chromium() as browser:` the session's Chromium; the contexts the test opens in it are closed
    at the end of the block, as closing a browser of its own would."""
    return session_chromium.borrowed
