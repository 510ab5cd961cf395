"""Periodic work of every host (reminders, waitlist offers): the same loop everywhere, each pass claiming
its work in the database, so running it on every worker of every host does each piece once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("slotguard.periodic")


async def run_periodically(name: str, seconds: float, work: Callable[[], Awaitable[int]]) -> None:
    """Run `work` every `seconds` until cancelled; a failed pass is logged and tried again next time."""
    while True:
        try:
            await work()
        except Exception:
            log.exception("%s pass failed; trying again", name)
        await asyncio.sleep(seconds)
