"""`slotguard stress` run as a user would, against the real server on both databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from tests.e2e.conftest import Server, free_port
from tests.e2e.salon import new_salon


def stress(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "-m", "slotguard", "stress", "--json", *args],
        env=os.environ | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, json.loads(result.stdout) if result.stdout.strip().startswith("{") else {}


def test_stress_on_its_own_fixture_passes_with_one_winner_per_iteration(server: Server) -> None:
    env = {"API_URL": server.url, "CONCURRENT_REQUESTS": "12", "TEST_ITERATIONS": "3"}
    code, report = stress("--admin-token", server.admin_token, env=env)

    assert code == 0, report
    assert report["ok"] is True
    assert report["counts"] == {"total": 36, "successful": 3, "conflicts": 33, "errors": 0}
    assert report["storedBookings"] == report["expectedBookings"] == 3
    assert report["violations"] == []
    assert 0 < report["latencyMs"]["p50"] <= report["latencyMs"]["p99"] <= report["latencyMs"]["max"]


def test_stress_shows_its_progress_as_plain_lines_when_not_at_a_terminal(server: Server) -> None:
    command = [sys.executable, "-m", "slotguard", "stress", "--url", server.url, "--admin-token", server.admin_token]
    command += ["--concurrency", "4", "--iterations", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout
    description = "stress: 4 racers x 2 iterations (appointment)"
    assert result.stderr.splitlines()[0] == f"{description}: started, 2 in all"
    assert result.stderr.splitlines()[-1].startswith(f"{description}: finished, 2/2 after ")


async def test_stress_against_an_existing_business_skips_its_taken_times(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
    target = [
        "--slug", salon.slug, "--service-id", salon.service_ids["cut"],
        "--staff-id", salon.staff_ids[0], "--api-key", salon.api_key,
    ]  # fmt: skip
    for _ in range(2):  # the second run must find fresh times, not race for the first run's bookings
        code, report = stress("--url", server.url, "--concurrency", "8", "--iterations", "2", *target)
        assert code == 0, report
        assert report["counts"]["successful"] == 2


def test_stress_for_one_seat_slots_has_one_winner_each(server: Server) -> None:
    args = ["--url", server.url, "--admin-token", server.admin_token, "--kind", "slot", "--concurrency", "12",
            "--iterations", "3"]  # fmt: skip
    code, report = stress(*args)

    assert code == 0, report
    assert report["counts"] == {"total": 36, "successful": 3, "conflicts": 33, "errors": 0}
    assert report["storedBookings"] == report["expectedBookings"] == 3
    assert report["remaining"] == [0, 0, 0]


def test_stress_for_seats_seats_as_many_parties_as_fit(server: Server) -> None:
    args = ["--url", server.url, "--admin-token", server.admin_token, "--kind", "seats", "--capacity", "7",
            "--guests", "2", "--concurrency", "12", "--iterations", "2"]  # fmt: skip
    code, report = stress(*args)

    assert code == 0, report
    assert report["counts"] == {"total": 24, "successful": 6, "conflicts": 18, "errors": 0}
    assert report["storedBookings"] == report["expectedBookings"] == 6
    assert report["remaining"] == [1, 1]


async def test_stress_for_seats_of_an_existing_business_needs_no_staff(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        salon = await new_salon(client, server.admin_token)
    target = ["--slug", salon.slug, "--service-id", salon.service_ids["cut"], "--api-key", salon.api_key]
    code, report = stress("--url", server.url, "--kind", "seats", "--capacity", "4", "--concurrency", "6", *target)

    assert code == 0, report
    assert (report["counts"]["successful"], report["remaining"]) == (2, [0])


def test_stress_exits_non_zero_when_the_server_is_unreachable() -> None:
    code, report = stress("--url", f"http://127.0.0.1:{free_port()}", "--admin-token", "x", "--concurrency", "2")
    assert code == 1
    assert report["ok"] is False
    assert "ConnectError" in report["setupError"]


def test_stress_exits_non_zero_when_the_operator_token_is_wrong(server: Server) -> None:
    code, report = stress("--url", server.url, "--admin-token", "wrong", "--concurrency", "2")
    assert code == 1
    assert "401" in report["setupError"]


pytestmark = pytest.mark.e2e
