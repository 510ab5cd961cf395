"""`slotguard verify` while the database fails over, again and again, under a running `slotguard serve`:
a primary and a synchronous standby under pg_auto_failover (a formation of the test's own, on loopback),
slotguard connecting with the multi-host URL `pg_autoctl show uri` prints. Each failover kills the
primary's host a moment after its link to the standby stalled (tests/e2e/auto_failover.py).

With synchronous replication no acknowledged booking may go missing. The control runs the same failovers
with synchronous replication off, and must show a loss: proof that the first test could see one.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.auto_failover import Formation, auto_failover_formation
from tests.e2e.conftest import ADMIN_TOKEN, start_server, stop_server

# verify goes on past its operations until the failovers have happened, however fast the machine. A failover
# every 20 s or so here: after the 8 s a failover takes, the dead node needs 10-15 s to return as the standby,
# which the next failover waits for. The interval covers part of that return, so that the command, and with
# it the window in which a 503 counts as in doubt, stays close to the failover itself.
OPERATIONS, FAILOVERS, FAILOVER_INTERVAL_SECONDS = 300, 3, 6
# One failover shows the loss. The run ends soon after it, before a second would start.
CONTROL_OPERATIONS, CONTROL_FAILOVERS, CONTROL_FAILOVER_INTERVAL_SECONDS = 100, 1, 3


@pytest.fixture(scope="module")
def formation() -> Iterator[Formation]:
    with auto_failover_formation() as created:
        yield created


def verify_with_failovers(
    formation: Formation, tmp_path: os.PathLike[str], operations: int, failovers: int, interval_seconds: float
) -> tuple[int, dict[str, Any], int, int]:
    """verify's exit code and summary, the server's /readyz status after the run, and how many failovers
    happened while the clients ran (a 503 during them: the last may come after the last request)."""
    database_url = formation.create_database(f"verify_{uuid.uuid4().hex[:8]}")
    process, url = start_server(database_url)  # which applies the migrations
    log = os.path.join(tmp_path, "verify.jsonl")
    fail_over = shlex.join([sys.executable, "-m", "tests.e2e.auto_failover", "fail-over", str(formation.folder)])
    args = ["--url", url, "--admin-token", ADMIN_TOKEN, "--operations", str(operations), "--clients", "8",
            "--seed", "17", "--database-url", database_url, "--log", log,
            "--json", "--fault-failover-database", fail_over,
            "--failover-interval", str(interval_seconds), "--min-database-faults", str(failovers)]  # fmt: skip
    try:
        result = subprocess.run(
            [sys.executable, "-m", "slotguard", "verify", *args], capture_output=True, text=True, timeout=600
        )
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert process.poll() is None, "the server stopped"
    finally:
        stop_server(process)
    assert result.stdout.startswith("{"), result.stderr[-3000:]
    with open(os.path.join(tmp_path, "summary.json"), "w") as kept:  # beside the log, for bench/failover.py
        kept.write(result.stdout)
    with open(log) as lines:
        logged = [json.loads(line) for line in lines]
    unavailable = [line["replied_at"] for line in logged if line.get("status") == 503]
    done = [line for line in logged if line.get("fault") == "database_failover"]
    under_load = sum(any(f["started_at"] <= at <= (f["ready_at"] or at) for at in unavailable) for f in done)
    return result.returncode, json.loads(result.stdout), ready.status_code, under_load


def test_failovers_under_load_lose_no_acknowledged_booking_with_a_synchronous_standby(
    formation: Formation, tmp_path: os.PathLike[str]
) -> None:
    formation.set_synchronous(True)

    code, summary, ready, under_load = verify_with_failovers(
        formation, tmp_path, OPERATIONS, FAILOVERS, FAILOVER_INTERVAL_SECONDS
    )

    assert summary["violations"] == [] and code == 0, summary["violations"][:20]
    assert under_load >= FAILOVERS, summary
    replies = summary["replies"]
    assert sum(n for key, n in replies.items() if " 503 " in key) > 0, replies
    assert sum(n for key, n in replies.items() if key.startswith("book 201")) > 0, replies
    assert ready == 200, "the service recovered by itself"


def test_the_control_without_synchronous_replication_shows_acknowledged_bookings_lost(
    formation: Formation, tmp_path: os.PathLike[str]
) -> None:
    formation.set_synchronous(False)

    code, summary, ready, under_load = verify_with_failovers(
        formation, tmp_path, CONTROL_OPERATIONS, CONTROL_FAILOVERS, CONTROL_FAILOVER_INTERVAL_SECONDS
    )

    lost = [v for v in summary["violations"] if "is not stored" in v]  # acknowledged, then gone with the node
    assert code == 1 and lost, summary
    assert under_load >= CONTROL_FAILOVERS, summary
    assert ready == 200


pytestmark = [pytest.mark.e2e, pytest.mark.heavy]
