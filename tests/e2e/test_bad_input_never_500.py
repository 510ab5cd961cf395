"""Schemathesis against the real server's /openapi.json, on both databases: bad input never becomes a 5xx."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import HookContext
from schemathesis.schemas import BaseSchema

from tests.e2e.conftest import Server
from tests.e2e.salon import Salon, new_salon

EXAMPLES_PER_ROUTE = 15
HOSTILE_EXAMPLES_PER_ROUTE = 10
# The owner's live stream never ends by itself: a request reads it until the read timeout, a pause with
# nothing sent (no booking arrives meanwhile). It runs the hostile Last-Event-ID's query at once and repeats
# it every half second, so its first seconds show what ten would.
STREAM_READ_SECONDS = 4


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


# -- hostile input: what the schema allows but a careless parser does not survive ----------------------------

EDGE_TIMES = [
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:30:00+05:00",
    "9999-12-31T22:00:00Z",
    "0001-01-01T00:00:00Z",
]
ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12)), timezone(timedelta(minutes=30))]
# Header values travel as Latin-1: these are the characters a client can put there, `²` and `ß` among them.
LATIN1_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_categories=["Cc"]), max_size=20
).map(str.strip)  # a header value cannot begin or end with white space
HUGE_NUMBERS = st.one_of(st.integers(min_value=-(10**30), max_value=10**30), st.sampled_from([2**63, -(2**63) - 1]))
HOSTILE_TIMES = st.one_of(
    st.sampled_from(EDGE_TIMES),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.sampled_from(ZONES)).map(
        datetime.isoformat
    ),
)
HOSTILE_DAYS = st.dates().map(date.isoformat)


def cursor_of(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode()


HOSTILE_CURSORS = st.one_of(
    HUGE_NUMBERS.map(cursor_of),
    st.builds(lambda t: cursor_of(t, uuid.uuid4()), HOSTILE_TIMES),
    st.builds(cursor_of, LATIN1_TEXT),
)


def hostile_headers(owner_key: str) -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries(
        {"Authorization": st.one_of(st.just(f"Bearer {owner_key}"), LATIN1_TEXT.map("Bearer {}".format))},
        optional={
            "Last-Event-ID": st.one_of(LATIN1_TEXT, HUGE_NUMBERS.map(str)),
            "Stripe-Signature": st.builds("t={},v1={}".format, st.one_of(LATIN1_TEXT, HUGE_NUMBERS), LATIN1_TEXT),
            "Idempotency-Key": LATIN1_TEXT,
        },
    )


def made_hostile(case: schemathesis.Case, data: st.DataObject, salon: Salon) -> dict[str, str]:
    """Point the case at a real business (so owner routes get past authentication to parse their input),
    put huge numbers and hostile cursors into its query, and return hostile headers to send with it."""
    if "slug" in (case.path_parameters or {}):
        case.path_parameters = {**(case.path_parameters or {}), "slug": salon.slug}
    for name, value in list((case.query or {}).items()):
        if name == "cursor":
            case.query[name] = data.draw(HOSTILE_CURSORS)
        elif isinstance(value, int) and data.draw(st.booleans()):
            case.query[name] = data.draw(HUGE_NUMBERS)
    return data.draw(hostile_headers(salon.api_key))


def test_no_route_answers_5xx_to_hostile_input(server: Server) -> None:
    """Extreme times and days in every time field, huge numbers, hostile cursors and non-ASCII headers,
    sent as a business's owner too: found by generation, not listed by hand."""
    schemathesis.openapi.format("date-time", HOSTILE_TIMES)
    schemathesis.openapi.format("date", HOSTILE_DAYS)
    salon = asyncio.run(salon_of(server))
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    with live_streams_read_briefly():
        every_route_answers_hostile_input(server, salon, schema)


def every_route_answers_hostile_input(server: Server, salon: Salon, schema: BaseSchema) -> None:
    for operation in [result.ok() for result in schema.get_all_operations()]:

        @given(case=operation.as_strategy(), data=st.data())
        @settings(
            max_examples=HOSTILE_EXAMPLES_PER_ROUTE,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        def answers_without_server_error(case: schemathesis.Case, data: st.DataObject) -> None:
            headers = made_hostile(case, data, salon)
            reply = case.call(base_url=server.url, timeout=10, headers=headers)
            assert reply.status_code < 500, f"{case.method} {case.formatted_path}: {reply.status_code} {reply.text}"

        answers_without_server_error()


@contextmanager
def live_streams_read_briefly() -> Iterator[None]:
    """The live stream read for STREAM_READ_SECONDS, every other reply waited for as long as before. A hook,
    so that the generated test functions, whose source seeds their derandomized examples, stay as they are."""

    def before_call(_context: HookContext, case: schemathesis.Case, kwargs: dict[str, Any]) -> None:
        if case.operation.path.endswith("/events"):
            kwargs["timeout"] = (kwargs["timeout"], STREAM_READ_SECONDS)  # (connect, read)

    schemathesis.hook(before_call)
    try:
        yield
    finally:
        schemathesis.hooks.unregister(before_call)


async def salon_of(server: Server) -> Salon:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        return await new_salon(client, server.admin_token)
