"""Three `slotguard serve` instances on one PostgreSQL database behind HAProxy, as three hosts behind a load
balancer (SPEC §10): the races have one winner, every instance's outbox worker runs and each message is
delivered once, and `slotguard verify` holds every invariant while one instance is killed and started again.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e import test_appointment_races, test_seat_races
from tests.e2e.conftest import ADMIN_TOKEN, Server, free_port, launch_server, start_server, start_servers, stop_server
from tests.e2e.load_balancer import haproxy
from tests.e2e.salon import booking_body, local_time, new_salon
from tests.services.http_receiver import http_receiver

pytestmark = [pytest.mark.e2e, pytest.mark.heavy]

INSTANCES = 3
# Every instance runs its outbox worker, and may post webhooks to a receiver on loopback over plain http.
ENV = {
    "SLOTGUARD_OUTBOX_WORKER": "true",
    "SLOTGUARD_OUTBOUND_ALLOW_HTTP": "true",
    "SLOTGUARD_OUTBOUND_ALLOW_PRIVATE": "true",
}


@dataclass
class Hosts:
    url: str  # the load balancer
    database_url: str
    ports: list[int]
    processes: list[subprocess.Popen[bytes]]

    def kill(self, n: int) -> None:
        """A host lost at once: its process is killed with requests in flight."""
        self.processes[n].send_signal(signal.SIGKILL)
        self.processes[n].wait()

    def start(self, n: int) -> None:
        self.processes[n], _ = start_server(self.database_url, workers=1, extra_env=ENV, port=self.ports[n])


@pytest.fixture(scope="module")
def hosts() -> Iterator[Hosts]:
    name = f"slotguard_hosts_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    database_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    ports = [free_port() for _ in range(INSTANCES)]
    group = Hosts("", database_url, ports, [])
    try:
        # Started together: each migrates the new database on start, one after another (a lock).
        launched = [launch_server(database_url, workers=1, extra_env=ENV, port=port) for port in ports]
        group.processes = [process for process, _url in launched]
        start_servers(launched)
        with haproxy(ports) as url:
            group.url = url
            yield group
    finally:
        for process in group.processes:
            stop_server(process)
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server(hosts: Hosts) -> Server:
    return Server(url=hosts.url, database_url=hosts.database_url)


test_hundred_racers_for_one_time_get_one_booking = (
    test_appointment_races.test_hundred_racers_for_one_time_get_one_booking
)
test_concurrent_checkouts_never_oversell = test_seat_races.test_concurrent_checkouts_never_oversell
test_concurrent_holds_on_the_last_seat_have_one_winner = (
    test_seat_races.test_concurrent_holds_on_the_last_seat_have_one_winner
)

BOOKINGS = 30


async def test_three_outbox_workers_deliver_each_webhook_once(hosts: Hosts) -> None:
    with http_receiver() as receiver:
        async with httpx.AsyncClient(base_url=hosts.url, timeout=60) as client:
            salon = await new_salon(client, ADMIN_TOKEN)
            hook = await client.put(
                f"/api/v1/businesses/{salon.slug}/webhook", json={"url": receiver.url}, headers=salon.owner
            )
            assert hook.status_code == 200, hook.text
            replies = await asyncio.gather(
                *(
                    client.post(
                        f"/api/v1/public/{salon.slug}/book",
                        json=booking_body(salon, local_time(2 + n // 8, 9 + n % 8), n=n),
                    )
                    for n in range(BOOKINGS)
                )
            )
            assert [r.status_code for r in replies] == [201] * BOOKINGS
        for _ in range(150):  # until every webhook arrived, or 30 seconds
            if len(receiver.requests) >= BOOKINGS:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(2)  # three workers keep polling: none may deliver a second copy

    deliveries = Counter(r.headers["Slotguard-Delivery"] for r in receiver.requests)
    assert len(deliveries) == BOOKINGS, f"{len(deliveries)} of {BOOKINGS} webhooks arrived"
    assert set(deliveries.values()) == {1}, "a webhook was delivered twice"


OPERATIONS = 1500


def test_verify_with_one_host_killed_and_started_again_keeps_every_invariant(
    hosts: Hosts, tmp_path: os.PathLike[str]
) -> None:
    log = os.path.join(tmp_path, "verify.jsonl")
    args = ["--url", hosts.url, "--admin-token", ADMIN_TOKEN, "--operations", str(OPERATIONS),
            "--clients", "12", "--seed", "11", "--database-url", hosts.database_url, "--outside-kills",
            "--log", log, "--json"]  # fmt: skip
    verify = subprocess.Popen(
        [sys.executable, "-m", "slotguard", "verify", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(4)  # the run is under way
    hosts.kill(1)
    time.sleep(1)
    hosts.start(1)
    output, errors = verify.communicate(timeout=300)
    assert output.startswith("{"), errors[-3000:]
    summary = json.loads(output)

    assert verify.returncode == 0, summary["violations"][:20]
    assert summary["violations"] == []
    replies = summary["replies"]
    for acknowledged in ("book 201", "slot_book 201", "cancel 200"):
        assert replies.get(acknowledged, 0) > 0, (acknowledged, replies)
    with open(log) as lines:
        assert sum(1 for _ in lines) == summary["requests"] >= OPERATIONS
