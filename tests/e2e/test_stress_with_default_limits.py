"""`slotguard stress` against a server that keeps the public rate limit on (the default): its fixture
business, raced from one address, turns the limit off for itself, so every racer is answered 201 or 409."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ADMIN_TOKEN, start_server, stop_server
from tests.e2e.test_stress import stress


@pytest.mark.e2e
def test_stress_fixture_is_not_rate_limited_by_the_servers_default(sqlite_url: str) -> None:
    process, url = start_server(sqlite_url, extra_env={"SLOTGUARD_RATE_LIMIT": "5/minute"})
    try:
        env = {"API_URL": url, "CONCURRENT_REQUESTS": "12", "TEST_ITERATIONS": "2"}
        code, report = stress("--admin-token", ADMIN_TOKEN, env=env)
    finally:
        stop_server(process)
    assert code == 0, report
    assert report["counts"] == {"total": 24, "successful": 2, "conflicts": 22, "errors": 0}
