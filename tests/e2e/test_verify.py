"""`slotguard verify`, CI-sized, against the real server; on PostgreSQL with its connections being killed."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.e2e.conftest import Server


def test_random_bookings_and_cancels_keep_every_invariant(server: Server, tmp_path: os.PathLike[str]) -> None:
    faults = []
    if server.database_url.startswith("postgresql"):
        faults = ["--database-url", server.database_url, "--fault-terminate-connections"]
    log = os.path.join(tmp_path, "verify.jsonl")
    args = ["--url", server.url, "--admin-token", server.admin_token, "--operations", "1500", "--clients", "12",
            "--seed", "5", "--log", log, "--json", *faults]  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-m", "slotguard", "verify", *args], capture_output=True, text=True, timeout=300
    )
    summary = json.loads(result.stdout)

    assert result.returncode == 0, summary["violations"][:20]
    assert summary["violations"] == []
    assert summary["replies"].get("book 201", 0) > 10
    assert summary["replies"].get("book 409 TIME_CONFLICT", 0) > 10
    assert summary["replies"].get("cancel 200", 0) > 10
    if faults:
        assert summary["faultsInjected"] > 0
    with open(log) as lines:
        assert sum(1 for _ in lines) == 1500


pytestmark = pytest.mark.e2e
