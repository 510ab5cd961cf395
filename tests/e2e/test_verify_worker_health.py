"""`slotguard verify` judges a replacement worker by what the worker did, not by where traffic went.

A worker killed and replaced while no request arrives (the clients' kept-alive connections stay on the
other workers, or a load balancer sends them elsewhere) has no database connection of its own to show,
although it started well: its health must not be read from its connections.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from slotguard.verify.faults import FaultInjector, FaultPlan
from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e


async def test_a_replacement_worker_that_no_request_reached_is_judged_started(postgresql_url: str) -> None:
    # With the webhook secret given and no periodic job, a worker's start-up sends nothing to the database.
    quiet = {"SLOTGUARD_WEBHOOK_SECRET": "whsec_test", "SLOTGUARD_WAITLIST_OFFER_SECONDS": "0"}
    process, _url = start_server(postgresql_url, extra_env=quiet)
    try:
        plan = FaultPlan(
            postgresql_url, terminate_connections=True, terminate_interval_seconds=0.5,
            server_pid=process.pid, kill_workers=True, kill_interval_seconds=60,
        )  # fmt: skip
        injector = FaultInjector(plan)
        faults = asyncio.create_task(injector.run())
        for _ in range(450):  # until the kill's replacement has been judged (it holds the turn till then)
            if injector.restarted == 1 and not injector.turn.locked():
                break
            await asyncio.sleep(0.1)
        faults.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await faults
        await injector.finish()

        assert injector.killed == injector.restarted == 1
        assert injector.problems == []
    finally:
        stop_server(process)
