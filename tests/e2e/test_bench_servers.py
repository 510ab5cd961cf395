"""`bench.run` runs slotguard and the seeds' approach the same way: each worker of either server on a listening
socket of its own, or (`--shared-socket`) each server's workers on one."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from bench.harness import listening_sockets
from bench.run import baseline_server

pytestmark = pytest.mark.e2e


def _sockets_once_started(url: str, wanted: int) -> int:
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 60
    while listening_sockets(port) < wanted and time.monotonic() < deadline:  # a worker may still be starting
        time.sleep(0.05)
    return listening_sockets(port)


@pytest.mark.parametrize(("socket_per_worker", "sockets"), [(True, 2), (False, 1)])
def test_the_seeds_approach_listens_as_slotguard_does(tmp_path: Path, socket_per_worker: bool, sockets: int) -> None:
    with baseline_server(f"sqlite:///{tmp_path}/baseline.db", socket_per_worker) as (url, _process):
        assert _sockets_once_started(url, sockets) == sockets
        assert httpx.get(f"{url}/healthz").status_code == 200

