"""`slotguard verify`, CI-sized, against a real server of its own on each engine: its workers are
SIGKILLed (and restarted by their supervisor) and, on PostgreSQL, its database connections terminated."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Server, start_server, stop_server

OPERATIONS = 2000


@pytest.fixture(params=["sqlite", "postgresql"])
def own_server(request: pytest.FixtureRequest) -> Iterator[tuple[Server, int]]:
    """`slotguard serve --workers 2` for this test alone (its workers get killed), and its process id."""
    database_url: str = request.getfixturevalue(f"{request.param}_url")
    # Waitlist offers as soon as seats free up: the judge checks them too.
    process, url = start_server(database_url, extra_env={"SLOTGUARD_WAITLIST_OFFER_SECONDS": "0.5"})
    yield Server(url=url, database_url=database_url), process.pid
    stop_server(process)


def test_random_operations_under_faults_keep_every_invariant(
    own_server: tuple[Server, int], tmp_path: os.PathLike[str]
) -> None:
    server, server_pid = own_server
    postgresql = server.database_url.startswith("postgresql")
    fault_flags = ["--fault-kill-workers", "--server-pid", str(server_pid), "--kill-interval", "4"]
    if postgresql:
        fault_flags += ["--fault-terminate-connections", "--terminate-interval", "0.5"]
    log = os.path.join(tmp_path, "verify.jsonl")
    args = ["--url", server.url, "--admin-token", server.admin_token, "--operations", str(OPERATIONS),
            "--clients", "12", "--seed", "5", "--database-url", server.database_url, "--log", log, "--json",
            *fault_flags]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "slotguard", "verify", *args], capture_output=True, text=True, timeout=300
    )
    assert result.stdout.startswith("{"), result.stderr[-3000:]
    summary = json.loads(result.stdout)

    assert result.returncode == 0, summary["violations"][:20]
    assert summary["violations"] == []
    replies = summary["replies"]
    sent = {key.split()[0] for key in replies}
    assert sent == {"book", "hold", "book_hold", "checkout_time", "seat_hold", "slot_book", "slot_book_hold",
                    "checkout", "webhook", "cancel", "reschedule", "look", "wait", "accept", "book_series",
                    "cancel_series"}  # fmt: skip
    for acknowledged in ("book 201", "slot_book 201", "cancel 200", "reschedule 200", "wait 201", "accept 201",
                         "book_series 201", "cancel_series 200"):  # fmt: skip
        assert replies.get(acknowledged, 0) > 0, (acknowledged, replies)
    assert replies.get("book_series 409 TIME_CONFLICT", 0) > 0, replies
    # The judge's resource and series checks had real bookings to judge.
    assert summary["storedWithResource"] > 0 and summary["storedSeries"] > 0, summary
    assert replies.get("slot_book 409 SLOT_UNAVAILABLE", 0) > 10, replies
    assert replies.get("book 409 TIME_CONFLICT", 0) > 10, replies
    assert sum(n for key, n in replies.items() if key.startswith("webhook 200")) > 0, replies
    assert summary["checks"] == ["stored seat counters", "clean-up job"]
    progress = result.stderr.splitlines()  # not a terminal: plain lines, not a bar
    assert f"verify: {OPERATIONS} operations: started, {OPERATIONS} in all" in progress
    assert any(line.startswith(f"verify: {OPERATIONS} operations: reading the stored state back") for line in progress)
    # The count is of logged requests, which some operations make more than one of.
    assert any(line.startswith(f"verify: {OPERATIONS} operations: finished, ") for line in progress)
    faults = summary["faults"]
    assert faults["workersKilled"] >= 1 and faults["workersRestarted"] == faults["workersKilled"], faults
    assert (faults["connectionsTerminated"] > 0) == postgresql, faults
    with open(log) as lines:
        assert sum(1 for _ in lines) == summary["requests"] >= OPERATIONS


pytestmark = pytest.mark.e2e
