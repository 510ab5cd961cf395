"""`slotguard verify` judges a replacement worker by what the worker did, not by where traffic went, and
only a worker that really replaces the killed one.

A worker killed and replaced while no request arrives (the clients' kept-alive connections stay on the
other workers, or a load balancer sends them elsewhere) has no database connection of its own to show,
although it started well: its health must not be read from its connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator

import pytest

from slotguard.verify.faults import FaultInjector, FaultPlan, metrics_folder, reported_started, workers_of
from tests.e2e.conftest import start_server, stop_server

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def quiet_server(postgresql_url: str) -> Iterator[int]:
    """`slotguard serve --workers 2` that no request reaches, and its process id. With the webhook secret given
    and no periodic job, a worker's start-up sends nothing to the database."""
    quiet = {"SLOTGUARD_WEBHOOK_SECRET": "whsec_test", "SLOTGUARD_WAITLIST_OFFER_SECONDS": "0"}
    process, _url = start_server(postgresql_url, extra_env=quiet)
    yield process.pid
    stop_server(process)


async def _one_kill(injector: FaultInjector) -> None:
    """Run the faults until one kill's replacement has been judged (the kill holds the turn till then)."""
    faults = asyncio.create_task(injector.run())
    for _ in range(450):
        if injector.restarted == 1 and not injector.turn.locked():
            break
        await asyncio.sleep(0.1)
    faults.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await faults
    await injector.finish()


async def test_a_replacement_worker_that_no_request_reached_is_judged_started(
    quiet_server: int, postgresql_url: str
) -> None:
    plan = FaultPlan(
        postgresql_url, terminate_connections=True, terminate_interval_seconds=0.5,
        server_pid=quiet_server, kill_workers=True, kill_interval_seconds=60,
    )  # fmt: skip
    injector = FaultInjector(plan)
    await _one_kill(injector)

    assert injector.killed == injector.restarted == 1
    assert injector.problems == []


async def test_a_killed_worker_still_dying_is_not_judged_as_its_own_replacement(quiet_server: int) -> None:
    # On a loaded machine the kernel can take a while to end a worker sent SIGKILL, which meanwhile is still
    # listed, unchanged, among the server's workers: here it takes 3 s.
    loop = asyncio.get_running_loop()

    def kill_slowly(worker: int) -> None:
        loop.call_later(3, os.kill, worker, signal.SIGKILL)

    before = workers_of(quiet_server)
    plan = FaultPlan(server_pid=quiet_server, kill_workers=True, kill_interval_seconds=60)
    injector = FaultInjector(plan, kill=kill_slowly)
    await _one_kill(injector)

    assert injector.killed == injector.restarted == 1 and injector.problems == []
    # The turn came back only once the killed worker was gone and a new one had finished its start-up.
    workers = workers_of(quiet_server)
    assert len(workers) == 2 and len(workers & before) == 1, (before, workers)
    assert all(reported_started(metrics_folder(w) or "", w) for w in workers)
