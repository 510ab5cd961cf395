"""`slotguard verify` while PostgreSQL restarts again and again under a running `slotguard serve --workers 2`
whose workers are also being SIGKILLed.

The database is a throwaway cluster of the test's own (the shared server is never stopped), restarted by
the shell command an operator would give: `pg_ctl restart -m fast`. Requests cut off by a restart may or
may not have taken effect; everything else is judged as strictly as ever.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, start_server, stop_server
from tests.e2e.throwaway_postgres import ThrowawayPostgres, throwaway_postgres

OPERATIONS = 1000


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayPostgres]:
    with throwaway_postgres() as postgres:
        yield postgres


def test_random_operations_keep_every_invariant_while_the_database_restarts(
    cluster: ThrowawayPostgres, tmp_path: os.PathLike[str]
) -> None:
    database_url = cluster.create_database(f"verify_{uuid.uuid4().hex[:8]}")
    process, url = start_server(database_url)  # which applies the migrations
    log = os.path.join(tmp_path, "verify.jsonl")
    args = ["--url", url, "--admin-token", ADMIN_TOKEN, "--operations", str(OPERATIONS), "--clients", "8",
            "--seed", "7", "--database-url", database_url, "--log", log, "--json",
            "--fault-restart-database", shlex.join(cluster.restart_command()), "--restart-interval", "1.5",
            "--fault-kill-workers", "--server-pid", str(process.pid), "--kill-interval", "3"]  # fmt: skip
    try:
        result = subprocess.run(
            [sys.executable, "-m", "slotguard", "verify", *args], capture_output=True, text=True, timeout=300
        )
        ready = httpx.get(f"{url}/readyz", timeout=10)
        assert process.poll() is None, "the server stopped"
    finally:
        stop_server(process)
    assert result.stdout.startswith("{"), result.stderr[-3000:]
    summary = json.loads(result.stdout)

    assert result.returncode == 0, summary["violations"][:20]
    assert summary["violations"] == []
    assert ready.status_code == 200
    faults = summary["faults"]
    assert faults["databaseRestarts"] >= 2, summary
    assert faults["workersKilled"] >= 1 and faults["workersRestarted"] == faults["workersKilled"], faults
    replies = summary["replies"]
    assert sum(n for key, n in replies.items() if " 503 " in key) > 0, replies
    assert sum(n for key, n in replies.items() if key.startswith("book 201")) > 0, replies
    assert summary["requestsInDoubt"] <= sum(n for key, n in replies.items() if " 503 " in key)
    with open(log) as lines:
        logged = [json.loads(line) for line in lines]
    restarts = [line for line in logged if line.get("fault") == "database_restart"]
    assert len(restarts) == faults["databaseRestarts"]
    assert all(r["started_at"] < r["ready_at"] and r["exit_code"] == 0 for r in restarts), restarts
    assert len(logged) - len(restarts) == summary["requests"] >= OPERATIONS


pytestmark = pytest.mark.e2e
