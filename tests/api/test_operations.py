"""What an operator sees: metrics after bookings, request ids, readiness while migrations are pending."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from slotguard.api.app import create_app
from slotguard.api.metrics import Metrics, booking_outcome
from slotguard.config import Settings
from slotguard.domain.errors import ServiceUnavailable, TransientStorageFailure
from slotguard.services.retry import retry_observer, with_retries
from slotguard.storage.migrations import alembic_config, head_revisions
from tests.api.conftest import ADMIN_TOKEN
from tests.e2e.salon import booking_body, local_time, new_salon

BOOK_ROUTE = "/api/v1/public/{slug}/book"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text page, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(page: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return page.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    reply = await client.get("/metrics")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    return samples(reply.text)


async def test_metrics_count_a_booking_a_conflict_and_the_requests_behind_them(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    book = f"/api/v1/public/{salon.slug}/book"
    before = await scrape(client)

    created = await client.post(book, json=booking_body(salon, local_time(4, 10), n=1))
    refused = await client.post(book, json=booking_body(salon, local_time(4, 10), n=2))
    after = await scrape(client)

    assert (created.status_code, refused.status_code) == (201, 409)
    assert value(after, "slotguard_bookings_total", outcome="created") == 1
    assert value(after, "slotguard_bookings_total", outcome="conflict") == 1
    assert value(after, "slotguard_bookings_total", outcome="unavailable") == 0
    for status in ("201", "409"):
        assert value(after, "slotguard_http_requests_total", method="POST", route=BOOK_ROUTE, status=status) == 1
    assert value(after, "slotguard_http_request_duration_seconds_count", method="POST", route=BOOK_ROUTE) == 2
    backlog = "slotguard_outbox_pending_messages"
    assert value(after, backlog) == value(before, backlog) + 1, "the confirmation waits in the outbox (no SMTP)"
    assert value(after, "slotguard_db_pool_connections_in_use") == 0, "every connection went back to the pool"


async def test_an_idempotent_replay_is_not_counted_as_another_booking(client: httpx.AsyncClient) -> None:
    salon = await new_salon(client, ADMIN_TOKEN)
    book, key = f"/api/v1/public/{salon.slug}/book", {"Idempotency-Key": str(uuid.uuid4())}
    body = booking_body(salon, local_time(5, 11))

    first = await client.post(book, json=body, headers=key)
    again = await client.post(book, json=body, headers=key)
    page = await scrape(client)

    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert value(page, "slotguard_bookings_total", outcome="created") == 1
    assert value(page, "slotguard_http_requests_total", method="POST", route=BOOK_ROUTE, status="201") == 2


async def test_routes_are_labelled_by_template_never_by_path(client: httpx.AsyncClient) -> None:
    secret = uuid.uuid4().hex
    await client.get(f"/api/v1/public/bookings/{secret}")
    await client.get(f"/no/such/{secret}")
    reply = await client.get("/metrics")

    assert secret not in reply.text
    page = samples(reply.text)
    assert value(page, "slotguard_http_requests_total", method="GET", route="/api/v1/public/bookings/{manage_token}",
                 status="404") == 1  # fmt: skip
    assert value(page, "slotguard_http_requests_total", method="GET", route="unmatched", status="404") == 1


async def test_every_reply_carries_a_request_id(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
    made_up = await client.get("/api/v1/public/nobody-here")
    unusable = await client.get("/healthz", headers={"X-Request-ID": "two words"})

    assert given.headers["X-Request-ID"] == "lb-7f3a.42"
    assert made_up.status_code == 404
    assert len(made_up.headers["X-Request-ID"]) == 32
    assert unusable.headers["X-Request-ID"] not in ("two words", made_up.headers["X-Request-ID"])


async def test_an_unexpected_error_is_a_500_envelope_with_its_request_id(sqlite_url: str) -> None:
    app = create_app(Settings(database_url=sqlite_url))

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://slotguard.test") as http:
        reply = await http.get("/broken", headers={"X-Request-ID": "bug-1"})
        page = await scrape(http)
    await app.state.database.dispose()

    assert reply.status_code == 500
    assert reply.json()["error"]["code"] == "INTERNAL_ERROR"
    assert reply.headers["X-Request-ID"] == "bug-1"
    assert value(page, "slotguard_http_requests_total", method="GET", route="/broken", status="500") == 1


async def test_retries_of_transient_failures_are_counted_by_whoever_observes_them() -> None:
    metrics = Metrics()
    failures = iter(range(2))

    async def flaky(_attempt: int) -> str:
        if next(failures, None) is not None:
            raise TransientStorageFailure("could not serialize access")
        return "done"

    async def always_failing(_attempt: int) -> str:
        raise TransientStorageFailure("database is locked")

    token = retry_observer.set(metrics)
    try:
        assert await with_retries(flaky) == "done"
        with pytest.raises(ServiceUnavailable):
            await with_retries(always_failing, attempts=3)
    finally:
        retry_observer.reset(token)
    page = samples(metrics.render(outbox_pending=None).decode())

    assert value(page, "slotguard_db_retries_total") == 2 + 2
    assert value(page, "slotguard_db_retries_exhausted_total") == 1


@pytest.fixture
async def unmigrated(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(Settings(database_url=url, admin_token=SecretStr(ADMIN_TOKEN)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slotguard.test") as http:
        yield http, url
    await app.state.database.dispose()


async def test_readyz_fails_while_migrations_are_pending_and_passes_once_applied(
    unmigrated: tuple[httpx.AsyncClient, str],
) -> None:
    client, url = unmigrated
    never_migrated = await client.get("/readyz")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "0001")
    behind = await client.get("/readyz")
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    current = await client.get("/readyz")

    for reply in (never_migrated, behind):
        assert reply.status_code == 503
        assert reply.headers["Retry-After"]
        assert reply.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "migrations are pending" in reply.json()["error"]["message"]
    assert "at 0001" in behind.json()["error"]["message"]
    assert current.status_code == 200, current.text
    assert (await client.get("/healthz")).status_code == 200
    assert "0001" not in head_revisions()


async def test_metrics_still_answer_while_the_database_is_unreachable() -> None:
    app = create_app(Settings(database_url="postgresql://postgres@127.0.0.1:1/nowhere"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slotguard.test") as http:
        assert (await http.get("/readyz")).status_code == 503
        page = await scrape(http)
    await app.state.database.dispose()

    assert ("slotguard_outbox_pending_messages", frozenset()) not in page, "no made-up backlog"
    assert value(page, "slotguard_http_requests_total", method="GET", route="/readyz", status="503") == 1
    assert value(page, "slotguard_db_pool_connections_max") == 10  # SLOTGUARD_POOL_SIZE, kept open, no overflow


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (201, None, "created"),
        (409, "TIME_CONFLICT", "conflict"),
        (409, "SLOT_UNAVAILABLE", "conflict"),
        (409, "HOLD_EXPIRED", "hold_expired"),
        (409, "IDEMPOTENCY_IN_PROGRESS", None),
        (502, "PAYMENT_PROVIDER_ERROR", "rolled_back"),
        (503, "SERVICE_UNAVAILABLE", "unavailable"),
        (422, "OUTSIDE_AVAILABILITY", "rejected"),
        (429, "RATE_LIMITED", "rejected"),
        (500, "INTERNAL_ERROR", "error"),
    ],
)
def test_each_reply_of_a_booking_route_has_one_outcome(status: int, code: str | None, outcome: str | None) -> None:
    assert booking_outcome(status, code) == outcome


async def test_a_client_that_hangs_up_before_its_body_arrives_is_a_499_not_a_server_error(sqlite_url: str) -> None:
    """A buyer who closes the connection while sending is nobody's fault on the server: counted and logged
    as 499 (client closed request), never as a 500 that would page whoever watches the errors."""
    app = create_app(Settings(database_url=sqlite_url))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": "/api/v1/public/some-salon/book", "raw_path": b"/api/v1/public/some-salon/book",
        "query_string": b"", "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
        "headers": [(b"host", b"slotguard.test"), (b"content-type", b"application/json"), (b"content-length", b"80")],
    }  # fmt: skip
    parts = iter([{"type": "http.request", "body": b'{"serviceId": ', "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return next(parts)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slotguard.test") as http:
        page = await scrape(http)
    await app.state.database.dispose()

    assert sent == []
    assert value(page, "slotguard_http_requests_total", method="POST", route=BOOK_ROUTE, status="499") == 1
    assert value(page, "slotguard_http_requests_total", method="POST", route=BOOK_ROUTE, status="500") == 0
