"""Schemathesis against the real server's /openapi.json, on both databases: bad input never becomes a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.e2e.conftest import Server

EXAMPLES_PER_ROUTE = 15


def test_no_route_answers_5xx_to_generated_input(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_ROUTE, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def answers_without_server_error(case: schemathesis.Case) -> None:
            reply = case.call(base_url=server.url, timeout=10)
            assert reply.status_code < 500, f"{case.method} {case.formatted_path}: {reply.status_code} {reply.text}"

        answers_without_server_error()


pytestmark = pytest.mark.e2e
