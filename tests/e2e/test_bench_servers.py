"""`bench.run` runs slotguard and the seeds' approach the same way: each worker of either server on a listening
socket of its own, or (`--shared-socket`) each server's workers on one."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench.harness import baseline_server, listening_sockets_once_started

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("socket_per_worker", "sockets"), [(True, 2), (False, 1)])
def test_the_seeds_approach_listens_as_slotguard_does(tmp_path: Path, socket_per_worker: bool, sockets: int) -> None:
    database_url = f"sqlite:///{tmp_path}/baseline.db"
    with baseline_server(database_url, socket_per_worker=socket_per_worker) as (url, _process):
        assert listening_sockets_once_started(int(url.rsplit(":", 1)[1]), sockets) == sockets
        assert httpx.get(f"{url}/healthz").status_code == 200
