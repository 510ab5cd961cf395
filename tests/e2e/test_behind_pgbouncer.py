"""The race suite's core scenarios against `slotguard serve --workers 2` whose database URL is PgBouncer in
transaction mode, where consecutive transactions of one client connection land on different server connections.

The server migrates a new database through the pooler on start, runs its outbox worker through it, and
serves the races; the stored state is read straight from PostgreSQL. The scenarios are the race suite's own
test functions, run here against this module's `server`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from tests.conftest import POSTGRES_ADMIN_URL
from tests.e2e import test_appointment_races, test_hold_cap_races, test_seat_races
from tests.e2e.conftest import Server, start_server, stop_server
from tests.e2e.pgbouncer import pgbouncer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    name = f"slotguard_pgbouncer_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    direct_url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        with pgbouncer(direct_url) as pooler:
            process, url = start_server(pooler.url(direct_url), extra_env={"SLOTGUARD_OUTBOX_WORKER": "true"})
            yield Server(url=url, database_url=direct_url)
            stop_server(process)
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


test_hundred_racers_for_one_time_get_one_booking = (
    test_appointment_races.test_hundred_racers_for_one_time_get_one_booking
)
test_overlapping_requests_of_mixed_durations_never_overlap = (
    test_appointment_races.test_overlapping_requests_of_mixed_durations_never_overlap
)
test_concurrent_checkouts_never_oversell = test_seat_races.test_concurrent_checkouts_never_oversell
test_concurrent_holds_on_the_last_seat_have_one_winner = (
    test_seat_races.test_concurrent_holds_on_the_last_seat_have_one_winner
)
test_a_held_slot_rejects_ten_racers_and_accepts_its_holder = (
    test_seat_races.test_a_held_slot_rejects_ten_racers_and_accepts_its_holder
)
test_a_cancel_racing_bookings_of_the_freed_seat_never_leaves_two = (
    test_seat_races.test_a_cancel_racing_bookings_of_the_freed_seat_never_leaves_two
)
test_racing_holds_from_one_client_leave_exactly_the_cap_and_every_other_seat_free = (
    test_hold_cap_races.test_racing_holds_from_one_client_leave_exactly_the_cap_and_every_other_seat_free
)
